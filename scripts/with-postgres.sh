#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster:
#   scripts/with-postgres.sh CMD [ARGS...]
# initdb in a temp dir (as the postgres user when run as root: initdb refuses
# root), start on a free loopback port, export DATABASE_URL, run CMD, and
# always stop the cluster and delete it. PG_SERVER_OPTIONS adds server
# options (e.g. "-c shared_buffers=1GB" for the benchmark).
set -euo pipefail

pg_bin=""
for dir in "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")" /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then pg_bin=$dir; break; fi
done
if [ -z "$pg_bin" ]; then
    echo "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: install them with 'apt-get install postgresql' (Debian/Ubuntu) or set DATABASE_URL=postgres://... to an existing server." >&2
    exit 1
fi

tmp=$(mktemp -d -t eventmaster-pg.XXXXXX)
as_pg=()
if [ "$(id -u)" = 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        echo "Running as root needs a 'postgres' system user for initdb (apt-get install postgresql creates it)." >&2
        exit 1
    fi
    chown postgres "$tmp"
    as_pg=(runuser -u postgres --)
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

stop_cluster() {
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$tmp/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap stop_cluster EXIT
trap 'exit 130' INT TERM

"${as_pg[@]}" "$pg_bin/initdb" -D "$tmp/data" -U postgres -A trust -E UTF8 --no-sync >"$tmp/initdb.log" 2>&1 \
    || { cat "$tmp/initdb.log" >&2; exit 1; }
# Durability is irrelevant for a throwaway test cluster; speed is not.
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 start -o \
    "-p $port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 ${PG_SERVER_OPTIONS:-}" \
    >/dev/null || { cat "$tmp/server.log" >&2; exit 1; }

export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (throwaway cluster in $tmp)"
"$@"
