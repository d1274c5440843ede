"""Colours and scales shared by the plotly (HTML) and matplotlib (PNG) renderers.

Long liquidations (the long book, below price) glow red to yellow, short liquidations (the
short book, above price) glow blue to cyan, on a dark background as on the maps traders
know.  Both ramps start fully transparent, so empty price levels show the background and
the candles stay visible through thin books.
"""

from __future__ import annotations

import numpy as np

BACKGROUND = "#0e1117"
GRID = "#2a2e39"
TEXT = "#d1d4dc"
CANDLE_UP = "#e8e8e8"
CANDLE_DOWN = "#7a7f8c"
MAGNET_UP_COLOUR = "#9cff57"
MAGNET_DOWN_COLOUR = "#ff4dd2"
SWEPT_SHORT_COLOUR = "#00e5ff"
SWEPT_LONG_COLOUR = "#ff3d3d"
LONG_BAR = "#ff5a36"
SHORT_BAR = "#21b6ff"
LONG_CUM = "#ffd166"
SHORT_CUM = "#c6f6ff"
PRICE_LINE = "#ffffff"
#: one colour per leverage band of the one-moment map (≤10x, 10–25x, 25–50x, >50x)
LEVERAGE_COLOURS = ("#4f8ff7", "#f6c443", "#f3722c", "#d62fa0")

# (position 0..1 of the colour scale, (r, g, b, alpha 0..1))
LONG_RAMP: tuple[tuple[float, tuple[int, int, int, float]], ...] = (
    (0.0, (120, 0, 20, 0.0)),
    (0.03, (150, 10, 30, 0.25)),
    (0.25, (220, 50, 30, 0.7)),
    (0.6, (255, 140, 20, 0.9)),
    (1.0, (255, 245, 140, 1.0)),
)
SHORT_RAMP: tuple[tuple[float, tuple[int, int, int, float]], ...] = (
    (0.0, (20, 0, 120, 0.0)),
    (0.03, (40, 20, 160, 0.25)),
    (0.25, (40, 90, 230, 0.7)),
    (0.6, (20, 190, 255, 0.9)),
    (1.0, (200, 255, 255, 1.0)),
)

# The colour scale saturates at this percentile of the non-empty cells: one huge wall would
# otherwise make every other level invisible.  The page's slider and the PNG's
# --saturation-pct change it; --threshold-usd leaves cells below a notional uncoloured.
SATURATION_PCT = 99.0
#: saturation choices of the page's "colour saturates at" slider (percentiles)
SATURATION_STEPS_PCT: tuple[float, ...] = (90.0, 95.0, 98.0, 99.0, 99.5, 99.9, 100.0)
#: threshold choices of the page's "hide cells below" slider (percentiles; 0 = none)
THRESHOLD_STEPS_PCT: tuple[float, ...] = (0.0, 25.0, 50.0, 75.0, 90.0, 95.0)


def plotly_colorscale(ramp: tuple[tuple[float, tuple[int, int, int, float]], ...]) -> list:
    """A ramp as a plotly colour scale (``[[pos, "rgba(...)"], ...]``)."""
    return [[pos, f"rgba({r},{g},{b},{a})"] for pos, (r, g, b, a) in ramp]


def plotly_page_layout(title: str, subtitle: str) -> dict:
    """The layout every plotly page shares: the dark theme on :data:`BACKGROUND`, the text
    colour, and the title with its subtitle."""
    return dict(
        title=dict(text=f"{title}<br><sup>{subtitle}</sup>", x=0.01),
        template="plotly_dark",
        paper_bgcolor=BACKGROUND,
        plot_bgcolor=BACKGROUND,
        font=dict(color=TEXT),
    )


def cell_percentiles(pcts: tuple[float, ...], *grids: np.ndarray) -> list[float]:
    """Percentiles of the non-empty cells of ``grids`` (0.0 each when all are empty)."""
    positive = np.concatenate([g[g > 0].ravel() for g in grids])
    if positive.size == 0:
        return [0.0 for _ in pcts]
    return [float(v) for v in np.percentile(positive, pcts)]


def colour_range(
    *grids: np.ndarray, saturation_pct: float = SATURATION_PCT, threshold_usd: float = 0.0
) -> tuple[float, float]:
    """
    ``(zmin, zmax)`` of the shared colour scale.

    :param saturation_pct: percentile of the non-empty cells where the colour saturates
    :param threshold_usd: cells below this are drawn in the ramp's first, transparent colour
    :return: ``zmin = threshold_usd`` and ``zmax`` above it (1.0 when every cell is empty)
    :raise ValueError: a percentile outside (0, 100] or a negative threshold
    """
    if not 0 < saturation_pct <= 100:
        raise ValueError(f"saturation percentile must be in (0, 100], got {saturation_pct}")
    if threshold_usd < 0:
        raise ValueError(f"threshold must be >= 0 USD, got {threshold_usd}")
    (zmax,) = cell_percentiles((saturation_pct,), *grids)
    zmax = zmax if zmax > 0 else 1.0
    return float(threshold_usd), max(zmax, threshold_usd * (1 + 1e-9) + 1e-9)


# Swept-liquidation markers: sized against this quantile of the non-zero sweeps (one crash
# would otherwise shrink every other marker to nothing); sweeps below SWEEP_MIN_SHARE of
# that reference are not marked (the candle hover still has them).
SWEEP_REFERENCE_QUANTILE = 0.98
SWEEP_MIN_SHARE = 0.15


def sweep_marker_scale(*sweeps: np.ndarray) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
    """
    Which sweeps get a marker and how big (0..1.5 of the largest marker size).

    :param sweeps: swept USD per column, one array per side
    :return: reference USD, per side a boolean mask of marked columns, per side the
        relative sizes of the marked ones
    """
    positive = np.concatenate([s[s > 0] for s in sweeps])
    if positive.size == 0:
        return 0.0, [np.zeros(len(s), dtype=bool) for s in sweeps], [np.zeros(0) for s in sweeps]
    ref = float(np.quantile(positive, SWEEP_REFERENCE_QUANTILE))
    masks = [s >= SWEEP_MIN_SHARE * ref for s in sweeps]
    sizes = [np.clip(np.sqrt(s[m] / ref), 0.0, 1.5) for s, m in zip(sweeps, masks, strict=True)]
    return ref, masks, sizes


#: share of the time axis left empty right of the last column for the cluster labels
LABEL_STRIP_SHARE = 0.16
#: stale-input stretches: a light veil over the whole height
STALE_VEIL = "rgba(255,255,255,0.13)"
#: volume-mode stretches of a figure that also has open interest: a strip along the bottom
VOLUME_STRIP = "rgba(170,170,170,0.85)"
VOLUME_STRIP_HEIGHT = 0.015
