# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint format bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

# bpx-py (Backpack's official client, tests/trading/gateway/test_bpx_py_through_the_desk.py)
# pins cryptography<44, which the other packages outgrew; it signs with cryptography's
# unchanged ED25519 API, so it goes beside the virtualenv without its dependencies.
BPX_PY := $(VENV)/bpx-py
$(BPX_PY)/.installed: | $(BIN)/python
	$(BIN)/python -m pip install --quiet --no-deps --upgrade --target $(BPX_PY) 'bpx-py==2.0.11'
	@touch $@

setup: $(STAMP) $(BPX_PY)/.installed

demo: setup
	$(BIN)/python scripts/demo.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/python scripts/run_suite.py

bench: setup
	$(BIN)/python scripts/bench.py $(BENCH)

clean:
	rm -rf $(VENV) test-output .pytest_cache .ruff_cache
