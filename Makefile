# OzonSeat: `make run` starts the app with a demo seller, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000
# The suite runs on two processes (pytest-xdist; each keeps its own test database and Redis key prefix).
PYTEST_ARGS ?= -n 2
# Links in e-mails (and the printed addresses) point where `make run` serves.
SITE_URL ?= http://127.0.0.1:$(PORT)
export SITE_URL

.PHONY: run test lint format migrate demo worker messages clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "OzonSeat needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Web app, Celery worker and beat on the embedded defaults (SQLite, filesystem broker, local outbox).
run: $(STAMP)
	DEBUG=1 $(BIN)/python manage.py migrate --no-input
	DEBUG=1 $(BIN)/python manage.py create_demo_seller
	@echo "E-mails land in the local outbox: $(SITE_URL)/dev/outbox/"
	@DEBUG=1 sh deploy/run-dev.sh $(PORT) $(BIN)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: $(STAMP)
	DEBUG=1 $(BIN)/python manage.py makemessages --all --no-location --ignore=.venv --ignore=tests --ignore=bench
	DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var .pytest_cache
