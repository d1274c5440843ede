# Two commands for a newcomer: `make demo` and `make test` (README).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench compare clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Offline freqtrade backtest of LiquidationMagnetStrategy on the embedded real data.
demo: $(STAMP)
	$(BIN)/liq-signals offline -- backtesting \
		--config user_data/config_backtest.json \
		--strategy LiquidationMagnetStrategy \
		--timerange 20250901-20260219

## The whole test suite (this is what CI runs).
test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_tmp
