# Two commands for a newcomer: `make demo` and `make test`. Both install into .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck i18n migrations bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)
	$(PY) -m scripts.i18n compile

# Real PostgreSQL (from the image) and Redis (Debian's package) for tests and benchmarks;
# Debian's chromium and its driver for the public page's browser test.
services:
	@command -v redis-server >/dev/null || { \
	  echo "installing redis-server (apt)"; \
	  apt-get update -qq >/dev/null && apt-get install -y -qq redis-server >/dev/null; }
	@{ command -v chromium >/dev/null && command -v chromedriver >/dev/null; } || { \
	  echo "installing chromium and chromium-driver (apt)"; \
	  apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    chromium chromium-driver >/dev/null; }

demo: install
	$(VENV)/bin/indigo demo $(if $(HEADLESS),--headless,)

# Lint, format, types and catalogs fail the build before any test runs.
test: install services lint typecheck
	$(PY) -m scripts.i18n check
	$(PY) -m pytest -q -p no:cacheprovider --durations=15 -n auto --dist loadfile

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy

i18n: install
	$(PY) -m scripts.i18n extract
	$(PY) -m scripts.i18n check || true
	$(PY) -m scripts.i18n compile

# Pre-release: the schema is one initial migration, regenerated from the models.
migrations: install
	rm -f core/migrations/0*.py
	DATABASE_URL=sqlite://var/makemigrations.sqlite3 $(VENV)/bin/tortoise makemigrations
	rm -f var/makemigrations.sqlite3

bench: install services
	$(PY) -m bench $(if $(QUICK),--quick,)

clean:
	rm -rf $(VENV) var .pytest_cache
