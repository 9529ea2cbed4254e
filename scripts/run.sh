#!/usr/bin/env bash
# `make run`: the development server and a background worker together, in
# one terminal. Ctrl+C (or SIGTERM) stops both: the worker finishes the task
# at hand first.
set -uo pipefail
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}

"$BIN/python" manage.py run_worker &
worker=$!
"$BIN/python" manage.py runserver "$HOST:$PORT" &
server=$!
stop() {
    trap - INT TERM EXIT
    kill -TERM "$server" "$worker" 2>/dev/null
    wait "$server" "$worker" 2>/dev/null
}
trap 'stop; exit 130' INT TERM
trap stop EXIT
# Whichever ends first ends the other.
wait -n "$server" "$worker"
