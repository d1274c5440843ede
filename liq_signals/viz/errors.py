"""The error the heatmap's renderer raises for a request it cannot draw."""

from __future__ import annotations

from liq_signals.errors import ConfigError


class HeatmapInputError(ConfigError, ValueError):
    """Bad user input for a figure: unknown pair or file, empty timerange, --at outside the
    data.  The message names what was asked and what exists, so the user can fix it.

    A :class:`ConfigError` (exit 2); when it wraps a data error from the loader
    (``__cause__`` an :class:`~liq_signals.errors.InputError`) the heatmap command reports
    that one instead (exit 1), as every other command does for bad data.
    """
