# passhub: two commands on a fresh machine with Python 3.11+:
#   make run    start NATS, PostgreSQL, the OIDC provider, the four services and the portal
#               make run LRS=1 also starts a local LRS (Ralph) and the xAPI bridge
#   make test   run the whole test suite against real NATS and PostgreSQL
#   make demo   (beside `make run`) load a realistic year, to see a living system
#   make fuzz   fuzz every service's OpenAPI document longer than `make test` does

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PKGS   := -e 'shared[dev]' -e services/recruitment -e services/sessions -e services/attendance -e services/recognition -e services/portal -e integrations/xapi

.PHONY: venv venv-ralph run demo test fuzz lint bench fmt clean

venv: $(STAMP)

$(STAMP): shared/pyproject.toml services/*/pyproject.toml integrations/*/pyproject.toml requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(PKGS) -r requirements-dev.txt
	touch $(STAMP)

run: venv $(if $(LRS),venv-ralph)
	$(BIN)/passhub dev up $(if $(LRS),--lrs)

# Ralph, the local LRS of `make run LRS=1` and of the xAPI tests, in a venv of its own (it
# pins FastAPI and uvicorn to versions other than passhub's)
venv-ralph: .venv-ralph/.installed

.venv-ralph/.installed: requirements-ralph.txt
	$(PYTHON) -m venv .venv-ralph
	.venv-ralph/bin/pip install --quiet -r requirements-ralph.txt
	touch $@

# with `make run` going in another terminal: a realistic year through the services' APIs
demo: venv
	$(BIN)/passhub demo

test: venv
	$(BIN)/pytest $(PYTEST_ARGS)

# schemathesis against the four services' OpenAPI documents: FUZZ_EXAMPLES per operation and
# generation mode, new ones each run (`make test` runs the same few each time)
FUZZ_EXAMPLES ?= 60
fuzz: venv
	PASSHUB_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) PASSHUB_FUZZ_RANDOM=1 $(BIN)/pytest tests/fuzz -s $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -q -p no:cacheprovider tests/test_migrations_match_tables.py

fmt: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: venv
	$(BIN)/python -m bench.kit

clean:
	rm -rf var
