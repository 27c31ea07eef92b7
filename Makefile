# faqbot — `make run` sets up and serves, `make test` sets up and runs every check.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
WORKERS ?= 2
THREADS ?= 4

# Debian packages the tests and benchmarks use: a real browser with a Japanese font, Redis, wrk.
SYSDEPS ?= chromium fonts-ipafont-gothic redis-server wrk

.PHONY: install sysdeps run dev test lint check eval calibrate leave-out bench clean

VECTORS := $(VENV)/share/faqbot/vectors

install: $(VENV)/.installed $(VECTORS)/meta.json

# Re-installs only when pyproject.toml changed (the project itself is an editable install).
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 11) <= v < (3, 13) else "faqbot needs Python 3.11 or 3.12 (ja-timex has no 3.13 build); set PYTHON=python3.12")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

# chiVe word vectors from the pinned ja_ginza wheel (bot/vectors.py): downloaded and converted once, again only
# when the pin or the format in bot/vectors.py changes (meta.json, written last, records both).
$(VECTORS)/meta.json: $(VENV)/.installed bot/vectors.py
	$(PY) -c 'from bot.vectors import main; main()' install --dir $(VECTORS)
	@touch $@

# Installs the missing Debian packages with apt-get (as root, or through sudo); says what to do where it cannot.
sysdeps:
	@missing=""; for p in $(SYSDEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "faqbot: the tests need these Debian packages:$$missing"; \
	       echo "        install them as root: apt-get install$$missing"; exit 1; fi; \
	  echo "Installing Debian packages:$$missing"; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || \
	  { echo "faqbot: apt-get could not install:$$missing"; exit 1; }; \
	fi

run: install
	$(VENV)/bin/faqbot serve --host $(HOST) --port $(PORT) --workers $(WORKERS) --threads $(THREADS)

dev: install
	$(VENV)/bin/faqbot serve --dev --host $(HOST) --port $(PORT)

lint: install
	$(VENV)/bin/ruff check bot tests benchmarks
	$(VENV)/bin/mypy

check: install
	$(VENV)/bin/faqbot check

test: install sysdeps lint check
	$(PY) -m pytest

# The question sets read or fitted on (unseen-b is fitted on, never read: make eval prints it apart).
# unseen-f.yaml and holdout.yaml are in neither list: they are never read and never fitted on.
READ_SETS := dev calibration fresh unseen-a unseen-b unseen-c unseen-d unseen-e unseen-g unseen-h unseen-i unseen-j unseen-k unseen-l unseen-m unseen-n unseen-o unseen-p unseen-q unseen-r unseen-s unseen-t unseen-u unseen-v unseen-w unseen-x unseen-y unseen-z unseen-aa unseen-ab unseen-ac unseen-ad unseen-ae unseen-af unseen-ag unseen-ah unseen-ai unseen-aj unseen-ak unseen-al unseen-am unseen-an unseen-ao unseen-ap unseen-aq unseen-ar unseen-as unseen-at unseen-au unseen-av unseen-aw unseen-ax

eval: install
	$(VENV)/bin/faqbot eval $(patsubst %,tests/data/%.yaml,$(filter-out unseen-b,$(READ_SETS))) --today 2025-05-15 --errors 0
	$(VENV)/bin/faqbot eval tests/data/unseen-b.yaml --today 2025-05-15 --errors 0
	$(VENV)/bin/faqbot eval tests/data/unseen-f.yaml --today 2025-05-15 --errors 0
	$(VENV)/bin/faqbot eval tests/data/holdout.yaml --today 2025-05-15

# Refit bot/calibration.json on every read set, the threshold chosen on the blind sets as they arrived
# (tests/data/arrivals.yaml, which needs this clone's history).
calibrate: install
	$(VENV)/bin/faqbot eval $(READ_SETS:%=tests/data/%.yaml) --today 2025-05-15 --errors 0 --calibrate \
		--arrivals tests/data/arrivals.yaml

# Each blind set as it arrived, scored by a model fitted and thresholded without it (README, "Measured quality").
leave-out: install
	$(VENV)/bin/faqbot eval $(READ_SETS:%=tests/data/%.yaml) --today 2025-05-15 --leave-out \
		--arrivals tests/data/arrivals.yaml

# One table of speed and scale figures (benchmarks/results/latest.json), then LocalgovFAQ's quality figures.
bench: install sysdeps
	$(PY) benchmarks/run.py
	$(PY) benchmarks/localgovfaq.py --split test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
