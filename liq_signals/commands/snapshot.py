"""``liq-signals snapshot``: the liquidation map at one candle, as text a trader would post."""

from __future__ import annotations

import argparse
import logging

from liq_signals.commands._data_args import add_data_arguments, resolve_data_arguments
from liq_signals.commands._model import add_model_config_argument, model_config_from_args
from liq_signals.display import format_usd, ratio_text
from liq_signals.timeframes import candle_at

HELP = (
    "print price, liquidation notional per band, the N:1 ratio and the top clusters at one candle"
)

logger = logging.getLogger(__name__)

TOP_CLUSTERS = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_arguments(parser)
    parser.add_argument(
        "--at",
        required=True,
        help="candle time (UTC), e.g. '2025-03-01 12:00': the candle containing it is "
        "used (refused outside the data, as by `heatmap --at`)",
    )
    parser.add_argument(
        "--top", type=int, default=TOP_CLUSTERS, help="clusters per side (default: %(default)s)"
    )
    add_model_config_argument(parser)


def snapshot_text(feats_row, clusters_up, clusters_down, cfg, pair: str, timeframe: str) -> str:
    """Format one candle's features and clusters (see the module docstring)."""
    from liq_signals import columns as C

    lines = [
        f"{pair} {timeframe} @ {feats_row['date']:%Y-%m-%d %H:%M} UTC   "
        f"price {feats_row['close']:,.2f}"
        f"   (mode {feats_row[C.MODE]}"
        + (f", coverage {feats_row[C.COVERAGE]:.0%}" if feats_row[C.MODE] == C.MODE_OI else "")
        + (", STALE inputs" if feats_row[C.STALE] else "")
        + ")",
        f"{'band':>6}  {'shorts above':>13}  {'longs below':>12}  ratio",
    ]
    for band in cfg.bands_pct:
        s = float(feats_row[C.short_above_usd(band)])
        lo = float(feats_row[C.long_below_usd(band)])
        lines.append(
            f"{'±' + format(band, 'g') + '%':>6}  {format_usd(s):>13}  {format_usd(lo):>12}  "
            f"{ratio_text(s, lo)}"
        )
    lines.append(
        f"swept this candle: longs {format_usd(feats_row[C.LONG_SWEPT_USD])}, "
        f"shorts {format_usd(feats_row[C.SHORT_SWEPT_USD])}"
    )
    for title, clusters, sign in (
        ("Top short-liquidation clusters above", clusters_up, "+"),
        ("Top long-liquidation clusters below", clusters_down, "-"),
    ):
        lines.append(f"{title}:")
        if not clusters:
            lines.append("  (none within the widest band)")
        for cl in clusters:
            lines.append(f"  {cl.price:>12,.2f}  {sign}{cl.dist_pct:.2f}%  {format_usd(cl.usd)}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from liq_signals.commands.features import with_file
    from liq_signals.data.boundary import LiqInputError
    from liq_signals.data.load import load_pair_inputs
    from liq_signals.engine.clusters import top_clusters
    from liq_signals.features.pipeline import run as run_model

    resolve_data_arguments(args)
    cfg = model_config_from_args(args)
    inputs = load_pair_inputs(
        args.datadir, args.pair, args.timeframe, args.trading_mode, data_format=args.data_format
    )
    # the heatmap's rule: the candle containing --at, refused outside the data
    pos = candle_at(inputs.candles["date"], args.at, args.timeframe, pair=args.pair)
    candles = inputs.candles.iloc[: pos + 1]
    try:
        model = run_model(
            inputs.with_candles(candles), pair=args.pair, timeframe=args.timeframe, config=cfg
        )
    except LiqInputError as exc:
        raise with_file(exc, inputs) from exc
    row = model.features.iloc[-1]
    state = model.state
    price, long_q, short_q = state.books()
    k = np.arange(state.k0, state.k0 + len(price))
    close = float(row["close"])
    widest = cfg.bands_pct[-1]
    up, down = (
        top_clusters(
            k,
            price,
            book * price,
            close,
            above=above,
            cluster_bins=cfg.cluster_bins,
            max_pct=widest,
            count=args.top,
        )
        for book, above in ((short_q, True), (long_q, False))
    )
    print(snapshot_text(row, up, down, cfg, args.pair, args.timeframe))
    return 0
