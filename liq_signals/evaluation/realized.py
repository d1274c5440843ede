"""Realized liquidations: one normalised schema, parsers for the public streams, loaders.

Everything the validation needs from a record of *realized* liquidations passes through
this module, so the side convention is decided in exactly one place:

* Binance ``forceOrder`` reports the side of the liquidation **order**: ``SELL`` means a
  long position was force-closed, ``BUY`` a short (docs/model.md).  The stream pushes at most
  one event per symbol per second, so its totals are a lower bound.
* Bybit ``allLiquidation`` reports the side of the liquidated **position**: ``Buy`` means
  a long was liquidated, ``Sell`` a short.  It is complete.

The normalised event frame has the columns in :data:`EVENT_COLUMNS`: ``date`` (UTC),
``pair`` (freqtrade futures pair, e.g. ``BTC/USDT:USDT``), ``side`` (side of the
liquidated position, ``long``/``short``), ``price``, ``quantity`` (base units),
``notional_usd`` (price × quantity) and ``exchange``.

Accepted files (:func:`load_realized` detects the kind from the header):

* Binance forceOrder CSVs with Binance's field names (``symbol,side,...,event_time_ms,
  trade_time_ms``), like ``tests/testdata/BTCUSDT-forceOrder-2024-12-04_06.csv``;
* JSON-lines files of raw Bybit ``allLiquidation`` (or Binance ``forceOrder``) websocket
  messages, one message per line;
* the daily CSV files written by ``liq-signals record-liquidations``;
* aggregated per-period CSVs ``date,long_usd,short_usd`` (``time``/``timestamp`` accepted
  for the first column; epoch milliseconds or ISO-8601 UTC; CoinGlass's ``longUsd`` /
  ``shortUsd`` accepted for the amounts; any period), e.g. the shipped CoinGlass
  record ``user_data/realized/coinglass-binance-4h/liquidations/``.  A file named
  ``<COIN>-<period>-liquidations.csv`` (``BTC-4h-liquidations.csv``) belongs to that coin
  and holds totals of that period; otherwise the period is the smallest step between rows.
  An optional ``record.json`` next to the files says what they are (``exchange``,
  ``period``, ``complete``, ``description``).

Bad rows raise :class:`LiquidationDataError` naming the file and the first bad row;
nothing is coerced silently.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from liq_signals.errors import InputError

logger = logging.getLogger(__name__)

# --- normalised schema -------------------------------------------------------------------
COL_DATE = "date"
COL_PAIR = "pair"
COL_SIDE = "side"
COL_PRICE = "price"
COL_QUANTITY = "quantity"
COL_NOTIONAL = "notional_usd"
COL_EXCHANGE = "exchange"
#: what an event says beyond its time (the same in memory and in the recorder's files)
_EVENT_FIELDS: tuple[str, ...] = (
    COL_PAIR,
    COL_SIDE,
    COL_PRICE,
    COL_QUANTITY,
    COL_NOTIONAL,
    COL_EXCHANGE,
)
EVENT_COLUMNS: tuple[str, ...] = (COL_DATE, *_EVENT_FIELDS)
SIDE_LONG = "long"
SIDE_SHORT = "short"

# per-period aggregate columns
COL_LONG_USD = "long_usd"
COL_SHORT_USD = "short_usd"
AGGREGATE_COLUMNS: tuple[str, ...] = (COL_LONG_USD, COL_SHORT_USD)
# CoinGlass's own spellings of the same columns (its API and CSV exports)
AGGREGATE_ALIASES: dict[str, str] = {"longUsd": COL_LONG_USD, "shortUsd": COL_SHORT_USD}

# on-disk columns of the recorder's daily files (time kept as integer ms: exact, sortable)
RECORD_TIME = "time_ms"
RECORD_COLUMNS: tuple[str, ...] = (RECORD_TIME, *_EVENT_FIELDS)

EXCHANGE_BINANCE = "binance"
EXCHANGE_BYBIT = "bybit"

# Binance: order side -> liquidated position side.  Bybit: position side.
_BINANCE_ORDER_SIDE = {"SELL": SIDE_LONG, "BUY": SIDE_SHORT}
_BYBIT_POSITION_SIDE = {"Buy": SIDE_LONG, "Sell": SIDE_SHORT}

_BINANCE_CSV_REQUIRED = (
    "symbol",
    "side",
    "average_price",
    "price",
    "accumulated_filled_quantity",
    "trade_time_ms",
)
_QUOTES = ("USDT", "USDC")
_TIME_ALIASES = ("date", "time", "timestamp")

# aggregated files: "<COIN>-<period>-liquidations.csv" names the coin and the period
_AGGREGATED_NAME = re.compile(
    r"(?P<coin>[A-Za-z0-9]+)-(?P<period>\d+(?:m|min|h|d|D|w|W))-liquidations"
)
# what a folder of aggregated files is (optional): exchange, period, complete, description
RECORD_SIDECAR = "record.json"
_SIDECAR_KEYS = {"exchange", "period", "complete", "description"}


class LiquidationDataError(InputError, ValueError):
    """A realized-liquidation file or message that cannot be read as documented."""


@dataclass(frozen=True)
class LiquidationEvent:
    """One realized liquidation in the normalised schema.

    :param time_ms: exchange trade time, epoch milliseconds UTC
    :param pair: freqtrade futures pair, e.g. ``BTC/USDT:USDT``
    :param side: side of the liquidated position, ``long`` or ``short``
    :param price: fill (average) price
    :param quantity: filled quantity in base units
    :param exchange: ``binance`` or ``bybit``
    """

    time_ms: int
    pair: str
    side: str
    price: float
    quantity: float
    exchange: str

    @property
    def notional_usd(self) -> float:
        return self.price * self.quantity

    def key(self) -> tuple[int, str, str, float, float]:
        """Identity used to drop an event a stream delivers twice (e.g. around a reconnect)."""
        return (self.time_ms, self.pair, self.side, self.price, self.quantity)


# --- symbols ----------------------------------------------------------------------------
def symbol_to_pair(symbol: str) -> str:
    """Map an exchange symbol (``BTCUSDT``) to freqtrade's futures pair (``BTC/USDT:USDT``).

    :raise LiquidationDataError: for a symbol that is not a linear USDT/USDC contract
    """
    for quote in _QUOTES:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return f"{symbol[: -len(quote)]}/{quote}:{quote}"
    raise LiquidationDataError(
        f"symbol {symbol!r} is not a linear USDT/USDC contract; only those are supported"
    )


def pair_to_symbol(pair: str) -> str:
    """Map ``BTC/USDT:USDT`` (or ``BTC/USDT``, or ``BTCUSDT``) to the exchange symbol."""
    base_quote = pair.split(":", 1)[0]
    return base_quote.replace("/", "").upper()


def pair_to_filename(pair: str) -> str:
    """freqtrade's pair-to-file convention: ``BTC/USDT:USDT`` -> ``BTC_USDT_USDT``."""
    return pair.replace("/", "_").replace(":", "_")


