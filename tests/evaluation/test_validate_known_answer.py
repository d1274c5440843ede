"""validate / calibrate end to end on real candles with realized records whose answer is
known: generated from the engine's own implied liquidations (must score ρ = 1), the same
record shuffled across periods (must score ≈ 0), and a record generated with other
parameters (calibrate must find them)."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from liq_signals import columns as C
from liq_signals.cli import main
from liq_signals.config import ModelConfig, load_model_config, save_model_config
from liq_signals.data.frames import PairFrames
from liq_signals.evaluation.inputs import load_window
from liq_signals.evaluation.realized import (
    LiquidationEvent,
    RealizedRecord,
    events_to_frame,
    load_realized,
)
from liq_signals.evaluation.runner import ValidationSettings, validate
from liq_signals.features.pipeline import run as run_model

PAIR = "BTC/USDT:USDT"
START = pd.Timestamp("2025-10-05", tz="UTC")
STOP = pd.Timestamp("2025-10-12", tz="UTC")
WARMUP = "3D"


def _implied(datadir, cfg: ModelConfig, start=START, stop=STOP) -> pd.DataFrame:
    """The engine's implied liquidations per candle, on exactly the candles validate loads."""
    inputs = load_window(datadir, PAIR, "5m", start, stop, pd.Timedelta(WARMUP))
    feats = run_model(PairFrames(inputs.candles), pair=PAIR, timeframe="5m", config=cfg).features
    return feats[(feats["date"] >= start) & (feats["date"] < stop)].reset_index(drop=True)


def _aggregated_csv(feats: pd.DataFrame, path, shuffle_seed: int | None = None):
    hourly = (
        feats.set_index("date")[[C.LONG_SWEPT_USD, C.SHORT_SWEPT_USD]]
        .resample("1h")
        .sum()
        .rename(columns={C.LONG_SWEPT_USD: "long_usd", C.SHORT_SWEPT_USD: "short_usd"})
    )
    if shuffle_seed is not None:
        rng = np.random.default_rng(shuffle_seed)
        hourly["long_usd"] = rng.permutation(hourly["long_usd"].to_numpy())
        hourly["short_usd"] = rng.permutation(hourly["short_usd"].to_numpy())
    hourly.index = hourly.index.strftime("%Y-%m-%dT%H:%M:%SZ")
    hourly.rename_axis("date").to_csv(path)
    return path


@pytest.fixture(scope="module")
def implied(repo):
    return _implied(repo / "user_data/data/binance", ModelConfig())


def test_own_implied_liquidations_score_rho_one_through_the_cli(implied, repo, tmp_path):
    record = _aggregated_csv(implied, tmp_path / "own.csv")
    report = tmp_path / "out" / "report.md"
    rc = main(
        [
            "validate",
            "--realized",
            str(record),
            "--pair",
            PAIR,
            "--datadir",
            str(repo / "user_data/data/binance"),
            "--warmup",
            WARMUP,
            "--out",
            str(report),
        ]
    )
    assert rc == 0
    text = report.read_text()
    assert "| long | 1.000 [1.000, 1.000]" in text
    assert "| short | 1.000 [1.000, 1.000]" in text
    assert "scored: 2025-10-05 00:00:00+00:00 → 2025-10-12 00:00:00+00:00, 168 periods" in text
    assert "liq-signals validate" in text
    assert "--realized" in text
    for png in ("report-scatter.png", "report-series.png"):
        assert (report.parent / png).stat().st_size > 1000
        assert f"]({png})" in text


def test_shuffled_record_scores_near_zero_so_the_metric_can_fail(implied, repo, tmp_path):
    record = load_realized(_aggregated_csv(implied, tmp_path / "shuffled.csv", shuffle_seed=5))
    inputs = load_window(
        repo / "user_data/data/binance", PAIR, "5m", START, STOP, pd.Timedelta(WARMUP)
    )
    res = validate(PairFrames(inputs.candles), record, pair=PAIR)
    assert res.long.implied.n == res.short.implied.n == 168
    for side in (res.long, res.short):
        assert abs(side.implied.rho) < 0.25
        assert side.implied.low < 0 < side.implied.high
    # the baselines do not depend on the record's order being right either
    assert abs(res.long.baseline.rho) < 0.25


