"""Fitted model parameters on disk: the JSON ``liq-signals calibrate --out`` writes and
the strategy / CLI read back with :func:`load_model_config`.

Format::

    {"model_config": {"leverage_alpha": 1.5, "decay_half_life_hours": 24.0, ...},
     "fit": {...what was fitted, on which data, with which scores...}}

Only ``model_config`` is read back; every key must be a :class:`ModelConfig` field (a typo
is an error, not a silently ignored setting) and the values pass ModelConfig's own checks.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from liq_signals.engine.config import ModelConfig

MODEL_KEY = "model_config"
FIT_KEY = "fit"


def model_config_to_dict(cfg: ModelConfig) -> dict[str, Any]:
    """JSON-ready dict of every field (tuples become lists)."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(cfg).items()}


def save_model_config(
    cfg: ModelConfig, path: str | Path, fit: dict[str, Any] | None = None
) -> Path:
    """Write ``cfg`` (all fields, so the file is complete on its own) and fit metadata."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {MODEL_KEY: model_config_to_dict(cfg), FIT_KEY: fit or {}}
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def load_model_config(path: str | Path, base: ModelConfig | None = None) -> ModelConfig:
    """Read a parameter file; fields it does not name keep ``base``'s (default) values.

    :raise ValueError: unreadable JSON, no ``model_config`` object, an unknown field, or a
        value ModelConfig rejects — each message names the file
    """
    path = Path(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read model parameters: {exc}") from exc
    values = payload.get(MODEL_KEY) if isinstance(payload, dict) else None
    if not isinstance(values, dict):
        raise ValueError(f"{path}: expected a JSON object with a {MODEL_KEY!r} object")
    known = {f.name for f in fields(ModelConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{path}: unknown ModelConfig field(s) {unknown}; known: {sorted(known)}")
    base_values = asdict(base or ModelConfig())
    for key, value in values.items():
        base_values[key] = tuple(value) if isinstance(value, list) else value
    try:
        return ModelConfig(**base_values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
