# supervm: `make setup` once (idempotent), then `make test`, `make run`, `make bench`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMPS := $(VENV)/.stamps

CORE_SOURCES := setup.py src/supervm/_core.pyx $(shell find csrc -name '*.cpp' -o -name '*.hpp' -o -name '*.inc')

.PHONY: setup build test lint run bench clean

setup: build

$(STAMPS)/system: scripts/system-packages.sh
	bash scripts/system-packages.sh
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/python: $(STAMPS)/system pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "setuptools>=77" wheel "Cython>=3.0" "numpy>=1.26"
	SUPERVM_SKIP_CORE=1 $(PY) -m pip install -q --no-build-isolation -e ".[dev]"
	@mkdir -p $(STAMPS) && touch $@

# Rebuild the compiled core in place when any kernel or binding source changes.
$(STAMPS)/core: $(STAMPS)/python $(CORE_SOURCES)
	$(PY) setup.py -q build_ext --inplace
	@touch $@

build: $(STAMPS)/core

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks

test: setup lint
	$(PY) -m pytest

# The Super VM: HTTP service + persistent local MPI world; prints the URL and the token.
run: setup
	$(PY) -m supervm serve

# Every script always runs; the target fails if any reports a missed target.
bench: setup
	$(PY) -m pytest benchmarks -q
	$(PY) benchmarks/ratios.py; local=$$?; \
	$(PY) benchmarks/dist_ratios.py; dist=$$?; \
	$(PY) benchmarks/render_ratios.py; render=$$?; \
	$(PY) benchmarks/service_latency.py; service=$$?; \
	exit $$((local | dist | render | service))

clean:
	rm -rf build $(VENV) src/supervm/_core.cpp src/supervm/*.so
