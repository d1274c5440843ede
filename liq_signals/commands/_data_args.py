"""The data options every command shares, spelled and resolved as freqtrade does.

``-c/--config`` (repeatable, merged by freqtrade's own ``Configuration``), ``--userdir``,
``-d/--datadir``, ``--exchange``, ``-p/--pairs`` (``--pair`` kept as an alias),
``-i/--timeframe`` and ``--trading-mode``.  A value on the command line wins; otherwise,
with a config or a user directory, it comes from freqtrade's configuration (datadir
``<userdir>/data/<exchange>``, pairs from the whitelist, timeframe, trading mode, the
candle format ``dataformat_ohlcv``, the ``liq_signals`` section's model file); without
either, the defaults of a checkout of this repository apply.

One argument-checking rule for every command, before any work
(:func:`resolve_data_arguments`): a timeframe that is not one, a ``--timerange`` freqtrade
cannot parse, a pair not spelled as freqtrade spells it, and (commands that read candles)
a pair that is neither on disk nor a market of the exchange (a typo such as
``BTC/UDST:UDST``: the message lists the pairs on disk) each give one line and exit 2.  A
real market whose candles are not downloaded yet is missing data: the loader names the
file and the ``freqtrade download-data`` command (exit 1).
"""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path
from typing import Any

from liq_signals.errors import ConfigError
from liq_signals.paths import DEFAULT_DATADIR

logger = logging.getLogger(__name__)

DEFAULT_EXCHANGE = "binance"
DEFAULT_TIMEFRAME = "5m"
DEFAULT_TRADING_MODE = "futures"
#: quote currencies tried when a pair is written the exchange's way (``BTCUSDT``)
QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "USD", "BTC", "ETH", "BNB", "EUR", "TRY")


def add_data_arguments(
    parser: argparse.ArgumentParser,
    *,
    many_pairs: bool = False,
    trading_mode: bool = True,
    exchange: bool = True,
    timeframe: bool = True,
    check_pairs: bool = True,
    reads_candles: bool = True,
    pairs_help: str = "",
) -> None:
    """Add the shared data options (see the module docstring).

    :param many_pairs: the command runs every pair given (else exactly one is needed)
    :param exchange, timeframe, trading_mode: add that option (a command that has its
        own, or no use for it, says False; the config's value still fills ``args``)
    :param check_pairs: refuse pairs not spelled as freqtrade spells them
    :param reads_candles: the command reads the pairs' candles from the datadir (refuse a
        pair that is neither on disk nor a market, listing the pairs on disk)
    """
    parser.add_argument(
        "-c",
        "--config",
        dest="ft_config",
        action="append",
        default=None,
        metavar="PATH",
        help="freqtrade config file (repeatable, merged as freqtrade does); datadir, "
        "exchange, pairs, timeframe, trading mode and the liq_signals section come from it",
    )
    parser.add_argument(
        "--userdir",
        "--user-data-dir",
        dest="userdir",
        default=None,
        metavar="PATH",
        help="freqtrade user data directory (datadir = USERDIR/data/EXCHANGE)",
    )
    parser.add_argument(
        "-d",
        "--datadir",
        "--data-dir",
        dest="datadir",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"exchange data folder as freqtrade's --datadir (default: {DEFAULT_DATADIR}, "
        "or the config's)",
    )
    if exchange:
        parser.add_argument(
            "--exchange",
            default=None,
            help=f"exchange (only binance tiers ship; default: the config's, else "
            f"{DEFAULT_EXCHANGE})",
        )
    parser.add_argument(
        "-p",
        "--pairs",
        "--pair",
        dest="pairs",
        nargs="+",
        action="extend",  # -p A B and --pair A --pair B alike
        default=None,
        metavar="PAIR",
        help=pairs_help
        or "freqtrade pair, e.g. BTC/USDT:USDT (default: the config's whitelist"
        + ("" if many_pairs else ", when it holds one pair")
        + ")",
    )
    if timeframe:
        parser.add_argument(
            "-i",
            "--timeframe",
            default=None,
            help=f"candle timeframe (default: the config's, else {DEFAULT_TIMEFRAME})",
        )
    if trading_mode:
        parser.add_argument(
            "--trading-mode",
            default=None,
            choices=("futures", "spot"),
            help="futures reads OI/mark/metrics; spot runs in volume mode "
            f"(default: the config's, else {DEFAULT_TRADING_MODE})",
        )
    parser.set_defaults(
        _many_pairs=many_pairs, _check_pairs=check_pairs, _reads_candles=reads_candles
    )