# --- websocket message parsers -------------------------------------------------------------
def _num(value: Any, what: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError) as exc:
        raise LiquidationDataError(f"{what} is not a number: {value!r}") from exc
    if not np.isfinite(out) or out <= 0:
        raise LiquidationDataError(f"{what} must be a positive number, got {value!r}")
    return out


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise LiquidationDataError(f"{what} is not an integer: {value!r}")
    try:
        out = int(value)
    except (TypeError, ValueError) as exc:
        raise LiquidationDataError(f"{what} is not an integer: {value!r}") from exc
    if out <= 0:
        raise LiquidationDataError(f"{what} must be positive, got {value!r}")
    return out


def parse_binance_message(message: Mapping[str, Any]) -> list[LiquidationEvent]:
    """Parse one Binance USDⓈ-M ``forceOrder`` stream message.

    Accepts the raw payload (``{"e": "forceOrder", "E": ..., "o": {...}}``) and the
    combined-stream wrapper (``{"stream": ..., "data": {...}}``).  Quantity is the
    accumulated filled quantity ``z`` and price the average fill price ``ap`` (falling
    back to the order price ``p`` when ``ap`` is zero), so notional is what was actually
    force-closed.  Subscription acknowledgements (``{"result": null, "id": 1}``) give [].

    :param message: decoded JSON message
    :return: the events in the message (zero or one)
    :raise LiquidationDataError: if the message is not a well-formed forceOrder event
    """
    if not isinstance(message, Mapping):
        raise LiquidationDataError(f"message is not a JSON object: {message!r:.200}")
    if "result" in message and "id" in message:
        return []
    payload = message.get("data", message)
    if not isinstance(payload, Mapping) or payload.get("e") != "forceOrder":
        raise LiquidationDataError(f"not a forceOrder event: {message!r:.200}")
    order = payload.get("o")
    if not isinstance(order, Mapping):
        raise LiquidationDataError(f"forceOrder event without an order object: {message!r:.200}")
    side = _BINANCE_ORDER_SIDE.get(str(order.get("S")))
    if side is None:
        raise LiquidationDataError(f"forceOrder side must be BUY or SELL, got {order.get('S')!r}")
    price = (
        _num(order.get("ap"), "average price 'ap'")
        if _is_positive(order.get("ap"))
        else (_num(order.get("p"), "price 'p'"))
    )
    return [
        LiquidationEvent(
            time_ms=_int(order.get("T"), "trade time 'T'"),
            pair=symbol_to_pair(str(order.get("s"))),
            side=side,
            price=price,
            quantity=_num(order.get("z"), "filled quantity 'z'"),
            exchange=EXCHANGE_BINANCE,
        )
    ]


