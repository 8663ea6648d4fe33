# make run: a fresh machine with Python 3.11+ to the running app with demo data.
# make test: the whole suite, against PostgreSQL and Redis on 127.0.0.1.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
DEMO_CUSTOMERS ?= 500

.PHONY: run test prod-check install install-dev lint format migrate web worker beat clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

.env:
	cp .env.example .env

run: install .env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --customers $(DEMO_CUSTOMERS) --if-empty
	$(PY) manage.py create_owner
	@echo "Starting the web server, a Celery worker and beat; Ctrl-C stops all three."
	@trap 'kill 0' INT TERM EXIT; \
	$(VENV)/bin/celery -A crm worker --loglevel=warning --concurrency=1 & \
	$(VENV)/bin/celery -A crm beat --loglevel=warning & \
	echo "Open http://127.0.0.1:$(PORT)/ and log in with the owner login above."; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install-dev
	@bash .ci/ensure-test-services
	$(VENV)/bin/pytest --create-db

# The app deployed as README's production section says (gunicorn, Celery worker and
# beat, PostgreSQL, Redis, SMTP), used over HTTP, then stopped (.ci/prod_check.py).
prod-check: install-dev
	@bash .ci/ensure-test-services
	$(PY) .ci/prod_check.py

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
