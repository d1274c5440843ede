"""The one place where the liquidation model's parameters are declared.

Every number the engine and the feature layer use comes from :class:`ModelConfig`; the
defaults are documented here and in ``docs/model.md``.  They are the one model every
command and the shipped strategy run (a config file may override fields).
``direction_tilt`` and ``side_notional_bias`` are fitted in open-interest
mode on hourly realized BTC liquidations (2025-12-05 → 2026-01-20, ``liq-signals
calibrate --grid``, docs/model.md "Where the defaults come from"); ``leverage_alpha`` and
``side_leverage_bias`` come from the earlier fit on Binance's 4-hour record (BTC 2025);
``decay_half_life_hours`` = 12 h because the scores cannot tell 12 h from 24, 72 or 251 h
apart (standing ρ within 0.002) while the strategy's terms need ten half-lives of book
before their 3-day window within the ~8.6 days of 5m candles freqtrade loads at start-up
(recursive-analysis: 24 h left a term 4 % off, 12 h 0.03 %); the others are reasoned.  Strategy
hyperopt parameters map onto these fields (``dataclasses.replace(cfg, ...)``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any


def _bands_increasing(c: ModelConfig) -> bool:
    return all(0 < b < 100 for b in c.bands_pct) and list(c.bands_pct) == sorted(set(c.bands_pct))


# (field named in the error, predicate that holds for a valid config, why it failed).
# Checked in order and the first failure raises, so a later predicate may rely on an
# earlier one (bands_pct is a non-empty tuple before its values are compared).
_CHECKS: tuple[tuple[str, Callable[[ModelConfig], bool], str], ...] = (
    (
        "grid_step",
        lambda c: 1e-5 <= c.grid_step <= 0.05,
        "must be in [1e-5, 0.05] (log-price step, 0.001 ≈ 0.1 %)",
    ),
    ("leverage_min", lambda c: c.leverage_min >= 1.0, "must be >= 1"),
    ("leverage_count", lambda c: c.leverage_count >= 1, "must be >= 1"),
    (
        "leverage_max",
        lambda c: c.leverage_max is None or c.leverage_max >= c.leverage_min,
        "must be >= leverage_min or None",
    ),
    ("decay_half_life_hours", lambda c: c.decay_half_life_hours > 0, "must be > 0 hours"),
    ("participation", lambda c: 0.0 <= c.participation <= 1.0, "must be a fraction in [0, 1]"),
    ("taker_tilt", lambda c: c.taker_tilt >= 0, "must be >= 0"),
    ("oi_reconcile", lambda c: 0.0 <= c.oi_reconcile <= 1.0, "must be in [0, 1]"),
    ("position_notional_usd", lambda c: c.position_notional_usd > 0, "must be > 0 USD"),
    ("cluster_width_pct", lambda c: c.cluster_width_pct > 0, "must be > 0 %"),
    (
        "nearest_min_share",
        lambda c: 0.0 <= c.nearest_min_share <= 1.0,
        "must be a fraction in [0, 1]",
    ),
    (
        "bands_pct",
        lambda c: isinstance(c.bands_pct, tuple) and bool(c.bands_pct),
        "must be a non-empty tuple of percents, e.g. (2.0, 5.0, 10.0)",
    ),
    ("bands_pct", _bands_increasing, "must be strictly increasing percents in (0, 100)"),
    ("cascade_band_pct", lambda c: 0 < c.cascade_band_pct < 100, "must be in (0, 100) %"),
    ("recent_sweep_candles", lambda c: c.recent_sweep_candles >= 1, "must be >= 1 candle"),
    (
        "oi_lag_candles",
        lambda c: c.oi_lag_candles >= 0 and c.metrics_lag_candles >= 0,
        "lags must be >= 0 candles",
    ),
    ("imbalance_floor_usd", lambda c: c.imbalance_floor_usd > 0, "must be > 0 USD"),
    ("atr_period", lambda c: c.atr_period >= 1, "must be >= 1 candle"),
    (
        "taker_share_proxy",
        lambda c: isinstance(c.taker_share_proxy, bool),
        "must be True or False",
    ),
    ("taker_proxy_window", lambda c: c.taker_proxy_window >= 2, "must be >= 2 candles"),
    ("side_leverage_bias", lambda c: abs(c.side_leverage_bias) <= 3.0, "must be in [-3, 3]"),
    ("direction_tilt", lambda c: c.direction_tilt >= 0, "must be >= 0"),
    (
        "side_notional_bias",
        lambda c: -1.0 < c.side_notional_bias < 1.0,
        "must be in (-1, 1)",
    ),
    (
        "renormalize_below",
        lambda c: 0 < c.renormalize_below < 1e-10,
        "must be in (0, 1e-10)",
    ),
)


@dataclass(frozen=True)
class ModelConfig:
    """Parameters of the two-sided liquidation book (docs/model.md) and its features.

    :param grid_step: δ of the absolute log-price grid; bin ``k`` holds liquidation levels
        whose price rounds to ``exp(k·δ)``.  0.001 ≈ 0.1 % per bin: finer than any band or
        cluster we report, coarse enough that a 50 % price range is ~700 bins.
    :param leverage_min: lowest leverage of the mix (2x: below that, liquidation is > 50 %
        away and irrelevant to the features).
    :param leverage_count: number of log-spaced leverages from ``leverage_min`` to the
        pair's max leverage.  Many leverages give a smooth map instead of spikes.
    :param leverage_alpha: weights of the mix ∝ ``L**-alpha`` (1.0: each doubling of
        leverage carries ~half the notional of the previous one, per log-step).
    :param leverage_max: optional extra ceiling on the mix (None: the pair's max leverage
        for ``position_notional_usd`` from the maintenance tiers).
    :param decay_half_life_hours: half-life of every level (churn net OI cannot see);
        the decay uses the real time between candles, so data gaps also decay the book.
    :param participation: fraction of traded volume (base units) that
        opens new positions on each side.
    :param taker_tilt: strength of the taker-buy tilt: with taker-buy share ``s`` long
        weights become ∝ ``L**(-alpha + tilt·(2s−1))`` and short weights
        ∝ ``L**(-alpha − tilt·(2s−1))`` (aggressive side carries higher leverage).
    :param oi_reconcile: OI mode — opens come from volume as in volume mode (net open
        interest cannot see positions opened and closed between two rows); each new
        open-interest row rescales both books by ``1 + oi_reconcile·gap/OI``, gap = the
        row's change minus the model's opens − liquidations since the previous row.  0: OI
        only caps the book (the default: no setting measured better, docs/model.md); 1: the
        whole gap.
    :param position_notional_usd: representative position size used to pick the
        maintenance tier (m, cum, max leverage) from the pair's tier table.
    :param cluster_width_pct: width of a "cluster": grid bins are summed into buckets of
        this width (aligned on the absolute grid) for magnet and nearest-cluster features.
    :param nearest_min_share: a cluster counts for ``liq_nearest_*`` when it holds at least
        this share of its side's whole book.
    :param bands_pct: band widths (percent of close) for the short-above / long-below /
        imbalance features; the widest band also bounds the magnet and nearest search.
    :param cascade_band_pct: width of the band whose notional, divided by its width, is
        the "cascade fuel" (USD of liquidations per 1 % of move).
    :param recent_sweep_candles: window (candles) of ``liq_swept_*_usd_recent``.
    :param oi_lag_candles: open interest stamped T is used from candle T + lag·timeframe
        (docs/architecture.md, timing rules: a one-candle lag makes backtest and dry-run agree).
    :param metrics_lag_candles: same lag for the taker/long-short metrics sidecar.
    :param imbalance_floor_usd: added to both sides before the log ratio so empty bands
        give 0 instead of ±inf.
    :param atr_period: candles of the Wilder ATR that scales the ``*_dist_atr`` features
        (14: the period of Wilder's original and of the strategies' own ATR).  Used by the
        feature layer only, never by the book.
    :param taker_share_proxy: when True, candles without a usable taker-buy share take the
        OHLC proxy :func:`liq_signals.data.oi_sources.taker_buy_share_proxy` instead of no
        tilt.  Off by default: the proxy's direction agrees with real taker flow on ~3/4 of
        candles, but its size (Φ of a standardised return, spread over all of [0, 1]) is
        not measured against real shares (docs/model.md).
    :param taker_proxy_window: trailing candles of the proxy's volatility estimate.
    :param renormalize_below: the books store amounts divided by a lazy scale factor
        (decay, closes and the cap multiply one scalar instead of every bin); when the
        scale falls below this, it is folded back into the arrays.
    :param side_leverage_bias: side asymmetry, leverage — a constant b added to the
        taker tilt: long weights ∝ ``L**(-alpha + b)``, short ∝ ``L**(-alpha − b)``
        (b > 0: longs run higher leverage, so their levels sit nearer the price).
        0 = both sides alike (docs/model.md, "Longs and shorts"; 0.096 calibrated on
        the 4-hour record).
    :param direction_tilt: side asymmetry, aggressor — the candle's close position in its
        range ``r`` in [-1, 1] adds ``direction_tilt·r`` to the tilt: the side the candle
        moved for opened at the higher leverage.  Public in backtest and dry-run alike
        (2.0 fitted; the effect saturates above ~3).
    :param side_notional_bias: side asymmetry, notional — b > 0: only ``1 − b`` of the
        opened contracts enter the short book (the rest held without liquidatable
        leverage, e.g. hedges); b < 0: only ``1 + b`` enter the long book (−0.05 fitted
        on the hourly record: with the direction tilt the sides nearly balance already).
    """

    grid_step: float = 0.001
    leverage_min: float = 2.0
    leverage_count: int = 48
    leverage_alpha: float = 0.81
    leverage_max: float | None = None
    decay_half_life_hours: float = 12.0
    participation: float = 0.05
    taker_tilt: float = 0.5
    oi_reconcile: float = 0.0
    position_notional_usd: float = 10_000.0
    cluster_width_pct: float = 0.5
    nearest_min_share: float = 0.005
    bands_pct: tuple[float, ...] = (2.0, 5.0, 10.0)
    cascade_band_pct: float = 1.0
    recent_sweep_candles: int = 12
    oi_lag_candles: int = 1
    metrics_lag_candles: int = 1
    imbalance_floor_usd: float = 1.0
    atr_period: int = 14
    taker_share_proxy: bool = False
    taker_proxy_window: int = 288
    renormalize_below: float = 1e-100
    side_leverage_bias: float = 0.096
    direction_tilt: float = 2.0
    side_notional_bias: float = -0.05

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise self._invalid(f.name, "must be a finite number")
        for name, ok, why in _CHECKS:
            if not ok(self):
                raise self._invalid(name, why)

    def _invalid(self, name: str, why: str) -> ValueError:
        return ValueError(f"ModelConfig.{name}={getattr(self, name)!r}: {why}")

    @property
    def decay_tau_seconds(self) -> float:
        """e-folding time τ of the decay: half-life / ln 2, in seconds."""
        return self.decay_half_life_hours * 3600.0 / math.log(2.0)

    @property
    def cluster_bins(self) -> int:
        """Number of grid bins per cluster bucket (at least one)."""
        return max(1, round(math.log1p(self.cluster_width_pct / 100.0) / self.grid_step))


# ---- the model file on disk ----------------------------------------------------------
# The JSON ``liq-signals calibrate --out`` writes and the strategy / CLI read back:
#   {"model_config": {"leverage_alpha": 1.5, ...}, "fit": {...what was fitted, on which data...}}
# Only ``model_config`` is read back; every key must be a ModelConfig field (a typo is an
# error, not a silently ignored setting).
MODEL_KEY = "model_config"
FIT_KEY = "fit"


def model_config_to_dict(cfg: ModelConfig) -> dict[str, Any]:
    """JSON-ready dict of every field (tuples become lists)."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(cfg).items()}


