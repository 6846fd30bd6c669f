# The two set-up commands: `make run` and `make test`. Each installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint docs system-deps jars vendor clean

$(STAMP): pyproject.toml constraints.txt clients/publisher/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]' -e './clients/publisher[async]'
	touch $(STAMP)

# kcat (an independent Kafka client, used by tests), Java/Maven for the broker, Prometheus (the
# server, promtool and Alertmanager: the metrics and alert-rule tests run them), and PostgreSQL's
# server binaries (the tests start a private server from /usr/lib/postgresql/*/bin). The drop-in
# stops the package from creating a system cluster ("main" on 5432) that nobody here uses.
system-deps:
	@command -v kcat >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat; }
	@compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || { mkdir -p /etc/postgresql-common/createcluster.d \
		&& echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/salesledger.conf \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }
	@command -v java >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; }
	@command -v mvn >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven; }
	@command -v promtool >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; }
	@command -v prometheus-alertmanager >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-alertmanager; }
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm; }
	@command -v chromedriver >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

# The dashboard's chart library (docs/dashboard.md), fetched from the npm registry at build time into
# a git-ignored folder and checked against its pinned digest: the worker serves it, no CDN at run time.
UI_VENDOR := services/ui/static/vendor
CHARTJS := chart.js-4.6.1.tgz
CHARTJS_SHA256 := 9345dacdf4bb4c5d40321f4b9aafab6fe676d37a534fc0bc2d17c4c4e29c4f00
vendor: $(UI_VENDOR)/chart.umd.js
$(UI_VENDOR)/chart.umd.js: | system-deps
	mkdir -p $(UI_VENDOR)
	cd $(UI_VENDOR) && npm pack chart.js@4.6.1 --silent >/dev/null \
		&& echo "$(CHARTJS_SHA256)  $(CHARTJS)" | sha256sum -c --quiet \
		&& tar xzf $(CHARTJS) --strip-components=2 package/dist/chart.umd.js \
		&& tar xzf $(CHARTJS) --strip-components=1 package/LICENSE.md && rm $(CHARTJS)

jars: $(STAMP) system-deps
	$(PY) -m services.cli kafka fetch

# Logs for humans here (SALESLEDGER_LOG_FORMAT=text); workers default to JSON lines (docs/operations.md).
run: jars vendor
	SALESLEDGER_LOG_FORMAT=$${SALESLEDGER_LOG_FORMAT:-text} $(PY) -m services.cli run

test: jars vendor lint
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
	$(PY) -m deploy.dashboards

clean:
	rm -rf $(VENV) .data .pytest_cache
