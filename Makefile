# OzonSeat: `make run` starts the app with a demo seller, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000

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
	@echo "E-mails land in the local outbox: http://127.0.0.1:$(PORT)/dev/outbox/"
	@trap 'kill 0' INT TERM EXIT; \
	DEBUG=1 $(BIN)/celery -A ozonseat worker --beat --loglevel=INFO --pool=solo & \
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

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
