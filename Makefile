# faqbot — `make run` sets up and serves, `make test` sets up and runs every check.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
WORKERS ?= 2
THREADS ?= 1

.PHONY: install run dev test lint check eval bench clean

install: $(VENV)/.installed

# Re-installs only when pyproject.toml changed (the project itself is an editable install).
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 11) <= v < (3, 13) else "faqbot needs Python 3.11 or 3.12 (ja-timex has no 3.13 build); set PYTHON=python3.12")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

run: install
	$(VENV)/bin/faqbot serve --host $(HOST) --port $(PORT) --workers $(WORKERS) --threads $(THREADS)

dev: install
	$(VENV)/bin/faqbot serve --dev --host $(HOST) --port $(PORT)

lint: install
	$(VENV)/bin/ruff check bot tests benchmarks
	$(VENV)/bin/mypy

check: install
	$(VENV)/bin/faqbot check

test: install lint check
	$(PY) -m pytest

eval: install
	$(VENV)/bin/faqbot eval tests/data/dev.yaml --today 2025-05-15
	$(VENV)/bin/faqbot eval tests/data/holdout.yaml --today 2025-05-15

bench: install
	$(PY) benchmarks/localgovfaq.py --split test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
