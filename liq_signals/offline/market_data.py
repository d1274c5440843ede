"""A freqtrade datadir, read once, as time-indexed arrays the emulator can slice.

The emulator answers every request from these arrays with ``numpy.searchsorted`` so a
request never touches pandas or the disk after the first load of a file.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from liq_signals.columns import OI_AMOUNT, OI_VALUE, TAKER_NET_BASE
from liq_signals.timeframes import timeframe_ms

logger = logging.getLogger(__name__)

# freqtrade candle-type suffixes in datadir file names (``<PAIR>-<tf>-<type>.feather``)
FUTURES = "futures"
MARK = "mark"
INDEX = "index"
PREMIUM_INDEX = "premiumIndex"
FUNDING_RATE = "funding_rate"
OPEN_INTEREST = "open_interest"
METRICS = "metrics"  # our sidecar (taker flow, ratios); not a freqtrade candle type
PRICE_TYPES = (FUTURES, MARK, INDEX, PREMIUM_INDEX)

OHLCV = ("open", "high", "low", "close", "volume")
COL_DATE = "date"
COL_FUNDING_RATE = "funding_rate"
COL_OI_AMOUNT = OI_AMOUNT
COL_OI_VALUE = OI_VALUE
COL_TAKER_NET_BASE = TAKER_NET_BASE

_FILE_RE = re.compile(
    r"^(?P<pair>[A-Za-z0-9]+_[A-Za-z0-9]+_[A-Za-z0-9]+)-(?P<tf>\d+[smhdw])-"
    r"(?P<kind>futures|mark|index|premiumIndex|funding_rate|open_interest|metrics)"
    r"\.(?P<ext>feather|parquet|arrow)$"
)
_MONDAY_OFFSET_MS = 4 * 86_400_000  # 1970-01-05, the first Monday after the epoch
_WEEK_MS = 604_800_000


def pair_to_symbol(pair: str) -> str:
    """``BTC/USDT:USDT`` -> ``BTCUSDT`` (Binance's id of a USDⓈ-M perpetual)."""
    base, rest = pair.split("/")
    return base + rest.split(":")[0]


@dataclass(frozen=True)
class Series:
    """One datadir file as arrays: ``t`` are candle-open (or snapshot) times in ms.

    ``cols`` maps column names to float arrays aligned with ``t``; ``tf_ms`` is the file's
    timeframe, used to decide when a candle is complete.
    """

    t: np.ndarray
    cols: dict[str, np.ndarray]
    tf_ms: int
    source: str

    def __len__(self) -> int:
        return int(self.t.size)


@dataclass(frozen=True)
class PairFiles:
    """The files found for one pair, keyed by ``(kind, timeframe)``."""

    pair: str
    symbol: str
    base: str
    quote: str
    settle: str
    files: dict[tuple[str, str], Path]


class MarketData:
    """All pairs of one freqtrade exchange datadir (e.g. ``user_data/data/binance``).

    Files are discovered at construction and loaded lazily (the 5m file of a year is a
    few MB), each at most once, behind a lock because the HTTP server is threaded.

    :param datadir: the exchange folder; files are looked for in ``<datadir>/futures``
        (``None``: no pairs, e.g. an emulator that only serves the archive route)
    :raise FileNotFoundError: when the folder does not exist
    """

    def __init__(self, datadir: Path | None) -> None:
        self.datadir = Path(datadir) if datadir is not None else Path("<no datadir>")
        if datadir is not None and not self.datadir.is_dir():
            raise FileNotFoundError(f"datadir {self.datadir} does not exist")
        self.pairs: dict[str, PairFiles] = {}
        self._cache: dict[tuple[str, str, str], Series | None] = {}
        self._lock = threading.Lock()
        folder = self.datadir / "futures"
        if datadir is None:
            return
        found: dict[str, dict[tuple[str, str], Path]] = {}
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            m = _FILE_RE.match(path.name)
            if m is None:
                continue
            found.setdefault(m.group("pair"), {})[(m.group("kind"), m.group("tf"))] = path
        for stem, files in found.items():
            base, quote, settle = stem.split("_")
            pair = f"{base}/{quote}:{settle}"
            self.pairs[base + quote] = PairFiles(pair, base + quote, base, quote, settle, files)

    @property
    def symbols(self) -> list[str]:
        return sorted(self.pairs)

    def timeframes(self, symbol: str, kind: str) -> list[str]:
        """Timeframes with a file of this kind, finest first."""
        pf = self.pairs.get(symbol)
        if pf is None:
            return []
        tfs = [tf for (k, tf) in pf.files if k == kind]
        return sorted(tfs, key=timeframe_ms)

    def series(self, symbol: str, kind: str, timeframe: str | None = None) -> Series | None:
        """The file of ``kind`` at ``timeframe`` (finest one if ``None``), or ``None``."""
        tfs = self.timeframes(symbol, kind)
        if not tfs:
            return None
        tf = tfs[0] if timeframe is None else timeframe
        if tf not in tfs:
            return None
        key = (symbol, kind, tf)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = self._load(self.pairs[symbol].files[(kind, tf)], kind, tf)
            return self._cache[key]

    def candles(self, symbol: str, kind: str, timeframe: str) -> Series | None:
        """OHLCV of ``kind`` at ``timeframe``: the file itself, or aggregated from the
        coarsest finer file whose timeframe divides it (Binance serves every interval;
        a datadir holds a few).  ``None`` if nothing usable exists.
        """
        direct = self.series(symbol, kind, timeframe)
        if direct is not None:
            return direct
        want = timeframe_ms(timeframe)
        bases = [tf for tf in self.timeframes(symbol, kind) if want % timeframe_ms(tf) == 0]
        if not bases:
            return None
        key = (symbol, kind, timeframe)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        base = self.series(symbol, kind, bases[-1])
        assert base is not None
        agg = aggregate(base, want)
        with self._lock:
            self._cache[key] = agg
        return agg

    @staticmethod
    def _load(path: Path, kind: str, timeframe: str) -> Series:
        df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_feather(path)
        if COL_DATE not in df.columns:
            raise ValueError(f"{path}: no '{COL_DATE}' column (columns: {list(df.columns)})")
        dates = pd.to_datetime(df[COL_DATE], utc=True)
        t = (dates.astype("datetime64[ms, UTC]").astype("int64")).to_numpy()
        if t.size and not np.all(np.diff(t) > 0):
            bad = int(np.argmin(np.diff(t) > 0)) + 1
            raise ValueError(f"{path}: dates not strictly increasing at row {bad} ({dates[bad]})")
        cols: dict[str, np.ndarray] = {}
        for name in df.columns:
            if name == COL_DATE:
                continue
            values = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype="float64")
            cols[name] = values
        if kind == FUNDING_RATE and COL_FUNDING_RATE not in cols:
            # legacy freqtrade funding files keep the rate in ``open``
            if "open" not in cols:
                raise ValueError(f"{path}: neither 'funding_rate' nor legacy 'open' column")
            cols[COL_FUNDING_RATE] = cols["open"]
        logger.debug("emulator loaded %s (%d rows)", path, t.size)
        return Series(t=t, cols=cols, tf_ms=timeframe_ms(timeframe), source=str(path))


def aggregate(base: Series, tf_ms: int) -> Series:
    """OHLCV of ``base`` bucketed into candles of ``tf_ms`` (open first, high max, low min,
    close last, volume sum), aligned to the epoch like Binance's intervals — except weekly
    candles, which Binance opens on Monday 00:00 UTC (the epoch was a Thursday)."""
    offset = _MONDAY_OFFSET_MS if tf_ms == _WEEK_MS else 0
    bucket = base.t - (base.t - offset) % tf_ms
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], bucket.size]
    cols = {
        "open": base.cols["open"][starts],
        "high": np.maximum.reduceat(base.cols["high"], starts) if starts.size else starts * 0.0,
        "low": np.minimum.reduceat(base.cols["low"], starts) if starts.size else starts * 0.0,
        "close": base.cols["close"][ends - 1],
        "volume": np.add.reduceat(base.cols["volume"], starts) if starts.size else starts * 0.0,
    }
    return Series(t=bucket[starts], cols=cols, tf_ms=tf_ms, source=f"{base.source} (aggregated)")
