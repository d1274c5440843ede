"""``liq-signals study`` on the embedded real data writes a complete report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from liq_signals.cli import main

REPO = Path(__file__).resolve().parents[2]
DATADIR = REPO / "user_data" / "data" / "binance"
MODEL = REPO / "user_data" / "liq_model.json"


def test_study_writes_markdown_json_and_png(tmp_path: Path) -> None:
    out = tmp_path / "study"
    code = main(
        [
            "study",
            "--datadir",
            str(DATADIR),
            "--pair",
            "BTC/USDT:USDT",
            "--timerange",
            "20250201-20250401",
            "--model-config",
            str(MODEL),
            "--out",
            str(out),
            "--replicates",
            "100",
        ]
    )
    assert code == 0
    data = json.loads((out / "study.json").read_text())
    (pair,) = data["pairs"]
    assert pair["pair"] == "BTC/USDT:USDT"
    assert pair["start"].startswith("2025-02-01")
    ics = {(r["feature"], r["horizon_h"]): r for r in pair["ic"]}
    for term in ("liq_term_magnet", "liq_term_imbalance_5", "liq_term_cascade", "liq_term_sweeps"):
        for h in (1, 4, 24):
            est = ics[(term, h)]["ic"]
            assert est["low"] <= est["value"] <= est["high"], (term, h, est)
            assert ics[(term, h)]["partial_ta"]["n"] > 500
    assert ics[("ret_24h", 4)]["partial_ta"] is None  # a control is not partialled on itself
    assert {e["name"] for e in pair["events"]} >= {"dense zone vs thin book", "large sweep vs none"}
    assert pair["magnet"]["decisions"] > 50
    stops = pair["stops"]  # the map's stops vs the distance-matched ATR stop and placebos
    assert stops["entries"] > 200
    assert set(stops["arms"]) == {"map", "ATR", "placebo"}
    assert stops["arms"]["map"]["stop_pct"] == pytest.approx(stops["arms"]["ATR"]["stop_pct"])
    assert 0 < stops["arms"]["map"]["stopped"]["value"] < 1
    md = (out / "study.md").read_text()
    assert "Magnet test" in md
    assert "Stops placed by the map" in md
    assert "liq_term_magnet" in md
    assert "--model-config" in md
    assert (out / "study.png").stat().st_size > 10_000


def test_study_rejects_a_window_too_short(tmp_path: Path, capsys) -> None:
    code = main(
        [
            "study",
            "--datadir",
            str(DATADIR),
            "--pair",
            "BTC/USDT:USDT",
            "--timerange",
            "20250201-20250210",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 2
    assert "needs 30 days" in capsys.readouterr().err