def parse_bybit_message(message: Mapping[str, Any]) -> list[LiquidationEvent]:
    """Parse one Bybit v5 public ``allLiquidation.<SYMBOL>`` message.

    Bybit's ``S`` is the side of the liquidated *position* (``Buy`` = long liquidated),
    the opposite convention to Binance.  Control frames (subscribe acknowledgements and
    pongs, ``{"op": ..., "success": ...}``) give [].

    :param message: decoded JSON message
    :return: the events in the message (a frame may batch several)
    :raise LiquidationDataError: if the message is not a well-formed allLiquidation frame
    """
    if not isinstance(message, Mapping):
        raise LiquidationDataError(f"message is not a JSON object: {message!r:.200}")
    if "op" in message and "topic" not in message:
        return []
    topic = message.get("topic")
    if not isinstance(topic, str) or not topic.startswith("allLiquidation."):
        raise LiquidationDataError(f"not an allLiquidation frame: {message!r:.200}")
    data = message.get("data")
    if not isinstance(data, list):
        raise LiquidationDataError(f"allLiquidation frame without a data list: {message!r:.200}")
    events = []
    for item in data:
        if not isinstance(item, Mapping):
            raise LiquidationDataError(f"allLiquidation entry is not an object: {item!r:.200}")
        side = _BYBIT_POSITION_SIDE.get(str(item.get("S")))
        if side is None:
            raise LiquidationDataError(
                f"allLiquidation side must be Buy or Sell, got {item.get('S')!r}"
            )
        events.append(
            LiquidationEvent(
                time_ms=_int(item.get("T"), "time 'T'"),
                pair=symbol_to_pair(str(item.get("s"))),
                side=side,
                price=_num(item.get("p"), "price 'p'"),
                quantity=_num(item.get("v"), "size 'v'"),
                exchange=EXCHANGE_BYBIT,
            )
        )
    return events


PARSERS = {EXCHANGE_BINANCE: parse_binance_message, EXCHANGE_BYBIT: parse_bybit_message}


def _is_positive(value: Any) -> bool:
    try:
        return float(value) > 0
    except (TypeError, ValueError):
        return False


