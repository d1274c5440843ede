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

# The colour scale saturates at this quantile of the non-empty cells: one huge wall would
# otherwise make every other level invisible.
SATURATION_QUANTILE = 0.99


def plotly_colorscale(ramp: tuple[tuple[float, tuple[int, int, int, float]], ...]) -> list:
    """A ramp as a plotly colour scale (``[[pos, "rgba(...)"], ...]``)."""
    return [[pos, f"rgba({r},{g},{b},{a})"] for pos, (r, g, b, a) in ramp]


def colour_max(*grids: np.ndarray) -> float:
    """
    Upper end of the shared colour scale: the :data:`SATURATION_QUANTILE` of positive cells.

    :return: a positive float (1.0 when every cell is empty, so the scale stays valid)
    """
    positive = np.concatenate([g[g > 0].ravel() for g in grids])
    if positive.size == 0:
        return 1.0
    return float(np.quantile(positive, SATURATION_QUANTILE))


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
