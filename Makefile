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

## Offline freqtrade backtest of LiquidationMagnetStrategy on the embedded real data
## (BTC, ETH, SOL: the config's whitelist), next to BaselineStrategy (the same strategy with
## the liquidation features switched off), then one summary table read from freqtrade's
## result JSON (tools/demo_summary.py: per pair and total, trades, profit %, max drawdown).
## freqtrade's own output (~460 lines of log and its report) goes to DEMO_LOG, whose path
## is printed first; on failure its last lines are shown.  The table ends the output.
DEMO_RESULTS := user_data/backtest_results
DEMO_LOG := user_data/logs/demo-backtesting.log
demo: $(STAMP)
	@mkdir -p $(dir $(DEMO_LOG))
	@echo "make demo: freqtrade backtesting, 2 strategies x 3 pairs, 2025-09-01 -> 2026-02-19;"
	@echo "  its log and report: $(DEMO_LOG)"
	@$(BIN)/liq-signals offline -- backtesting \
		--config user_data/config_backtest.json \
		--strategy-list LiquidationMagnetStrategy BaselineStrategy \
		--timerange 20250901-20260219 \
		--export trades --backtest-directory $(DEMO_RESULTS) > $(DEMO_LOG) 2>&1 \
		|| { tail -n 25 $(DEMO_LOG); echo "make demo: freqtrade failed; whole log: $(DEMO_LOG)"; exit 1; }
	@$(BIN)/python tools/demo_summary.py $(DEMO_RESULTS)

## The whole test suite (this is what CI runs).
test: $(STAMP)
	$(BIN)/python -m pytest

## Every benchmark script under bench/ (figures are ratios against a baseline of the same run).
bench: $(STAMP)
	for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

## Walk-forward (6 folds: BTC 2023-24, BTC/ETH/SOL 2025-26): the liquidation strategy on its
## fixed defaults, its twin, 12 placebos (its own map 10 ... 170 days earlier) and buy-and-hold
## on each test quarter, with progress lines; ~12-21 min on 2 shared cores -> docs/results.md
## (+ .json).  tools/compare.py --epochs N adds a hyperopt per fold (much longer).
compare: $(STAMP)
	nice $(BIN)/python tools/compare.py

clean:
	rm -rf $(VENV) .pytest_tmp