# --- frames ------------------------------------------------------------------------------
def empty_events() -> pd.DataFrame:
    """A typed empty event frame (never ``None``)."""
    return pd.DataFrame(
        {
            COL_DATE: pd.Series([], dtype="datetime64[ms, UTC]"),
            COL_PAIR: pd.Series([], dtype=object),
            COL_SIDE: pd.Series([], dtype=object),
            COL_PRICE: pd.Series([], dtype=float),
            COL_QUANTITY: pd.Series([], dtype=float),
            COL_NOTIONAL: pd.Series([], dtype=float),
            COL_EXCHANGE: pd.Series([], dtype=object),
        }
    )


def events_to_frame(events: Iterable[LiquidationEvent]) -> pd.DataFrame:
    """Normalised, time-sorted frame from parsed events."""
    rows = list(events)
    if not rows:
        return empty_events()
    frame = pd.DataFrame(
        {
            COL_DATE: pd.to_datetime([e.time_ms for e in rows], unit="ms", utc=True),
            COL_PAIR: [e.pair for e in rows],
            COL_SIDE: [e.side for e in rows],
            COL_PRICE: np.array([e.price for e in rows], dtype=float),
            COL_QUANTITY: np.array([e.quantity for e in rows], dtype=float),
            COL_EXCHANGE: [e.exchange for e in rows],
        }
    )
    frame[COL_NOTIONAL] = frame[COL_PRICE] * frame[COL_QUANTITY]
    return _finish(frame)


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame[list(EVENT_COLUMNS)]
    return frame.sort_values(COL_DATE, kind="stable").reset_index(drop=True)


def _first_bad(mask: np.ndarray | pd.Series) -> int | None:
    bad = np.flatnonzero(np.asarray(mask, dtype=bool))
    return int(bad[0]) if bad.size else None


def _fail(path: Path, row: int, why: str, raw: Any = None) -> LiquidationDataError:
    # row is 0-based among data rows; files show it 1-based after the header (line row + 2)
    shown = f": {raw!r:.200}" if raw is not None else ""
    return LiquidationDataError(f"{path}: line {row + 2}: {why}{shown}")


def _positive_column(path: Path, df: pd.DataFrame, column: str) -> np.ndarray:
    values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    row = _first_bad(~np.isfinite(values) | (values <= 0))
    if row is not None:
        raise _fail(path, row, f"{column} must be a positive number", df[column].iloc[row])
    return values


