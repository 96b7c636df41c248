# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/sessions_api
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: install run test test-sqlite test-postgres lint typecheck schema check-schema fuzz soak bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# A local secret for development, made once and kept out of git.
.secret_key:
	@$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

## run: venv, install, migrate, then gunicorn + Celery worker + beat + outbox relay (Procfile) on
## 127.0.0.1:8000; live events on the local Redis when it answers
run: install .secret_key
	@set -e; \
	export DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat .secret_key)}"; \
	if [ -z "$${CELERY_BROKER_URL:-}" ] && ! $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5672), 1)" 2>/dev/null; then \
	  echo "RabbitMQ is not answering on 127.0.0.1:5672: using the embedded broker (kombu filesystem transport in .run/broker)."; \
	  export CELERY_BROKER_URL=filesystem://; \
	fi; \
	if [ -z "$${EVENTS_REDIS_URL:-}$${CACHE_URL:-}" ]; then \
	  if $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 6379), 1)" 2>/dev/null; then \
	    export EVENTS_REDIS_URL=redis://127.0.0.1:6379/2; \
	    echo "Live events on the Redis at 127.0.0.1:6379 (database 2)."; \
	  else \
	    echo "Redis is not answering on 127.0.0.1:6379: live events are off (the console polls)."; \
	  fi; \
	fi; \
	mkdir -p .run; \
	$(PY) manage.py migrate --noinput; \
	$(PY) manage.py collectstatic --noinput --verbosity 0; \
	exec honcho start --procfile Procfile

## test: the whole suite on SQLite, then again on PostgreSQL (tests that start their
## own servers and databases -- browser, fuzzing, faults, scale-out -- run once)
test: install test-sqlite test-postgres

test-sqlite: install
	$(VENV)/bin/pytest

test-postgres: install
	@if $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then \
	  DATABASE_URL=$(PG_TEST_URL) WORKER_KILLS=5 $(VENV)/bin/pytest --ignore=tests/browser -m "not standalone"; \
	elif [ "$${CI:-}" = "true" ]; then \
	  echo "PostgreSQL is not reachable on 127.0.0.1:5432, and CI=true requires it." >&2; exit 1; \
	else \
	  echo "SKIPPED: the PostgreSQL run (nothing answers on 127.0.0.1:5432)."; \
	fi

## lint: ruff over the code and tests
lint: install
	$(VENV)/bin/ruff check .

## typecheck: mypy (django-stubs, djangorestframework-stubs) over both apps
typecheck: install
	$(VENV)/bin/mypy

## schema: regenerate openapi/schema.yaml and, where Node is installed, the TypeScript
## client's types, dist/ and the console's bundle (commit them with every API change)
schema: install .secret_key
	env -u SESSION_COOKIE_NAME DJANGO_SECRET_KEY="$$(cat .secret_key)" $(PY) manage.py spectacular --validate --fail-on-warn --file openapi/schema.yaml
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then \
	  cd clients/typescript && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run --silent regenerate; \
	else \
	  echo "SKIPPED: the TypeScript client's types (no Node.js here); a test fails while they lag behind the schema."; \
	fi

## check-schema: fail when openapi/schema.yaml differs from what the code generates
check-schema: install
	$(VENV)/bin/pytest -q tests/test_schema.py -k committed

## fuzz: the fuzzing of the test suite, deeper and random each time: schemathesis with 20
## times the examples, and the in-process hostile-input fuzzer with 200 per input
fuzz: install
	FUZZ_EXAMPLES=500 FUZZ_HOSTILE_EXAMPLES=200 $(VENV)/bin/pytest -q -s tests/test_fuzz.py tests/test_hostile_input.py

## soak: 50 clients for 5 minutes on PostgreSQL, Redis and RabbitMQ (not part of test)
soak: install
	$(PY) bench/soak.py --seconds 300

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .run staticfiles db.sqlite3* .pytest_cache .ruff_cache
