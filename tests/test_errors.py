"""One exception tree: every error the project raises on purpose has one root."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import liq_signals
from liq_signals.config import load_model_config
from liq_signals.errors import (
    ConfigError,
    EvaluationError,
    FetchError,
    InputError,
    LiqSignalsError,
    exit_code,
)

PACKAGE = Path(liq_signals.__file__).parent


def _exception_classes() -> list[tuple[str, str]]:
    """(module, class) of every class in the package whose name ends in Error/Exception or
    that derives from one named so (read from the source, so none is missed).  Private
    classes (leading underscore) are control-flow signals raised and caught inside their
    own module, never seen by a caller, so they are not part of the tree."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for node in tree.body:
            if (
                isinstance(node, ast.ClassDef)
                and not node.name.startswith("_")
                and any(
                    ast.unparse(b).endswith(("Error", "Exception", "Mismatch", "Archive"))
                    for b in node.bases
                )
            ):
                found.append((module, node.name))
    return found


CLASSES = _exception_classes()


def test_the_scan_finds_the_known_classes() -> None:
    names = {name for _, name in CLASSES}
    assert {"LiqInputError", "ValidationError", "DownloadError", "HeatmapInputError"} <= names
    assert len(CLASSES) >= 15


@pytest.mark.parametrize(("module", "name"), CLASSES, ids=[n for _, n in CLASSES])
def test_every_project_exception_has_the_one_root(module: str, name: str) -> None:
    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, LiqSignalsError), cls.__mro__


@pytest.mark.parametrize(
    ("module", "name", "branch"),
    [
        ("liq_signals.data.boundary", "LiqInputError", InputError),
        ("liq_signals.data.sidecar", "SidecarError", InputError),
        ("liq_signals.evaluation.realized", "LiquidationDataError", InputError),
        ("liq_signals.evaluation.runner", "ValidationError", EvaluationError),
        ("liq_signals.viz.errors", "HeatmapInputError", ConfigError),
    ],
)
def test_former_value_errors_are_still_value_errors(module, name, branch) -> None:
    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, branch)
    assert issubclass(cls, ValueError)


def test_other_bases_are_kept() -> None:
    from liq_signals.data.importers.archive_http import DownloadError
    from liq_signals.data.importers.binance_vision import ArchiveError, ChecksumMismatch
    from liq_signals.offline.runner import MissingDataError

    assert issubclass(DownloadError, FetchError)
    assert issubclass(ChecksumMismatch, ArchiveError)
    assert issubclass(MissingDataError, RuntimeError)
    assert issubclass(MissingDataError, InputError)


def test_liq_input_error_is_public_api() -> None:
    from liq_signals.data.boundary import LiqInputError

    assert liq_signals.LiqInputError is LiqInputError


def test_a_bad_model_file_is_a_config_error_and_still_a_value_error(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{"model_config": {"no_such_field": 1}}', encoding="utf-8")
    with pytest.raises(ConfigError, match="m.json: unknown ModelConfig field") as err:
        load_model_config(path)
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (ConfigError("x"), 2),
        (InputError("x"), 1),
        (EvaluationError("x"), 1),
        (FetchError("x"), 1),
        (LiqSignalsError("x"), 1),
    ],
)
def test_exit_code(exc: LiqSignalsError, code: int) -> None:
    assert exit_code(exc) == code