def _require(path: Path, df: pd.DataFrame, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise LiquidationDataError(f"{path}: missing column(s) {missing}; found {list(df.columns)}")


def load_binance_force_orders(path: str | Path) -> pd.DataFrame:
    """Load a Binance forceOrder CSV (Binance field names, one event per row).

    ``side`` is Binance's order side: ``SELL`` = a long was liquidated.  Quantity is
    ``accumulated_filled_quantity``, price ``average_price`` (``price`` where that is 0).

    :param path: CSV with at least the columns in ``_BINANCE_CSV_REQUIRED``
    :return: normalised event frame
    :raise LiquidationDataError: naming the file and first bad line
    """
    path = Path(path)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    _require(path, df, _BINANCE_CSV_REQUIRED)
    if df.empty:
        return empty_events()
    sides = df["side"].map(_BINANCE_ORDER_SIDE)
    row = _first_bad(sides.isna())
    if row is not None:
        raise _fail(path, row, "side must be BUY or SELL", df["side"].iloc[row])
    times = pd.to_numeric(df["trade_time_ms"], errors="coerce").to_numpy(dtype=float)
    row = _first_bad(~np.isfinite(times) | (times <= 0))
    if row is not None:
        raise _fail(
            path, row, "trade_time_ms must be epoch milliseconds", df["trade_time_ms"].iloc[row]
        )
    avg = pd.to_numeric(df["average_price"], errors="coerce").to_numpy(dtype=float)
    limit = _positive_column(path, df, "price")
    row = _first_bad(~np.isfinite(avg) | (avg < 0))
    if row is not None:
        raise _fail(path, row, "average_price must be a number >= 0", df["average_price"].iloc[row])
    price = np.where(avg > 0, avg, limit)
    quantity = _positive_column(path, df, "accumulated_filled_quantity")
    pairs = []
    for i, symbol in enumerate(df["symbol"]):
        try:
            pairs.append(symbol_to_pair(symbol))
        except LiquidationDataError as exc:
            raise _fail(path, i, str(exc)) from None
    frame = pd.DataFrame(
        {
            COL_DATE: pd.to_datetime(times.astype(np.int64), unit="ms", utc=True),
            COL_PAIR: pairs,
            COL_SIDE: sides.to_numpy(),
            COL_PRICE: price,
            COL_QUANTITY: quantity,
            COL_NOTIONAL: price * quantity,
            COL_EXCHANGE: EXCHANGE_BINANCE,
        }
    )
    return _finish(frame)


def load_recorded(path: str | Path) -> pd.DataFrame:
    """Load one daily file written by ``liq-signals record-liquidations``.

    A last line without its newline is a write the recorder did not finish (it crashed
    or is writing right now): it is left out and a warning says how many bytes.  The
    recorder itself cuts such a line when it reopens the file.

    :raise LiquidationDataError: naming the file and first bad line
    """
    path = Path(path)
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        logger.warning(
            "%s: left out an unfinished last line of %d bytes (recorder interrupted or still "
            "writing)",
            path,
            len(data) - keep,
        )
        data = data[:keep]
    df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    _require(path, df, RECORD_COLUMNS)
    if df.empty:
        return empty_events()
    times = pd.to_numeric(df[RECORD_TIME], errors="coerce").to_numpy(dtype=float)
    row = _first_bad(~np.isfinite(times) | (times <= 0))
    if row is not None:
        raise _fail(
            path, row, f"{RECORD_TIME} must be epoch milliseconds", df[RECORD_TIME].iloc[row]
        )
    row = _first_bad(~df[COL_SIDE].isin([SIDE_LONG, SIDE_SHORT]))
    if row is not None:
        raise _fail(path, row, "side must be long or short", df[COL_SIDE].iloc[row])
    price = _positive_column(path, df, COL_PRICE)
    quantity = _positive_column(path, df, COL_QUANTITY)
    frame = pd.DataFrame(
        {
            COL_DATE: pd.to_datetime(times.astype(np.int64), unit="ms", utc=True),
            COL_PAIR: df[COL_PAIR].to_numpy(),
            COL_SIDE: df[COL_SIDE].to_numpy(),
            COL_PRICE: price,
            COL_QUANTITY: quantity,
            COL_NOTIONAL: price * quantity,
            COL_EXCHANGE: df[COL_EXCHANGE].to_numpy(),
        }
    )
    return _finish(frame)


def load_message_log(path: str | Path) -> pd.DataFrame:
    """Load a JSON-lines file of raw websocket messages (Bybit allLiquidation or Binance
    forceOrder), one message per line; blank lines are ignored.

    :raise LiquidationDataError: naming the file and first bad line
    """
    path = Path(path)
    events: list[LiquidationEvent] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                message = json.loads(line)
                parser = _parser_for(message)
                events.extend(parser(message))
            except (json.JSONDecodeError, LiquidationDataError) as exc:
                raise LiquidationDataError(f"{path}: line {lineno}: {exc}") from None
    return events_to_frame(events)


def _parser_for(message: Any):  # noqa: ANN202 - one of PARSERS
    if isinstance(message, Mapping) and (
        "topic" in message or ("op" in message and "data" not in message)
    ):
        return parse_bybit_message
    return parse_binance_message


def load_aggregated(path: str | Path, period: str | pd.Timedelta | None = None) -> pd.DataFrame:
    """Load an aggregated per-period CSV: time, long USD, short USD (``long_usd`` /
    ``short_usd``, or CoinGlass's ``longUsd`` / ``shortUsd``).

    The time column may be called ``date``, ``time`` or ``timestamp`` and hold epoch
    milliseconds or ISO-8601 (UTC assumed when no offset is given); it labels the period
    by its start.  Rows must be in strictly increasing time order (an unsorted or
    duplicated period is an error, not re-sorted), USD amounts numbers >= 0, and with a
    ``period`` every time must be a multiple of it since the epoch (periods start on its
    grid, as 4-hour bars start at 00:00, 04:00, ... UTC).

    :param period: the period the totals are for (checks the times); ``None``: no check
    :return: frame indexed by UTC period start with ``long_usd`` and ``short_usd``
    :raise LiquidationDataError: naming the file and first bad line
    """
    path = Path(path)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    clash = [a for a, c in AGGREGATE_ALIASES.items() if a in df.columns and c in df.columns]
    if clash:
        raise LiquidationDataError(
            f"{path}: both {clash[0]} and {AGGREGATE_ALIASES[clash[0]]}; keep one"
        )
    df = df.rename(columns=AGGREGATE_ALIASES)
    time_col = next((c for c in _TIME_ALIASES if c in df.columns), None)
    if time_col is None:
        raise LiquidationDataError(
            f"{path}: needs a time column named one of {_TIME_ALIASES}; found {list(df.columns)}"
        )
    _require(path, df, AGGREGATE_COLUMNS)
    raw_time = df[time_col]
    digits = raw_time.str.fullmatch(r"\d+")
    if len(raw_time) and digits.iloc[0]:  # the first row decides: epoch ms, or ISO-8601
        row = _first_bad(~digits)
        if row is not None:
            raise _fail(path, row, f"{time_col} is not epoch milliseconds", raw_time.iloc[row])
        index = pd.to_datetime(raw_time.astype(np.int64), unit="ms", utc=True)
    else:
        index = pd.to_datetime(raw_time, utc=True, errors="coerce", format="ISO8601")
    row = _first_bad(pd.isna(index))
    if row is not None:
        raise _fail(path, row, f"{time_col} is not a time", raw_time.iloc[row])
    out = {}
    for column in AGGREGATE_COLUMNS:
        values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
        row = _first_bad(~np.isfinite(values) | (values < 0))
        if row is not None:
            raise _fail(path, row, f"{column} must be a number >= 0", df[column].iloc[row])
        out[column] = values
    frame = pd.DataFrame(out, index=pd.DatetimeIndex(index, name=COL_DATE))
    stamps = frame.index.as_unit("ns").asi8
    steps = np.diff(stamps)
    row = _first_bad(steps == 0)
    if row is not None:
        raise _fail(path, row + 1, "duplicate period", raw_time.iloc[row + 1])
    row = _first_bad(steps < 0)
    if row is not None:
        raise _fail(
            path, row + 1, "periods must be in increasing time order", raw_time.iloc[row + 1]
        )
    if period is not None and len(stamps):
        step = pd.Timedelta(period)
        row = _first_bad(stamps % step.value != 0)
        if row is not None:
            raise _fail(
                path,
                row,
                f"{time_col} is not the start of a {period_text(step)} period (UTC)",
                raw_time.iloc[row],
            )
    return frame


def aggregated_name(path: Path) -> tuple[str | None, pd.Timedelta | None]:
    """Coin and period a ``<COIN>-<period>-liquidations.csv`` name declares (else None)."""
    match = _AGGREGATED_NAME.fullmatch(path.stem)
    if match is None:
        return None, None
    return match["coin"].upper(), pd.Timedelta(match["period"])


def period_text(period: pd.Timedelta) -> str:
    """A pandas period alias for a timedelta: 4 h -> ``4h``, 1 day -> ``1D``."""
    seconds = int(period.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400}D"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}min"
    return f"{seconds}s"


def _sidecar(folder: Path) -> dict[str, Any]:
    path = folder / RECORD_SIDECAR
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise LiquidationDataError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not set(data) <= _SIDECAR_KEYS:
        raise LiquidationDataError(
            f"{path}: want an object with keys among {sorted(_SIDECAR_KEYS)}"
        )
    if "complete" in data and not isinstance(data["complete"], bool):
        raise LiquidationDataError(f"{path}: complete must be true or false")
    if "period" in data:
        try:
            data["period"] = pd.Timedelta(data["period"])
        except ValueError as exc:
            raise LiquidationDataError(f"{path}: period {data['period']!r}: {exc}") from None
    return data


def _aggregated_file(path: Path) -> tuple[pd.DataFrame, pd.Timedelta, dict[str, Any]]:
    """One aggregated file, its period (name, then ``record.json``, then the smallest step
    between rows) and what its folder's ``record.json`` says."""
    meta = _sidecar(path.parent)
    _, named = aggregated_name(path)
    declared = meta.get("period")
    if named is not None and declared is not None and named != declared:
        raise LiquidationDataError(
            f"{path}: the name says {period_text(named)} periods, "
            f"{path.parent / RECORD_SIDECAR} says {period_text(declared)}"
        )
    period = named if named is not None else declared
    frame = load_aggregated(path, period)
    if period is None:
        if len(frame) < 2:
            raise LiquidationDataError(
                f"{path}: cannot tell the period of a single row; name the file "
                "<COIN>-<period>-liquidations.csv or put the period in record.json"
            )
        period = pd.Timedelta(int(np.diff(frame.index.as_unit("ns").asi8).min()), unit="ns")
    return frame, period, meta


@dataclass(frozen=True)
class RealizedRecord:
    """What :func:`load_realized` found: individual events and/or per-period totals.

    :param events: normalised event frame (may be empty)
    :param aggregated: per-period totals from aggregated CSVs (may be empty)
    :param sources: the files read
    :param period: the period of the aggregated totals (``None`` for events): they can be
        scored at that period or a multiple of it, never finer
    :param exchange: exchange of the aggregated totals, when ``record.json`` says
    :param complete: ``False`` for a lower bound, ``True`` for complete, ``None`` unknown
    :param description: what the record is, from ``record.json``
    """

    events: pd.DataFrame
    aggregated: pd.DataFrame
    sources: tuple[str, ...]
    period: pd.Timedelta | None = None
    exchange: str | None = None
    complete: bool | None = None
    description: str = ""


def detect_kind(path: Path) -> str:
    """Kind of realized-liquidation file, from its header: ``binance_csv``, ``recorded``,
    ``aggregated`` or ``messages``.

    :raise LiquidationDataError: when the header matches none of them
    """
    if path.suffix in (".jsonl", ".ndjson", ".json"):
        return "messages"
    with path.open(encoding="utf-8") as fh:
        header = [h.strip() for h in fh.readline().strip().split(",")]
    if set(_BINANCE_CSV_REQUIRED) <= set(header):
        return "binance_csv"
    if set(RECORD_COLUMNS) <= set(header):
        return "recorded"
    if set(AGGREGATE_COLUMNS) <= {AGGREGATE_ALIASES.get(h, h) for h in header}:
        return "aggregated"
    if {"open_usd", "close_usd"} <= set(header):
        raise LiquidationDataError(
            f"{path}: this is an open-interest file (open_usd, close_usd), not liquidations; "
            "point --realized at the liquidations"
        )
    raise LiquidationDataError(
        f"{path}: unrecognised header {header}; expected a Binance forceOrder CSV, a "
        "record-liquidations file, or an aggregated CSV (date,long_usd,short_usd)"
    )


_LOADERS = {
    "binance_csv": load_binance_force_orders,
    "recorded": load_recorded,
    "messages": load_message_log,
}


def load_realized(path: str | Path, pair: str | None = None) -> RealizedRecord:
    """Load a realized-liquidation file, or every ``.csv``/``.jsonl`` file under a folder.

    :param path: file or folder
    :param pair: keep only events of this freqtrade pair; aggregated CSVs named
        ``<COIN>-<period>-liquidations.csv`` of another coin are left out (other aggregated
        CSVs carry no pair and are taken as they are)
    :raise LiquidationDataError: for an unreadable file, aggregated files of mixed periods
        or coins, or when nothing was found
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(
            p for p in path.rglob("*") if p.is_file() and p.suffix in (".csv", ".jsonl", ".ndjson")
        )
    elif path.is_file():
        files = [path]
    else:
        raise LiquidationDataError(f"{path}: no such file or folder")
    if not files:
        raise LiquidationDataError(f"{path}: no .csv or .jsonl liquidation files inside")
    event_frames: list[pd.DataFrame] = []
    aggregate_frames: list[pd.DataFrame] = []
    used: list[Path] = []
    periods: set[pd.Timedelta] = set()
    metas: list[dict[str, Any]] = []
    coins: set[str | None] = set()
    base = pair_to_symbol(pair).removesuffix("USDT").removesuffix("USDC") if pair else None
    for file in files:
        kind = detect_kind(file)
        if kind == "aggregated":
            coin, _ = aggregated_name(file)
            if base is not None and coin is not None and coin != base:
                continue  # another coin's totals in the same folder
            frame, period, meta = _aggregated_file(file)
            aggregate_frames.append(frame)
            periods.add(period)
            metas.append(meta)
            coins.add(coin)
        else:
            event_frames.append(_LOADERS[kind](file))
        used.append(file)
    if not used:
        raise LiquidationDataError(f"{path}: no liquidation file for {pair} inside")
    if len(periods) > 1:
        raise LiquidationDataError(
            f"{path}: aggregated files of different periods "
            f"{sorted(period_text(p) for p in periods)}; score them separately"
        )
    if len(coins - {None}) > 1:
        raise LiquidationDataError(
            f"{path}: aggregated files of several coins {sorted(c for c in coins if c)}; "
            "pass the pair"
        )
    events = pd.concat(
        [f for f in event_frames if not f.empty] or [empty_events()], ignore_index=True
    )
    if pair is not None and not events.empty:
        events = events[events[COL_PAIR] == pair]
    events = _finish(events.drop_duplicates(ignore_index=True))
    if aggregate_frames:
        aggregated = pd.concat(aggregate_frames).groupby(level=0).sum().sort_index()
    else:
        aggregated = pd.DataFrame(
            {c: pd.Series([], dtype=float) for c in AGGREGATE_COLUMNS},
            index=pd.DatetimeIndex([], tz="UTC", name=COL_DATE),
        )
    meta = metas[0] if metas and all(m == metas[0] for m in metas) else {}
    return RealizedRecord(
        events=events,
        aggregated=aggregated,
        sources=tuple(map(str, used)),
        period=next(iter(periods)) if periods else None,
        exchange=meta.get("exchange"),
        complete=meta.get("complete"),
        description=str(meta.get("description", "")),
    )


def aggregate_events(events: pd.DataFrame, period: str) -> pd.DataFrame:
    """Sum event notional per period and side (periods labelled by their start, UTC).

    :param events: normalised event frame
    :param period: pandas offset alias, e.g. ``1h``
    :return: frame indexed by period start with ``long_usd`` and ``short_usd``
    """
    if events.empty:
        return pd.DataFrame(
            {c: pd.Series([], dtype=float) for c in AGGREGATE_COLUMNS},
            index=pd.DatetimeIndex([], tz="UTC", name=COL_DATE),
        )
    keyed = events.assign(_period=events[COL_DATE].dt.floor(period))
    table = keyed.pivot_table(
        index="_period", columns=COL_SIDE, values=COL_NOTIONAL, aggfunc="sum", fill_value=0.0
    )
    out = pd.DataFrame(
        {
            COL_LONG_USD: table.get(SIDE_LONG, pd.Series(0.0, index=table.index)),
            COL_SHORT_USD: table.get(SIDE_SHORT, pd.Series(0.0, index=table.index)),
        }
    ).astype(float)
    out.index = pd.DatetimeIndex(out.index, name=COL_DATE)
    return out.sort_index()
