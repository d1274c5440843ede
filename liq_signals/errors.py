"""The project's exception tree and the exit code each branch maps to.

Every exception the project raises on purpose derives from :class:`LiqSignalsError`, so
the command line can report it as one clean line while a bug (a bare ``ValueError``,
``KeyError``, ...) still shows its traceback.  Classes that were ``ValueError`` before
the tree existed keep that base, so callers that catch ``ValueError`` still work.

Exit codes of ``liq-signals`` (see :func:`exit_code`):

- ``0`` success;
- ``2`` bad arguments or configuration (:class:`ConfigError`; argparse also exits 2);
- ``1`` bad or missing input data, a failed fetch, or a run that cannot produce a result
  (every other :class:`LiqSignalsError`);
- ``130`` interrupted (Ctrl-C).  ``offline`` passes freqtrade's own exit status through.
"""

from __future__ import annotations

#: exit code of a bad argument, model-parameter file or setting (argparse uses 2 too)
EXIT_CONFIG = 2
#: exit code of bad input data or a run that failed
EXIT_FAILURE = 1


class LiqSignalsError(Exception):
    """Root of every error the project raises on purpose; the message is for the user."""


class ConfigError(LiqSignalsError, ValueError):
    """A command-line value, model-parameter file or setting that cannot be used.

    The user fixes the command, not the data.  Exit code 2.
    """


class InputError(LiqSignalsError, ValueError):
    """Input data that cannot be used: missing, unreadable or malformed.

    The message names the file, pair or row, so the user can repair or re-download it.
    """


class EvaluationError(LiqSignalsError):
    """Readable inputs that still cannot be scored or fitted (no overlap, too few periods)."""


class FetchError(LiqSignalsError):
    """A remote file that could not be fetched, or is not what the source published."""


def exit_code(exc: LiqSignalsError) -> int:
    """The process exit code for ``exc``: 2 for :class:`ConfigError`, else 1."""
    return EXIT_CONFIG if isinstance(exc, ConfigError) else EXIT_FAILURE
