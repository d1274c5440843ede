"""calibrate on a record generated from the model's own standing book with known
parameters, one of them a side asymmetry: the exhaustive grid must find them exactly
(objective 0), the Optuna search in two worker processes must get close, and give the
same answer from the same seed."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from liq_signals.config import ModelConfig
from liq_signals.data.frames import PairFrames
from liq_signals.evaluation.calibrate import (
    Evaluator,
    calibrate,
    run_study,
    search_space,
    walk_forward,
)
from liq_signals.evaluation.inputs import load_window
from liq_signals.evaluation.realized import RealizedRecord, load_realized
from liq_signals.evaluation.runner import ValidationSettings, validate
from liq_signals.evaluation.standing import S_LONG, S_SHORT

PAIR = "BTC/USDT:USDT"
START = pd.Timestamp("2025-07-01", tz="UTC")
STOP = pd.Timestamp("2025-11-14", tz="UTC")
TRUTH = replace(
    ModelConfig(), decay_half_life_hours=12.0, leverage_alpha=1.0, side_leverage_bias=0.6
)


@pytest.fixture(scope="module")
def generated(repo):
    """Candles and a 4-hour record equal to TRUTH's standing book (Binance-like lower
    bound: 0.3× the book, so the fit must not depend on the scale)."""
    w = load_window(repo / "user_data/data/binance", PAIR, "5m", START, STOP, pd.Timedelta("3D"))
    shipped = load_realized(repo / "user_data/realized/coinglass-binance-4h/liquidations", PAIR)
    shipped = replace(shipped, aggregated=shipped.aggregated.loc[START : STOP - pd.Timedelta("4h")])
    per = validate(
        PairFrames(w.candles, mark=w.mark),
        shipped,
        pair=PAIR,
        config=TRUTH,
        settings=ValidationSettings(period="4h", n_boot=0, sensitivity=False),
    ).periods
    agg = pd.DataFrame(
        {"long_usd": 0.3 * per[S_LONG], "short_usd": 0.3 * per[S_SHORT]},
        index=pd.DatetimeIndex(per.index, name="date"),
    )
    record = RealizedRecord(
        pd.DataFrame(), agg, ("generated",), period=pd.Timedelta("4h"), complete=False
    )
    return w, record, (per.index[0], per.index[-1] + pd.Timedelta("4h"))


def test_grid_recovers_decay_and_side_bias_exactly(generated):
    w, record, span = generated
    res = calibrate(
        PairFrames(w.candles, mark=w.mark),
        record,
        pair=PAIR,
        span=span,
        folds=2,
        period="4h",
        grid={
            "decay_half_life_hours": (12.0, 72.0),
            "leverage_alpha": (1.0, 2.0),
            "side_leverage_bias": (0.0, 0.6),
        },
        report=lambda _: None,
    )
    assert res.best.decay_half_life_hours == 12.0
    assert res.best.leverage_alpha == 1.0
    assert res.best.side_leverage_bias == 0.6
    assert res.best_span.objective == pytest.approx(0.0, abs=1e-9)
    assert res.best_span.log_scale == pytest.approx(np.log(0.3))
    assert res.best.participation == ModelConfig().participation  # lower bound: kept
    assert len(res.folds) == 2
    for fold in res.folds:
        assert fold.trials == 8
        assert fold.fitted_test.objective == pytest.approx(0.0, abs=1e-9)
        assert fold.base_test.objective > 0.05  # the defaults really differ
        assert fold.fit[1] == fold.test[0]  # walk-forward: test right after the fit


def test_optuna_search_in_two_workers_gets_close(generated, capsys):
    w, record, span = generated
    fit = (span[0], span[0] + pd.Timedelta("60D"))
    test = (fit[1], span[1])
    res = calibrate(
        PairFrames(w.candles, mark=w.mark),
        record,
        pair=PAIR,
        fit_range=fit,
        test_range=test,
        period="4h",
        base=replace(
            ModelConfig(), leverage_alpha=1.0, decay_half_life_hours=251.0, side_leverage_bias=0.0
        ),
        space={
            "decay_half_life_hours": (2.0, 720.0, True),
            "side_leverage_bias": (-1.5, 1.5, False),
        },
        trials=60,
        jobs=2,
        seed=1,
    )
    assert "fold 1/1: trial 60/60" in capsys.readouterr().out  # progress, from the parent
    assert res.folds[0].trials == 60
    assert res.best.side_leverage_bias == pytest.approx(0.6, abs=0.2)
    assert 6.0 < res.best.decay_half_life_hours < 24.0
    assert res.folds[0].fitted_test.objective < 0.5 * res.folds[0].base_test.objective


def test_two_worker_search_is_reproducible_from_its_seed(generated):
    """The sampler lives in the parent and hears the scores in the order it asked for
    them, so which worker finishes first cannot change the search (it did when each
    worker ran its own sampler on a shared journal: CI once got half-life 30 h here)."""
    w, record, span = generated
    evaluator = Evaluator(
        PairFrames(w.candles, mark=w.mark),
        record,
        pair=PAIR,
        timeframe="5m",
        period="4h",
        base=replace(ModelConfig(), leverage_alpha=1.0, side_leverage_bias=0.0),
    )
    window = (span[0], span[0] + pd.Timedelta("30D"))
    space = {"decay_half_life_hours": (2.0, 720.0, True), "side_leverage_bias": (-1.5, 1.5, False)}
    runs = [
        run_study(evaluator, window, trials=26, jobs=2, seed=7, space=space, report=lambda _: None)
        for _ in range(2)
    ]
    assert runs[0][2] == 26
    assert runs[0] == runs[1]


def test_walk_forward_folds_expand_and_never_overlap_their_test():
    a = pd.Timestamp("2025-01-01", tz="UTC")
    b = pd.Timestamp("2025-11-01", tz="UTC")
    folds = walk_forward(a, b, 4, "4h")
    assert len(folds) == 4
    for i, (fit, test) in enumerate(folds):
        assert fit[0] == a
        assert fit[1] == test[0]
        assert test[1] > test[0]
        if i:
            assert fit[1] > folds[i - 1][0][1]
    assert folds[-1][1][1] == b


def test_series_specific_fields_are_searched_only_with_their_series():
    """``oi_reconcile`` changes nothing without open interest, ``taker_tilt`` nothing
    without taker metrics: neither is a dead dimension of the search."""
    assert {"oi_reconcile", "taker_tilt"} <= set(search_space(None, True, True))
    assert "oi_reconcile" not in search_space(None, True, has_oi=False)
    assert "taker_tilt" in search_space(None, True, has_oi=False)
    assert "taker_tilt" not in search_space(None, False, has_oi=True)