def save_model_config(
    cfg: ModelConfig, path: str | Path, fit: dict[str, Any] | None = None
) -> Path:
    """Write ``cfg`` (all fields, so the file is complete on its own) and fit metadata.

    Atomic: a strategy reading the file while ``calibrate`` rewrites it sees one whole file.
    """
    from liq_signals.atomic import atomic_write_text

    payload = {MODEL_KEY: model_config_to_dict(cfg), FIT_KEY: fit or {}}
    return atomic_write_text(path, json.dumps(payload, indent=2, default=str) + "\n")


def read_json_with_comments(path: Path, what: str) -> Any:
    """``path`` parsed as freqtrade parses its configs (``//`` and ``/* */`` comments,
    trailing commas), so a model file may carry notes as the freqtrade config next to it.

    :raise ConfigError: the file is missing or not JSON; the message names it and ``what``
    """
    import rapidjson  # freqtrade's own JSON parser (a freqtrade dependency)
    from freqtrade.configuration.load_config import CONFIG_PARSE_MODE

    from liq_signals.errors import ConfigError

    try:
        with path.open(encoding="utf-8") as file:
            return rapidjson.load(file, parse_mode=CONFIG_PARSE_MODE)
    except (OSError, rapidjson.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc}") from exc


def load_model_config(path: str | Path, base: ModelConfig | None = None) -> ModelConfig:
    """Read a parameter file (JSON; comments and trailing commas allowed, as in freqtrade
    configs); fields it does not name keep ``base``'s (default) values.

    :raise ConfigError: (a ``ValueError``) unreadable JSON, no ``model_config`` object, an
        unknown field, or a value ModelConfig rejects — each message names the file
    """
    from liq_signals.errors import ConfigError

    path = Path(path)
    payload = read_json_with_comments(path, what="model parameters")
    values = payload.get(MODEL_KEY) if isinstance(payload, dict) else None
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: expected a JSON object with a {MODEL_KEY!r} object")
    known = {f.name for f in fields(ModelConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown ModelConfig field(s) {unknown}; known: {sorted(known)}")
    base_values = asdict(base or ModelConfig())
    for key, value in values.items():
        base_values[key] = tuple(value) if isinstance(value, list) else value
    try:
        return ModelConfig(**base_values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


# ---- the freqtrade config section --------------------------------------------------------
#: the freqtrade config key holding this project's settings
CONFIG_SECTION = "liq_signals"
#: every key the section may hold, with what it does (a typo is an error naming these)
SECTION_KEYS: dict[str, str] = {
    MODEL_KEY: "model parameter file (JSON as `liq-signals calibrate --out` writes); "
    "relative paths: current directory, then user_data_dir",
    "oi_volume_fallback": "true: an open-interest file that exists but cannot be read is "
    "skipped with a warning (volume-flow mode) instead of stopping the run",
}


def config_section(config: dict[str, Any]) -> dict[str, Any]:
    """The ``liq_signals`` section of a freqtrade config (empty when absent).

    :raise ConfigError: the section is not an object, or names a key not in
        :data:`SECTION_KEYS` (``model_confg`` would otherwise be ignored in silence)
    """
    from liq_signals.errors import ConfigError

    section = config.get(CONFIG_SECTION) or {}
    if not isinstance(section, dict):
        raise ConfigError(
            f"config {CONFIG_SECTION!r} must be an object, e.g. "
            f'{{"{MODEL_KEY}": "liq_model.json"}}; got {section!r}'
        )
    unknown = sorted(set(section) - set(SECTION_KEYS))
    if unknown:
        valid = "; ".join(f"{k}: {v}" for k, v in SECTION_KEYS.items())
        raise ConfigError(
            f"config {CONFIG_SECTION!r}: unknown key(s) {unknown}; valid keys: {valid}"
        )
    return section


def model_config_path(config: dict[str, Any]) -> Path | None:
    """The model file named by ``config[liq_signals][model_config]``, resolved as freqtrade
    users expect: as given when it exists, else under ``user_data_dir``; ``None`` when the
    config names none."""
    name = config_section(config).get(MODEL_KEY)
    if not name:
        return None
    path = Path(name)
    if not path.is_absolute() and not path.exists() and config.get("user_data_dir"):
        path = Path(config["user_data_dir"]) / path
    return path


def model_config_from_freqtrade(
    config: dict[str, Any], base: ModelConfig | None = None
) -> ModelConfig:
    """The model a freqtrade config asks for: ``base`` (default ``ModelConfig()``), or the
    file of its ``liq_signals`` section laid over it.

    :raise ConfigError: unknown section key, missing or invalid file (names it)
    """
    path = model_config_path(config)
    return (base or ModelConfig()) if path is None else load_model_config(path, base=base)
