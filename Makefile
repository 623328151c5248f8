# FundGuard — two commands: `make demo` (the main job) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test bench lock clean

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11（未找到 $(PYTHON)），可用 make PYTHON=python3 指定"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $(STAMP)

setup: $(STAMP)

## The main job on embedded defaults: synthetic city → load → summary.
demo: $(STAMP)
	$(BIN)/fundguard demo

## The whole test suite (CI runs exactly this).
test: $(STAMP)
	$(BIN)/python -m pytest

## Benchmarks (not part of the tests): synth speed, load of a large city.
bench: $(STAMP)
	$(BIN)/python bench/run.py

## Re-pin dependencies after editing pyproject.toml.
lock:
	$(BIN)/pip install --quiet uv && $(BIN)/uv pip compile pyproject.toml --extra dev -p 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) data out .pytest_cache