def add_timerange_argument(
    parser: argparse.ArgumentParser, help: str, *, required: bool = False
) -> None:
    """``--timerange`` as freqtrade spells it (``YYYYMMDD-YYYYMMDD``, end exclusive),
    checked before any work by :func:`resolve_data_arguments` and read with
    :func:`liq_signals.timeframes.parse_timerange`; ``help`` says what it selects."""
    parser.add_argument("--timerange", default=None, required=required, help=help)


def add_fetch_arguments(
    parser: argparse.ArgumentParser, *, pairs_help: str, check_pairs: bool = True
) -> None:
    """The shared data options of a command that fetches its pairs from an exchange or an
    archive into the datadir (``import-binance-metrics``, ``record-liquidations``): several
    pairs, no candles read, and no ``--timeframe``, ``--exchange`` or ``--trading-mode``
    of freqtrade's (the command declares what it needs of those itself)."""
    add_data_arguments(
        parser,
        many_pairs=True,
        trading_mode=False,
        exchange=False,
        timeframe=False,
        check_pairs=check_pairs,
        reads_candles=False,
        pairs_help=pairs_help,
    )


def freqtrade_config(args: argparse.Namespace) -> dict[str, Any]:
    """freqtrade's configuration for ``args`` (its files merged, ``--userdir``,
    ``--datadir``, ``--exchange``, ``--pairs`` applied by freqtrade itself).

    :raise ConfigError: freqtrade rejects a file (missing, bad JSON, schema)
    """
    from freqtrade.configuration import Configuration
    from freqtrade.enums import RunMode
    from freqtrade.exceptions import OperationalException

    ft_args: dict[str, Any] = {"config": args.ft_config or []}
    if args.userdir:
        ft_args["user_data_dir"] = args.userdir
    if args.datadir:
        ft_args["datadir"] = str(args.datadir)
    if getattr(args, "exchange", None) or not args.ft_config:
        ft_args["exchange"] = getattr(args, "exchange", None) or DEFAULT_EXCHANGE
    if args.pairs:
        ft_args["pairs"] = list(args.pairs)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    if not getattr(args, "verbose", False):
        logging.disable(logging.INFO)  # freqtrade's chatter while it reads its config
    try:
        config = Configuration(ft_args, RunMode.UTIL_NO_EXCHANGE).get_config()
    except OperationalException as exc:
        raise ConfigError(f"freqtrade config: {exc}") from exc
    finally:  # freqtrade installs its own log handlers; keep ours
        logging.disable(logging.NOTSET)
        root.handlers[:] = handlers
        root.setLevel(level)
    return config


def resolve_data_arguments(args: argparse.Namespace) -> argparse.Namespace:
    """Fill the shared data options in place: command line, then freqtrade config, then the
    defaults; check the pair spelling.  Sets ``args.pairs`` (list), ``args.pair`` (the
    one pair of a single-pair command), ``args.data_format`` and, from the config's
    ``liq_signals`` section, ``args.model_config`` when ``--model-config`` was not given.

    :raise ConfigError: a freqtrade config freqtrade rejects, an unknown key in its
        ``liq_signals`` section, an unknown timeframe, a malformed ``--timerange``, no
        pair, several pairs for a one-pair command, a pair not spelled as freqtrade spells
        it for the trading mode (with the likely spelling), or a pair of a command that
        reads candles that is neither on disk nor a market (with the pairs on disk)
    """
    args.data_format = "feather"
    if args.ft_config or args.userdir:
        _from_freqtrade_config(args)
    args.datadir = args.datadir or DEFAULT_DATADIR
    for name, default in (
        ("exchange", DEFAULT_EXCHANGE),
        ("timeframe", DEFAULT_TIMEFRAME),
        ("trading_mode", DEFAULT_TRADING_MODE),
    ):
        if hasattr(args, name):
            setattr(args, name, getattr(args, name) or default)
    _check_timeframes_and_timerange(args)
    if not args.pairs:
        raise ConfigError("give a pair with -p/--pairs (e.g. -p BTC/USDT:USDT) or a config")
    mode = getattr(args, "trading_mode", None) or DEFAULT_TRADING_MODE
    for pair in args.pairs if args._check_pairs else ():
        check_pair(pair, mode)
    if not args._many_pairs:
        if len(args.pairs) > 1:
            raise ConfigError(
                f"this command reads one pair; got {len(args.pairs)} ({' '.join(args.pairs)}): "
                "choose one with -p"
            )
        args.pair = args.pairs[0]
    _check_pairs_exist(args, mode)
    return args