def test_event_record_at_the_swept_prices_scores_rho_one_and_feeds_the_zone_test(implied, repo):
    events = []
    for row in implied.itertuples():
        t = int(row.date.timestamp() * 1000)
        if row.liq_long_swept_usd > 0:
            events.append(
                LiquidationEvent(
                    t, PAIR, "long", row.low, row.liq_long_swept_usd / row.low, "bybit"
                )
            )
        if row.liq_short_swept_usd > 0:
            events.append(
                LiquidationEvent(
                    t, PAIR, "short", row.high, row.liq_short_swept_usd / row.high, "bybit"
                )
            )
    record = RealizedRecord(events_to_frame(events), pd.DataFrame(), ("constructed",))
    inputs = load_window(
        repo / "user_data/data/binance", PAIR, "5m", START, STOP, pd.Timedelta(WARMUP)
    )
    # the record's span starts at its first event, which may be after START
    res = validate(PairFrames(inputs.candles), record, pair=PAIR, settings=ValidationSettings())
    assert res.long.implied.rho == pytest.approx(1.0)
    assert res.short.implied.rho == pytest.approx(1.0)
    assert res.zones_long is not None
    assert res.zones_long.random.n > 0
    assert res.zones_long.snapshots > 10
    # every realized event sits at the extreme price reached, so every crossed zone that
    # contains an event is the deepest one: the random-zone rate must be well below 1
    assert res.zones_long.random.rate < 1.0


