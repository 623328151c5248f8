# FundGuard — two commands: `make demo` (the main job) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Front-end packages (npm) copied into the web app's static/vendor/ for offline use.
VENDOR := src/fundguard/web/static/vendor/.stamp

.PHONY: setup demo test bench lock clean

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11（未找到 $(PYTHON)），可用 make PYTHON=python3 指定"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $(STAMP)

$(VENDOR): package.json $(wildcard package-lock.json) src/fundguard/web/vendor.json
	@if command -v npm >/dev/null 2>&1; then \
	  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; \
	  else npm install --no-audit --no-fund --loglevel=error; fi && npm run --silent vendor; \
	else echo "未找到 npm：网页可用但不显示图表，浏览器测试将跳过（安装 Node.js 后重新运行 make setup）"; fi

setup: $(STAMP) $(VENDOR)

## The main job on embedded defaults: synthetic city → load → audit → workflow → the web app on localhost.
demo: $(STAMP) $(VENDOR)
	$(BIN)/fundguard demo

## The whole test suite (CI runs exactly this).
test: $(STAMP) $(VENDOR)
	$(BIN)/python -m pytest

## Benchmarks (not part of the tests): synth speed, load of a large city.
bench: $(STAMP)
	$(BIN)/python bench/run.py

## Re-pin dependencies after editing pyproject.toml.
lock:
	$(BIN)/pip install --quiet uv && $(BIN)/uv pip compile pyproject.toml --extra dev -p 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) data out .pytest_cache node_modules src/fundguard/web/static/vendor artifacts