def _check_timeframes_and_timerange(args: argparse.Namespace) -> None:
    """:func:`check_timeframe` on ``args.timeframe`` / ``args.timeframes`` and
    :func:`check_timerange` on ``args.timerange``, where the command has them."""
    for timeframe in [getattr(args, "timeframe", None), *(getattr(args, "timeframes", None) or [])]:
        if timeframe is not None:
            check_timeframe(timeframe)
    if getattr(args, "timerange", None):
        check_timerange(args.timerange)


def _check_pairs_exist(args: argparse.Namespace, mode: str) -> None:
    """A command that fetches its pairs refuses a pair that is no market; one that reads
    candles also accepts a pair on disk (:func:`check_pair_on_disk`)."""
    if args._check_pairs and not args._reads_candles:  # a command that fetches the pairs
        exchange = getattr(args, "exchange", None) or DEFAULT_EXCHANGE
        for pair in args.pairs:
            if not is_market(pair, exchange, mode):
                raise ConfigError(f"pair {pair!r} is not a {exchange} {mode} market")
    if args._reads_candles:
        for pair in args.pairs:
            check_pair_on_disk(
                Path(args.datadir),
                pair,
                getattr(args, "timeframe", None) or DEFAULT_TIMEFRAME,
                mode,
                exchange=getattr(args, "exchange", None) or DEFAULT_EXCHANGE,
                data_format=args.data_format,
            )


def check_timeframe(timeframe: str) -> None:
    """:raise ConfigError: ``timeframe`` is not a freqtrade timeframe (``7x``)"""
    from liq_signals.timeframes import timeframe_seconds

    try:
        timeframe_seconds(timeframe)
    except ValueError:
        raise ConfigError(f"unknown timeframe {timeframe!r} (use e.g. 1m, 5m, 1h, 1d)") from None


def check_timerange(timerange: str) -> None:
    """:raise ConfigError: freqtrade's ``TimeRange`` rejects ``timerange``"""
    from liq_signals.timeframes import parse_timerange

    parse_timerange(timerange)


def pairs_on_disk(datadir: Path, timeframe: str, trading_mode: str) -> list[str]:
    """The pairs with ``timeframe`` candles in ``datadir``, in any of freqtrade's formats
    (read with freqtrade's own file-name rules), sorted."""
    from freqtrade.data.history.datahandlers.idatahandler import get_datahandlerclass
    from freqtrade.enums import CandleType, TradingMode

    from liq_signals.data.load import DATA_FORMATS

    futures = trading_mode == "futures"
    mode = TradingMode.FUTURES if futures else TradingMode.SPOT
    kind = CandleType.FUTURES if futures else CandleType.SPOT
    found: set[str] = set()
    for fmt in DATA_FORMATS:
        for pair, tf, ctype in get_datahandlerclass(fmt).ohlcv_get_available_data(datadir, mode):
            if tf == timeframe and ctype == kind:
                found.add(pair)
    return sorted(found)


def is_market(pair: str, exchange: str, trading_mode: str) -> bool:
    """Could ``pair`` be a market of ``exchange``?  Its quote (and settle) currency must be
    one of :data:`QUOTES`; a Binance futures pair must be in the tier file freqtrade ships
    (every USDT-M perpetual it knew at release), read only when this is asked."""
    import json

    base, quote, settle = _split(pair)
    if not base or quote not in QUOTES or (settle and settle not in QUOTES):
        return False
    if exchange != "binance" or trading_mode != "futures":
        return True
    from liq_signals.data.tiers import tier_file_path

    try:
        with open(tier_file_path(), encoding="utf-8") as fh:
            return pair in json.load(fh)
    except (OSError, ValueError, ModuleNotFoundError):
        return True  # no list to check against: the loader names the missing file