def test_calibrate_recovers_the_parameters_the_record_was_generated_with(repo, tmp_path):
    datadir = repo / "user_data/data/binance"
    truth = replace(
        ModelConfig(), leverage_alpha=1.5, decay_half_life_hours=24.0, participation=0.1
    )
    fit_stop = pd.Timestamp("2025-10-12", tz="UTC")
    test_stop = pd.Timestamp("2025-10-16", tz="UTC")
    feats = _implied(datadir, truth, START, test_stop)
    record = _aggregated_csv(feats, tmp_path / "truth.csv")
    out = tmp_path / "params.json"
    rc = main(
        [
            "calibrate",
            "--realized",
            str(record),
            "--pair",
            PAIR,
            "--datadir",
            str(datadir),
            "--warmup",
            WARMUP,
            "--fit-range",
            "20251005-20251012",
            "--test-range",
            "20251012-20251016",
            "--grid",
            "leverage_alpha=0.5,1.0,1.5,2.0",
            "--grid",
            "decay_half_life_hours=12,24,72",
            "--objective",
            "nowcast",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    fitted = load_model_config(out)
    assert fitted.leverage_alpha == 1.5
    assert fitted.decay_half_life_hours == 24.0
    assert fitted.participation == pytest.approx(0.1, rel=1e-6)
    fit = json.loads(out.read_text())["fit"]
    # generated with these parameters: realized / implied is one constant in every period
    # and the side balance is exact
    assert fit["fit_objective"] == pytest.approx(0.0, abs=1e-9)
    (fold,) = fit["folds"]
    assert fold["test_objective"] == pytest.approx(0.0, abs=1e-9)
    assert fold["base_test_objective"] > 0.02  # the defaults really were different
    assert fold["trials"] == 12  # the whole grid
    assert fit_stop < test_stop


def test_params_file_round_trips_and_rejects_unknown_fields(tmp_path):
    cfg = replace(ModelConfig(), leverage_alpha=0.7, bands_pct=(1.0, 3.0))
    path = save_model_config(cfg, tmp_path / "p.json", fit={"note": "x"})
    assert load_model_config(path) == cfg
    path.write_text(json.dumps({"model_config": {"leverage_alfa": 2.0}}))
    with pytest.raises(ValueError, match="p.json: unknown ModelConfig field"):
        load_model_config(path)
    path.write_text(json.dumps({"model_config": {"decay_half_life_hours": -1}}))
    with pytest.raises(ValueError, match="p.json: ModelConfig.decay_half_life_hours"):
        load_model_config(path)


def test_magnet_only_run_needs_no_record_and_reports_both_cluster_pairs(repo, tmp_path):
    report = tmp_path / "magnets.md"
    rc = main(
        [
            "validate",
            "--pair",
            PAIR,
            "--datadir",
            str(repo / "user_data/data/binance"),
            "--timerange",
            "20251001-20251101",
            "--warmup",
            WARMUP,
            "--out",
            str(report),
        ]
    )
    assert rc == 0
    text = report.read_text()
    assert "realized record: none — sections 1 and 2 need one" in text
    assert "## 1." not in text
    assert "| largest above vs below |" in text
    assert "| nearest above vs below |" in text
    assert "--timerange 20251001-20251101" in text


def _window_asked(command: list[str], repo, tmp_path, capsys) -> str:
    """The window ``command`` asked the loader for, on the shipped forceOrder sample (its
    candles are not on file, so the loader names the window and nothing is scored)."""
    rc = main(
        [
            *command,
            "--realized",
            str(repo / "tests/testdata/BTCUSDT-forceOrder-2024-12-04_06.csv"),
            "--pair",
            PAIR,
            "--datadir",
            str(repo / "user_data/data/binance"),
            "--out",
            str(tmp_path / "never"),
        ]
    )
    assert rc == 1
    assert not (tmp_path / "never").exists()
    err = capsys.readouterr().err
    assert "freqtrade download-data --exchange binance --trading-mode futures" in err
    assert "--timerange 20241127-20241207" in err
    return err.split("do not cover ")[1].split(". Get them")[0]


def test_shipped_forceorder_sample_cannot_be_scored_without_its_candles(repo, tmp_path, capsys):
    """The honest state of the repo: the real record's window (Dec 2024) has no candles
    on file, and the command says how to get them instead of scoring something else.  The
    record's first event (16:46) is inside an hour: the window starts at the next whole
    hour, its last event (18:12) is scored to the end of its hour."""
    window = _window_asked(["validate"], repo, tmp_path, capsys)
    assert window == "2024-12-04 17:00:00+00:00 → 2024-12-06 19:00:00+00:00"


def test_validate_and_calibrate_plan_the_same_window(repo, tmp_path, capsys):
    """One rounding rule (evaluation.inputs.plan_window): calibrate's walk-forward span is
    the window validate scores."""
    validated = _window_asked(["validate"], repo, tmp_path, capsys)
    calibrated = _window_asked(["calibrate"], repo, tmp_path, capsys)
    assert calibrated == validated


def test_recording_gap_hurts_unless_empty_periods_are_skipped(implied, repo, tmp_path):
    path = _aggregated_csv(implied, tmp_path / "gap.csv")
    table = pd.read_csv(path)
    active = (table.long_usd + table.short_usd) > 0
    gap = table.index[active][40:64]  # a day of periods with liquidations goes unrecorded
    table.loc[gap, ["long_usd", "short_usd"]] = 0.0
    table.to_csv(path, index=False)
    record = load_realized(path)
    inputs = load_window(
        repo / "user_data/data/binance", PAIR, "5m", START, STOP, pd.Timedelta(WARMUP)
    )
    plain = validate(PairFrames(inputs.candles), record, pair=PAIR)
    skipped = validate(
        PairFrames(inputs.candles),
        record,
        pair=PAIR,
        settings=ValidationSettings(skip_empty_periods=True),
    )
    assert plain.long.implied.rho < 0.95
    assert skipped.long.implied.rho == pytest.approx(1.0)
    assert len(skipped.periods) == int(active.sum()) - len(gap)
    assert any("periods with at least one realized event" in n for n in skipped.notes)


def test_calibrate_leaves_participation_alone_for_a_binance_lower_bound(implied, repo):
    from liq_signals.evaluation.calibrate import calibrate
    from liq_signals.evaluation.runner import ValidationError

    events = [
        LiquidationEvent(
            int(r.date.timestamp() * 1000),
            PAIR,
            "long",
            r.low,
            0.3 * r.liq_long_swept_usd / r.low,
            "binance",
        )
        for r in implied.itertuples()
        if r.liq_long_swept_usd > 0
    ]
    record = RealizedRecord(events_to_frame(events), pd.DataFrame(), ("constructed",))
    inputs = load_window(
        repo / "user_data/data/binance", PAIR, "5m", START, STOP, pd.Timedelta(WARMUP)
    )
    mid = pd.Timestamp("2025-10-09", tz="UTC")
    res = calibrate(
        PairFrames(inputs.candles),
        record,
        pair=PAIR,
        fit_range=(START, mid),
        test_range=(mid, STOP),
        grid={"decay_half_life_hours": (24.0, ModelConfig().decay_half_life_hours)},
        objective="nowcast",
    )
    assert res.best.participation == ModelConfig().participation
    assert "Binance forceOrder only, a lower bound" in res.participation_note
    # the generating value (the defaults'); 0.3x is scale-free
    assert res.best.decay_half_life_hours == ModelConfig().decay_half_life_hours
    assert res.best_span.log_scale == pytest.approx(np.log(0.3))
    # the record has no short liquidation: no side balance to score, not an infinite one
    assert math.isnan(res.best_span.balance)
    assert res.best_span.objective == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValidationError, match="unknown ModelConfig field"):
        calibrate(
            PairFrames(inputs.candles),
            record,
            pair=PAIR,
            fit_range=(START, mid),
            test_range=(mid, STOP),
            grid={"decay_half_life": (24.0,)},
        )


def test_record_shorter_than_the_zone_horizon_still_scores_periods(implied, repo):
    day = implied[(implied["date"] >= START) & (implied["date"] < START + pd.Timedelta("12h"))]
    events = [
        LiquidationEvent(
            int(r.date.timestamp() * 1000),
            PAIR,
            "long",
            r.low,
            r.liq_long_swept_usd / r.low,
            "bybit",
        )
        for r in day.itertuples()
        if r.liq_long_swept_usd > 0
    ]
    record = RealizedRecord(events_to_frame(events), pd.DataFrame(), ("constructed",))
    inputs = load_window(
        repo / "user_data/data/binance", PAIR, "5m", START, STOP, pd.Timedelta(WARMUP)
    )
    res = validate(PairFrames(inputs.candles), record, pair=PAIR)
    assert res.zones_long is None
    assert any(n.startswith("zone test skipped: the scored span is shorter") for n in res.notes)
    assert res.long.implied.rho == pytest.approx(1.0)


def test_zone_test_counts_every_crossed_zone_hit_when_liquidations_cover_the_band(repo):
    """Events on every 0.1 % below price, 1 minute into each 4-hour slot: every zone that
    price crosses in the next day has a realized long liquidation, so both the top-decile
    and the random-zone precision must be exactly 1 — unless the time windows or the zone
    mapping are misaligned."""
    inputs = load_window(
        repo / "user_data/data/binance", PAIR, "5m", START, STOP, pd.Timedelta(WARMUP)
    )
    candles = inputs.candles.set_index("date")
    events = []
    for slot in pd.date_range(START, STOP - pd.Timedelta("4h"), freq="4h"):
        price = candles.loc[slot - pd.Timedelta("5min"), "close"]
        t = int((slot + pd.Timedelta("1min")).timestamp() * 1000)
        for level in price * np.exp(-0.001 * np.arange(1, 110)):
            events.append(LiquidationEvent(t, PAIR, "long", float(level), 1.0, "bybit"))
    record = RealizedRecord(events_to_frame(events), pd.DataFrame(), ("constructed",))
    res = validate(PairFrames(inputs.candles), record, pair=PAIR)
    zl = res.zones_long
    assert zl is not None
    assert zl.random.n > 50
    assert zl.random.rate == 1.0
    assert zl.top.n == 0 or zl.top.rate == 1.0
    assert res.zones_short.random.k == 0  # no short liquidation anywhere


def test_run_model_gives_exactly_the_strategy_features(repo):
    from liq_signals.features.pipeline import compute_features

    inputs = load_window(
        repo / "user_data/data/binance",
        PAIR,
        "5m",
        START,
        START + pd.Timedelta("2D"),
        pd.Timedelta(WARMUP),
    )
    cfg = replace(ModelConfig(), decay_half_life_hours=30.0)
    ours = run_model(PairFrames(inputs.candles), pair=PAIR, timeframe="5m", config=cfg).features
    theirs = compute_features(inputs.candles, pair=PAIR, timeframe="5m", config=cfg)
    pd.testing.assert_frame_equal(ours, theirs)
