# The two set-up commands: `make run` and `make test`. Each installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint docs system-deps jars clean

$(STAMP): pyproject.toml constraints.txt clients/publisher/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]' -e './clients/publisher[async]'
	touch $(STAMP)

# kcat (an independent Kafka client, used by tests), Java/Maven for the broker, and PostgreSQL's
# server binaries (the tests start a private server from /usr/lib/postgresql/*/bin). The drop-in
# stops the package from creating a system cluster ("main" on 5432) that nobody here uses.
system-deps:
	@command -v kcat >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat; }
	@compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || { mkdir -p /etc/postgresql-common/createcluster.d \
		&& echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/salesledger.conf \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }
	@command -v java >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; }
	@command -v mvn >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven; }

jars: $(STAMP) system-deps
	$(PY) -m services.cli kafka fetch

run: jars
	$(PY) -m services.cli run

test: jars lint
	$(PY) -m pytest

# Layers first (the house's floors and rooms, pyproject.toml [tool.importlinter]): it fails fastest.
lint: $(STAMP)
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy events sales projections services clients/publisher/salesledger_publisher

# Regenerate every generated document (tests fail when one is stale).
docs: $(STAMP)
	$(PY) -m services.settings docs/configuration.md
	$(PY) -m events.schema docs/schemas docs/events.md
	$(PY) -m services.contracts docs/

clean:
	rm -rf $(VENV) .data .pytest_cache