def check_pair_on_disk(
    datadir: Path,
    pair: str,
    timeframe: str,
    trading_mode: str,
    *,
    exchange: str = DEFAULT_EXCHANGE,
    data_format: str | None = None,
) -> None:
    """Refuse a pair that has no candles in ``datadir`` and is no market of the exchange:
    a typo, whose fix is the spelling, not a download.  Nothing is checked when the datadir
    does not exist, or the pair is a market not downloaded yet (the loader names the file
    and the download command: missing data, exit 1).

    :raise ConfigError: with the closest pair on disk and the list of pairs on disk
    """
    import difflib

    from liq_signals.data.load import DATA_FORMATS, pair_data_path

    if not datadir.is_dir():
        return
    kind = "futures" if trading_mode == "futures" else "spot"
    formats = dict.fromkeys([data_format or DATA_FORMATS[0], *DATA_FORMATS])
    if any(pair_data_path(datadir, pair, timeframe, kind, f).exists() for f in formats):
        return
    if is_market(pair, exchange, trading_mode):
        return
    have = pairs_on_disk(datadir, timeframe, trading_mode)
    close = difflib.get_close_matches(pair, have, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    raise ConfigError(
        f"pair {pair!r} is not a {exchange} {trading_mode} market and has no {timeframe} "
        f"candles in {datadir}; {hint}pairs on disk at {timeframe}: "
        f"{', '.join(have) or 'none'}"
    )


def _from_freqtrade_config(args: argparse.Namespace) -> None:
    """The options the command line left open, from freqtrade's configuration."""
    from liq_signals.config import config_section, model_config_path

    config = freqtrade_config(args)
    config_section(config)
    args.datadir = Path(config["datadir"])
    from_config: dict[str, Any] = {"exchange": config["exchange"]["name"]}
    if args.ft_config:  # not freqtrade's minimal config of a bare --userdir
        args.pairs = args.pairs or list(config.get("pairs") or [])
        args.data_format = config.get("dataformat_ohlcv") or "feather"
        from_config |= {
            "timeframe": config.get("timeframe"),
            "trading_mode": config.get("trading_mode", "spot"),
            "model_config": model_config_path(config),
        }
    for name, value in from_config.items():
        if hasattr(args, name) and getattr(args, name) is None:
            setattr(args, name, value)


def check_pair(pair: str, trading_mode: str) -> None:
    """Refuse a pair freqtrade would not find data for, naming the spelling it expects:
    ``BTCUSDT`` or ``BTC/USDT`` in futures mode → ``BTC/USDT:USDT``; ``BTC/USDT:USDT`` in
    spot mode → ``BTC/USDT``.

    :raise ConfigError: with "did you mean ..."
    """
    futures = trading_mode == "futures"
    base, quote, settle = _split(pair)
    if "/" in pair and pair == pair.upper() and bool(settle) == futures:
        return
    if not base or not quote:
        guess = None
    elif futures:
        guess = f"{base}/{quote}:{quote}"
    else:
        guess = f"{base}/{quote}"
    spelled = "BASE/QUOTE:SETTLE" if futures else "BASE/QUOTE"
    hint = f"did you mean {guess}? " if guess else ""
    raise ConfigError(
        f"pair {pair!r} is not a freqtrade {trading_mode} pair; {hint}"
        f"freqtrade writes {trading_mode} pairs as {spelled}"
    )


def _split(pair: str) -> tuple[str, str, str]:
    """``(base, quote, settle)`` of a freqtrade pair or of an exchange symbol such as
    ``BTCUSDT`` / ``BTC-USDT`` / ``btc_usdt`` (empty strings where unknown)."""
    text = pair.strip().upper()
    if "/" in text:
        base, _, rest = text.partition("/")
        quote, _, settle = rest.partition(":")
        return base, quote, settle
    parts = [p for p in re.split(r"[-_:]", text) if p]
    if len(parts) >= 2:
        return parts[0], parts[1], ""
    for quote in QUOTES:
        if text.endswith(quote) and len(text) > len(quote):
            return text[: -len(quote)], quote, ""
    return "", "", ""
