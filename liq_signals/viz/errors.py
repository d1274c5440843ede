"""The one error type the heatmap command turns into a clean message and exit code 2."""

from __future__ import annotations


class HeatmapInputError(ValueError):
    """Bad user input for a figure: unknown pair or file, empty timerange, --at outside the
    data.  The message names what was asked and what exists, so the user can fix it."""
