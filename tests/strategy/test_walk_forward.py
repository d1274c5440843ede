"""The walk-forward tool (tools/compare.py): its pooled statistics, and a reduced run.

The reduced run (``--smoke``: one fold, BTC, a month of training, two weeks of test, two
hyperopt epochs) goes through every step of ``make compare`` with the real freqtrade
against the loopback emulator: hyperopt of both strategies, one backtest of the twin, the
liquidation strategy and two placebos, per-pair metrics, buy-and-hold and the report.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from strategy_harness import REPO

_spec = importlib.util.spec_from_file_location("compare", REPO / "tools" / "compare.py")
compare = importlib.util.module_from_spec(_spec)
sys.modules["compare"] = compare  # dataclasses look their module up while being defined
_spec.loader.exec_module(compare)


def _fold(name: str, profits: dict[str, list[float]]):
    fold = compare.Fold(name, REPO, ("A", "B"), "x", "y")
    rows = [
        compare.Row(name, pair, arm, 1, values[i], 0.0, 0.0)
        for arm, values in profits.items()
        for i, pair in enumerate(fold.pairs)
    ]
    return compare.FoldResult(fold, rows)


def test_pooled_difference_resamples_whole_folds() -> None:
    arms = (compare.LIQ, compare.TWIN, *compare.PLACEBOS[:3])
    profits = ([3.0, 5.0], [1.0, 1.0], [0.0, 0.0], [2.0, 2.0], [9.0, 9.0])
    results = [
        _fold("f1", dict(zip(arms, profits, strict=True))),
        _fold("f2", dict(zip(arms, ([0.0, 0.0], [1.0, 1.0], *([0.0, 0.0],) * 3), strict=True))),
    ]
    mean, low, high, wins, cells = compare.pooled_difference(results, compare.LIQ, compare.TWIN)
    assert mean == pytest.approx((2 + 4 - 1 - 1) / 4)
    assert (wins, cells) == (2, 4)
    # fold means are +3 and -1: every resample's mean lies between them
    assert -1.0 <= low < mean < high <= 3.0
    # the median placebo (2, not the mean 11/3): +1 and +3 in f1, 0 in f2
    mean_p, *_ = compare.pooled_difference(results, compare.LIQ, "placebo")
    assert mean_p == pytest.approx(np.mean([3 - 2, 5 - 2, 0, 0]))


def test_rank_among_placebos_counts_better_placebos_and_ties_favour_the_strategy() -> None:
    arms = (compare.LIQ, *compare.PLACEBOS[:4])
    result = _fold(
        "f1",
        dict(
            zip(arms, ([3.0, -1.0], [5.0, 0.0], [3.0, 0.0], [1.0, -2.0], [4.0, 0.0]), strict=True)
        ),
    )
    cells = list(compare._cells([result]))

    assert [compare.rank_among_placebos(a) for _r, _p, a in cells] == [(3, 5), (4, 5)]
    rank = compare.pooled_rank([result])
    assert rank["mean"] == pytest.approx(np.mean([2 / 4, 3 / 4]))
    assert rank["top_half"] == 0
    assert 0.5 < rank["p_uniform"] < 1.0


@pytest.mark.freqtrade
def test_smoke_walk_forward_runs_every_step(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    code = compare.main(
        ["--smoke", "--epochs", "2", "--out", str(out), "--workdir", str(tmp_path / "wd")]
    )

    assert code == 0
    data = json.loads(out.with_suffix(".json").read_text())
    (fold,) = data["folds"]
    arms = {row["arm"] for row in fold["rows"]}
    placebos = {f"{compare.PLACEBO_PREFIX}{d}" for d in compare.SMOKE_SHIFTS}
    assert arms == {compare.LIQ, compare.TWIN, *placebos, "buy & hold"}
    trades = {row["arm"]: row["trades"] for row in fold["rows"]}
    # two weeks of BTC with parameters from two epochs: some arm trades, not necessarily all
    assert sum(n for arm, n in trades.items() if arm != "buy & hold") > 0
    assert all(
        row["fees_pct"] > 0 for row in fold["rows"] if row["trades"] and row["arm"] != "buy & hold"
    )
    assert set(fold["tuned"]) == {compare.LIQ, compare.TWIN}
    text = out.read_text()
    assert "liquidation − twin" in text
    assert "liquidation − median placebo" in text
    assert "Rank among its 2 placebos" in text
    assert not list((REPO / "strategies").glob("*.json"))  # nothing written into strategies/


def test_the_report_is_rebuilt_from_its_json_with_a_verdict_from_the_intervals(
    tmp_path: Path,
) -> None:
    arms = (compare.LIQ, compare.TWIN, *compare.PLACEBOS[:2], "buy & hold")
    rows = [
        compare.Row("smoke", "BTC/USDT:USDT", arm, 3, profit, 1.0, 0.5, 0.3).__dict__
        for arm, profit in zip(arms, (-2.0, 1.0, 0.0, 0.0, 5.0), strict=True)
    ]
    data = {
        "folds": [{"fold": "smoke", "rows": rows, "tuned": {compare.LIQ: {}}}],
        "settings": {"shifts": list(compare.SHIFTS[:2])},
    }
    source = tmp_path / "in.json"
    source.write_text(json.dumps(data))
    out = tmp_path / "results.md"

    assert compare.main(["--from-json", str(source), "--out", str(out)]) == 0

    text = out.read_text()
    assert "does worse than its twin (interval below 0), ahead on 0 of 1" in text
    assert "does worse than its median placebo" in text
    assert "ranks below the middle of its placebos" in text
    assert "made money on 0 of 1" in text
    assert "| 3 of 3 |" in text  # worse than both placebos
