"""Read everything the model can use for one pair from a freqtrade datadir.

Candles, mark, funding and open interest are read with freqtrade's own data handler (the
same files ``freqtrade download-data`` writes); the metrics sidecar with
:mod:`liq_signals.data.sidecar`.  Nothing here fills gaps: ``fill_missing=False`` keeps
the file's truth, and :mod:`liq_signals.data.validate` decides what a gap means.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from liq_signals.data.validate import LiqInputError

logger = logging.getLogger(__name__)

DEFAULT_DATADIR = Path("user_data") / "data" / "binance"
DATA_FORMAT = "feather"


@dataclass(frozen=True)
class PairInputs:
    """Raw frames for one pair (None where the datadir has no such file).

    :param files: what was read, kind -> path (for messages and the CLI's report).
    """

    pair: str
    timeframe: str
    candles: pd.DataFrame
    open_interest: pd.DataFrame | None = None
    mark: pd.DataFrame | None = None
    funding: pd.DataFrame | None = None
    metrics: pd.DataFrame | None = None
    files: dict[str, Path] = field(default_factory=dict)


def _download_hint(pair: str, timeframe: str, trading_mode: str, candle_types: str = "") -> str:
    extra = f" --candle-types {candle_types}" if candle_types else ""
    return (
        f"freqtrade download-data --exchange binance --trading-mode {trading_mode} "
        f"--pairs {pair} --timeframes {timeframe}{extra}"
    )


def load_pair_inputs(
    datadir: Path | str, pair: str, timeframe: str, trading_mode: str = "futures"
) -> PairInputs:
    """Load candles (required) and OI, mark, funding, metrics (optional) for ``pair``.

    :param datadir: the exchange folder, as freqtrade's ``--datadir`` (``user_data/data/binance``).
    :param pair: freqtrade pair, ``BTC/USDT:USDT`` for futures, ``BTC/USDT`` for spot.
    :param timeframe: candle timeframe, e.g. ``5m``.
    :param trading_mode: ``futures`` or ``spot`` (spot has no OI/mark: volume mode).
    :return: :class:`PairInputs`.
    :raise LiqInputError: the datadir or the candle file does not exist (the message names
        the file and the download-data command that creates it).
    """
    from freqtrade.data.history import get_datahandler
    from freqtrade.enums import CandleType

    datadir = Path(datadir)
    if not datadir.is_dir():
        raise LiqInputError(
            f"{pair}: datadir {datadir} does not exist — pass the exchange folder "
            f"(e.g. {DEFAULT_DATADIR}) or run `{_download_hint(pair, timeframe, trading_mode)}`"
        )
    handler = get_datahandler(datadir, DATA_FORMAT)
    futures = trading_mode == "futures"
    kind = CandleType.FUTURES if futures else CandleType.SPOT
    files: dict[str, Path] = {}

    def path_of(ctype: CandleType, tf: str) -> Path:
        return handler._pair_data_filename(datadir, pair, tf, ctype)

    def load(ctype: CandleType, tf: str, label: str) -> pd.DataFrame | None:
        path = path_of(ctype, tf)
        if not path.exists():
            return None
        frame = handler.ohlcv_load(pair, tf, ctype, fill_missing=False, warn_no_data=False)
        files[label] = path
        return frame if len(frame) else None

    candles = load(kind, timeframe, "candles")
    if candles is None:
        raise LiqInputError(
            f"{pair}: no candles in {path_of(kind, timeframe)} — run "
            f"`{_download_hint(pair, timeframe, trading_mode)}`"
        )
    oi = mark = funding = metrics = None
    if futures:
        oi = load(CandleType.OPEN_INTEREST, timeframe, "open_interest")
        mark = load(CandleType.MARK, timeframe, "mark")
        for tf in ("1h", "8h", timeframe):
            funding = load(CandleType.FUNDING_RATE, tf, "funding")
            if funding is not None:
                break
        from liq_signals.data.sidecar import read_sidecar, sidecar_path

        side = sidecar_path(datadir, pair, timeframe)
        if side.exists():
            metrics = read_sidecar(datadir, pair, timeframe)
            files["metrics"] = side
        if oi is None:
            logger.info(
                "%s: no open-interest file %s — volume mode (get it with `%s`).",
                pair, path_of(CandleType.OPEN_INTEREST, timeframe),
                _download_hint(pair, timeframe, trading_mode, "open_interest"),
            )
    return PairInputs(pair, timeframe, candles, oi, mark, funding, metrics, files)
