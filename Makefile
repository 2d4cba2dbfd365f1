# Two commands: `make run` sets everything up and starts the product; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
VENDOR := static/vendor
DEMO_DAYS ?= 14
CAMET_TEST_MYSQL_URL ?= mysql+pymysql://root@127.0.0.1:3306/test
PYTEST_ARGS ?=
PYTEST_WORKERS ?= 2

.PHONY: run test test-clock setup deps assets i18n db lint bench faults fuzz clean

# DEMO_LIVE=0 make run: no plant simulator posting live detections next to the servers.
DEMO_LIVE ?= 1

run: setup db
	DEMO_LIVE=$(DEMO_LIVE) $(PY) manage.py serve

# The whole suite on $(PYTEST_WORKERS) workers, the date-sensitive tests (marker `clock`) also at
# a month end, a year end and a leap day, all in one session; no test measures the whole
# database server, so it passes on a MariaDB that other clients use at the same time.
CLOCK_EDGES ?= 2027-01-31T23:59:00-03:00 2026-12-31T23:59:00-03:00 2028-02-29T12:00:00-03:00
test: setup
	CAMET_TEST_MYSQL_URL="$(CAMET_TEST_MYSQL_URL)" $(PY) -m pytest -n $(PYTEST_WORKERS) \
	  --clock-edges "$(CLOCK_EDGES)" $(PYTEST_ARGS)

# Only the clock-edge runs of the `clock` tests; the ordinary date is tests/helpers.py's.
test-clock: setup
	CAMET_TEST_MYSQL_URL="$(CAMET_TEST_MYSQL_URL)" $(PY) -m pytest -q -n $(PYTEST_WORKERS) \
	  -m "clock and not browser" --clock-edges "$(CLOCK_EDGES)" --only-clock-edges $(PYTEST_ARGS) \
	  || { rc=$$?; [ $$rc -eq 5 ] || exit $$rc; }

setup: deps assets i18n

deps: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt requirements-fast.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt -c constraints.txt
	# Fast MySQL readers: each only where the platform has a wheel; PyMySQL is the fallback.
	-$(PIP) install --quiet --only-binary :all: -r requirements-fast.txt -c constraints.txt \
	  || $(PIP) install --quiet --only-binary :all: connectorx==0.4.6 \
	  || echo "no fast reader wheel for this platform: using PyMySQL"
	touch $(STAMP)

assets: $(VENDOR)/.installed

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/@alpinejs/csp/dist/cdn.min.js $(VENDOR)/alpine-csp.min.js
	cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/chart.umd.min.js
	cp node_modules/sortablejs/Sortable.min.js $(VENDOR)/Sortable.min.js
	mkdir -p $(VENDOR)/swagger-ui
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
	  node_modules/swagger-ui-dist/favicon-32x32.png $(VENDOR)/swagger-ui/
	touch $(VENDOR)/.installed

# UI translations (Spanish source, English catalog); re-extract with:
#   pybabel extract -F babel.cfg -o messages.pot . && pybabel update -i messages.pot -d translations
i18n: deps
	$(VENV)/bin/pybabel compile -d translations

db: deps
	$(PY) manage.py init-db
	$(PY) manage.py seed-demo --if-missing --days $(DEMO_DAYS)

lint: deps
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) bench/run_all.py

# The fault run against real processes (minutes; not part of `make test`): see bench/bench_faults.py.
faults: setup
	$(PY) bench/bench_faults.py

# Acceptance fuzz of the engine API (minutes; not part of `make test`): see bench/fuzz_api.py.
fuzz: setup
	$(PY) bench/fuzz_api.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var
