# The two commands of the README:
#   make run   - install into .venv, migrate, seed demo data, serve http://127.0.0.1:8000
#                with a background worker (mails) beside it
#   make test  - install into .venv, lint, check, and run the suite on SQLite and PostgreSQL
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
DEV_ENV := DEBUG=true
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test migrate lint bench-checkin profile-checkin bench-csv bench-cancel bench-api bench-batch clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || \
		{ echo "Python 3.11 is required (found $$($(PYTHON) --version 2>&1)); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

migrate: install
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py createcachetable

run: migrate
	@if $(DEV_ENV) $(BIN)/python manage.py help seed_demo >/dev/null 2>&1; then \
		$(DEV_ENV) $(BIN)/python manage.py seed_demo; fi
	$(DEV_ENV) BIN=$(BIN) HOST=$(HOST) PORT=$(PORT) bash scripts/run.sh

test: install
	bash scripts/test.sh

lint: install
	$(BIN)/ruff check .

# Benchmarks (not tests): see the README's Benchmarks section.
# PostgreSQL's default 128 MB of shared buffers is a placeholder no
# production server keeps; 1 GB holds the 1,000,000-registration tables.
bench-checkin: install
	PG_SERVER_OPTIONS="-c shared_buffers=1GB" bash scripts/with-postgres.sh $(BIN)/python bench/checkin_bench.py

# Where a scan's time goes, in one process (wall and CPU time, cProfile).
profile-checkin: install
	bash scripts/with-postgres.sh $(BIN)/python bench/scan_inprocess.py --profile scan --sort tottime

bench-api: install
	PG_SERVER_OPTIONS="-c shared_buffers=1GB" bash scripts/with-postgres.sh $(BIN)/python bench/api_bench.py

bench-batch: install
	PG_SERVER_OPTIONS="-c shared_buffers=1GB" bash scripts/with-postgres.sh $(BIN)/python bench/batch_bench.py

bench-cancel: install
	bash scripts/with-postgres.sh $(BIN)/python bench/cancel_bench.py

bench-csv: install
	$(BIN)/python bench/csv_memory.py
	bash scripts/with-postgres.sh $(BIN)/python bench/csv_memory.py

clean:
	rm -rf $(VENV) db.sqlite3* staticfiles .pytest_cache .ruff_cache test-artifacts
