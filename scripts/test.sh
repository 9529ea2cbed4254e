#!/usr/bin/env bash
# The whole test command (`make test`, `.ci/run`): static checks, then the
# pytest suite on SQLite and again on PostgreSQL. PostgreSQL is the server
# named by DATABASE_URL when that is a postgres:// URL, else a throwaway
# cluster started (and always stopped) by scripts/with-postgres.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export PYTHONDONTWRITEBYTECODE=1

step() { printf '\n== %s\n' "$*"; }

step "ruff"
"$BIN/ruff" check .
"$BIN/ruff" format --check .

step "import contracts (lint-imports: apps depend downwards only)"
"$BIN/lint-imports"

step "mypy (types)"
# The django-stubs plugin loads the settings, which need DEBUG or SECRET_KEY.
DEBUG=true "$BIN/mypy"

step "makemigrations --check"
DEBUG=true "$BIN/python" manage.py makemigrations --check --dry-run

step "OpenAPI schema (spectacular --validate --fail-on-warn)"
schema=$(mktemp)
DEBUG=true "$BIN/python" manage.py spectacular --validate --fail-on-warn --file "$schema"
rm -f "$schema"

step "check --deploy (production settings)"
DEBUG=false \
SECRET_KEY="$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(50))')" \
ALLOWED_HOSTS=events.example.org \
DATABASE_URL=sqlite:///deploy-check.sqlite3 \
    "$BIN/python" manage.py check --deploy --fail-level WARNING
rm -f deploy-check.sqlite3

step "pytest on SQLite"
env -u DATABASE_URL "$BIN/pytest" "$@"

step "pytest on PostgreSQL"
case "${DATABASE_URL:-}" in
    postgres://*|postgresql://*) "$BIN/pytest" "$@" ;;
    *) bash scripts/with-postgres.sh "$BIN/pytest" "$@" ;;
esac
