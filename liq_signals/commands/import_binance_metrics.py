"""``liq-signals import-binance-metrics``: years of 5m open interest and ratios from Binance
Vision's daily metrics archive."""

from __future__ import annotations

import argparse
import logging

from liq_signals.commands._data_args import (
    add_fetch_arguments,
    add_timerange_argument,
    resolve_data_arguments,
)
from liq_signals.errors import ConfigError

HELP = (
    "download Binance Vision daily metrics into freqtrade's open_interest files "
    "plus the metrics sidecar (resumable, checksummed)"
)

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's options (freqtrade's spelling where freqtrade has one)."""
    from liq_signals.data.importers.binance_vision import ARCHIVE_BASE_URL

    add_fetch_arguments(
        parser,
        pairs_help="freqtrade futures pairs, e.g. BTC/USDT:USDT ETH/USDT:USDT "
        "(default: the config's whitelist)",
    )
    add_timerange_argument(
        parser,
        "YYYYMMDD-[YYYYMMDD], end exclusive as in freqtrade "
        "(open end = up to today; today's file is not published yet)",
        required=True,
    )
    parser.add_argument(
        "--base-url",
        default=ARCHIVE_BASE_URL,
        help="archive root; files are read from "
        "{base}/data/futures/um/daily/metrics/... (default: %(default)s)",
    )
    parser.add_argument(
        "-t",
        "--timeframes",
        nargs="+",
        default=["5m"],
        help="open_interest files to write: 5m always, plus coarser "
        "multiples of 5m (e.g. 1h) holding the snapshots on their grid "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--workers", type=int, default=8, help="parallel downloads (default: %(default)s)"
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=5,
        help="attempts per file on timeouts, 5xx and 429 (default: %(default)s)",
    )
    parser.add_argument(
        "--chunk-days",
        type=int,
        default=31,
        help="days written and recorded for resuming together (default: %(default)s)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="fetch days already imported again (the archive sometimes re-publishes repaired days)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Run the import.

    :return: 0 when every available day was imported (404 days are reported, not fatal),
        1 when some file failed (named in the log; the good days are kept)
    :raise ConfigError: bad arguments (exit 2)
    :raise InputError: an existing data file or manifest that cannot be read (exit 1)
    """
    from datetime import UTC, datetime

    from liq_signals.data.importers.archive_http import RetryPolicy
    from liq_signals.data.importers.metrics_import import ImportConfig, import_metrics
    from liq_signals.timeframes import parse_timerange

    resolve_data_arguments(args)
    start, stop = parse_timerange(args.timerange)
    if start is None:
        raise ConfigError("--timerange needs a start date (YYYYMMDD-...)")
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    config = ImportConfig(
        pairs=tuple(args.pairs),
        start=start.to_pydatetime(),
        stop=stop.to_pydatetime() if stop is not None else today,
        datadir=args.datadir,
        base_url=args.base_url,
        workers=args.workers,
        chunk_days=args.chunk_days,
        retry=RetryPolicy(attempts=args.retries),
        progress=not args.no_progress,
        force=args.force,
        timeframes=tuple(dict.fromkeys(["5m", *args.timeframes])),
    )
    report = import_metrics(config)
    for rep in report.pairs:
        for failure in rep.failures:
            logger.error("%s: FAILED %s", rep.pair, failure)
    logger.info("%d requests, %d retries", report.requests, report.retries)
    return 0 if report.ok else 1
