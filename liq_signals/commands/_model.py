"""``--model-config FILE``: the one way every command is told which model to run.

The strategy trades a map built with its own :class:`ModelConfig` (``MODEL`` in
``strategies/LiquidationMagnetStrategy.py``, also shipped as ``user_data/liq_model.json``),
while the commands default to ``ModelConfig()``.  Passing the same parameter file to the
commands and to the strategy (``"liq_signals": {"model_config": FILE}``) makes the
heatmap, the snapshot, the feature file and the validation report describe the map the
strategy trades.  The file format is the one ``liq-signals calibrate --out`` writes
(:mod:`liq_signals.config`).
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import fields
from pathlib import Path

from liq_signals.config import ModelConfig

logger = logging.getLogger(__name__)

DEST = "model_config"


def add_model_config_argument(
    parser: argparse.ArgumentParser, *, aliases: tuple[str, ...] = (), role: str = ""
) -> None:
    """
    Add ``--model-config FILE`` (stored as ``args.model_config``).

    :param aliases: older spellings kept working (``validate``/``calibrate`` had ``--params``)
    :param role: what the file is used for in this command, appended to the help text
    """
    parser.add_argument(
        "--model-config",
        *aliases,
        dest=DEST,
        type=Path,
        default=None,
        metavar="FILE",
        help="model parameters JSON as written by `liq-signals calibrate --out` "
        '({"model_config": {field: value, ...}}; unnamed fields keep their defaults), '
        "e.g. user_data/liq_model.json for the strategy's own model"
        + (f"; {role}" if role else "")
        + " (default: the -c config's liq_signals.model_config, else built-in ModelConfig())",
    )


def changed_fields(cfg: ModelConfig, base: ModelConfig | None = None) -> dict[str, object]:
    """The fields of ``cfg`` that differ from ``base`` (default ``ModelConfig()``)."""
    ref = base or ModelConfig()
    return {
        f.name: getattr(cfg, f.name)
        for f in fields(ModelConfig)
        if getattr(cfg, f.name) != getattr(ref, f.name)
    }


def model_config_from_args(
    args: argparse.Namespace, base: ModelConfig | None = None
) -> ModelConfig:
    """
    The model a command runs: ``base`` (default ``ModelConfig()``) or the ``--model-config``
    file laid over it.

    :raise ConfigError: the file is missing, not JSON, names an unknown field or holds a
        value ModelConfig rejects; the message names the file (``liq-signals`` exits 2)
    """
    from liq_signals.config import load_model_config

    path: Path | None = getattr(args, DEST, None)
    if path is None:
        return base or ModelConfig()
    cfg = load_model_config(path, base=base)
    logger.info("model config from %s: %s", path, changed_fields(cfg) or "all defaults")
    return cfg
