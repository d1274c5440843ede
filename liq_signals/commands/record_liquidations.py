"""``liq-signals record-liquidations``: record a public liquidation stream to daily files."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from liq_signals.commands._data_args import add_fetch_arguments, resolve_data_arguments
from liq_signals.errors import ConfigError

#: the exchanges whose public liquidation stream the recorder reads
EXCHANGES = ("binance", "bybit")

HELP = "record public liquidation events (Binance forceOrder / Bybit allLiquidation) to daily CSVs"

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--exchange",
        choices=EXCHANGES,
        default=None,
        help="stream to record (default: the config's exchange, else binance)",
    )
    add_fetch_arguments(
        parser,
        check_pairs=False,
        pairs_help="e.g. BTC/USDT:USDT ETH/USDT:USDT (or BTCUSDT; default: the config's "
        "whitelist); files go to DATADIR/liquidations/EXCHANGE/",
    )
    parser.add_argument(
        "--url",
        default=None,
        help="stream base url (default: the exchange's public websocket host)",
    )
    parser.add_argument(
        "--backoff-max",
        type=float,
        default=60.0,
        help="longest reconnect (and failed-write retry) delay, seconds",
    )
    parser.add_argument(
        "--retention-days",
        type=float,
        default=None,
        help="delete daily files older than this many days (default: keep all)",
    )
    parser.add_argument(
        "--retention-mb",
        type=float,
        default=None,
        help="delete the oldest daily files beyond this many megabytes (default: no limit)",
    )


def run(args: argparse.Namespace) -> int:
    from liq_signals.evaluation.recorder import LiquidationRecorder, RecorderConfig

    resolve_data_arguments(args)
    if args.exchange not in EXCHANGES:
        raise ConfigError(f"no public liquidation stream for {args.exchange!r}: use {EXCHANGES}")
    config = RecorderConfig(
        exchange=args.exchange,
        pairs=tuple(args.pairs),
        datadir=args.datadir,
        url=args.url,
        backoff_initial=min(1.0, args.backoff_max),
        backoff_max=args.backoff_max,
        retention_days=args.retention_days,
        retention_mb=args.retention_mb,
    )
    recorder = LiquidationRecorder(config)
    logger.info(
        "recording %s liquidations for %s into %s (Ctrl-C to stop)",
        config.exchange,
        ", ".join(config.pairs),
        config.folder,
    )

    async def main() -> None:
        task = asyncio.ensure_future(recorder.run())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            pass

    asyncio.run(main())
    return 0
