"""The curated API in liq_signals.__init__ must resolve, and stay light to import."""

import subprocess
import sys

import pytest

import liq_signals


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
        "print(sorted(m for m in ('numba', 'freqtrade', 'ccxt') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


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
    ):
        assert name in out.stdout
