"""The curated API in liq_signals.__init__ must resolve, stay light to import, and be all
that the shipped strategies use (they are the model for a user's own strategy)."""

import ast
import subprocess
import sys

import pytest

import liq_signals
import liq_signals.freqtrade as _ft
from tests.conftest import REPO

STRATEGY_FILES = sorted((REPO / "strategies").glob("*.py"))


def test_all_matches_the_lazy_export_table():
    assert set(liq_signals.__all__) == {"__version__", "columns", *liq_signals._EXPORTS}


def test_every_exported_name_resolves():
    for name in liq_signals.__all__:
        assert getattr(liq_signals, name) is not None, name


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        liq_signals.no_such_thing  # noqa: B018


def test_import_does_not_load_the_engine_or_freqtrade():
    code = (
        "import sys, liq_signals; "
        "print(sorted(m for m in ('numba', 'freqtrade', 'ccxt', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _liq_signals_imports(path):
    """``(module, names)`` of every import of liq_signals in ``path``, anywhere in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.split(".")[0] == "liq_signals"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "liq_signals":
                found.append((node.module, [a.name for a in node.names]))
    return found


def test_shipped_strategies_import_only_freqtrade_and_columns():
    """The shipped strategies use what a strategy of your own uses (docs/own-strategy.md):
    ``liq_signals.freqtrade`` (its ``__all__``) and ``liq_signals.columns``, nothing else."""
    assert STRATEGY_FILES
    used = []
    for path in STRATEGY_FILES:
        for module, names in _liq_signals_imports(path):
            if module == "liq_signals":
                assert set(names) <= {"columns", "freqtrade"}, f"{path.name}: {names}"
            elif module == "liq_signals.freqtrade":
                assert set(names) <= set(_ft.__all__), f"{path.name}: {names}"
                used += names
            else:
                assert module == "liq_signals.columns", f"{path.name} imports {module}"
    assert {"strategy_features", "liquidation_features"} & set(used)


def test_cli_help_lists_every_command():
    out = subprocess.run(
        [sys.executable, "-m", "liq_signals.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for name in (
        "offline",
        "features",
        "snapshot",
        "heatmap",
        "import-binance-metrics",
        "record-liquidations",
        "validate",
        "calibrate",
        "install-strategies",
    ):
        assert name in out.stdout
