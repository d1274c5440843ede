"""The one atomic writer: readers see the old file or the new one, never a part of either."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from liq_signals.atomic import atomic_path, atomic_write_bytes, atomic_write_text, temp_path_for
from liq_signals.config import ModelConfig, load_model_config, save_model_config
from liq_signals.data import sidecar


def test_temp_names_are_unique_hidden_siblings(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    names = {temp_path_for(target) for _ in range(100)}
    assert len(names) == 100
    assert all(p.parent == tmp_path and p.name.startswith(".x.json.") for p in names)
    assert all(p.suffix == ".tmp" for p in names)


def test_two_writers_of_one_file_never_share_a_temporary(tmp_path: Path) -> None:
    target = tmp_path / "state.bin"
    with atomic_path(target) as first, atomic_path(target) as second:
        assert first != second
        first.write_bytes(b"first")
        second.write_bytes(b"second")
    assert target.read_bytes() == b"first"  # the outer one replaced last
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.bin"]


def test_failure_mid_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "data.txt"
    atomic_write_text(target, "old, complete\n")
    with pytest.raises(RuntimeError, match="disk full"), atomic_path(target) as tmp:  # noqa: PT012 - the failure must happen inside the writer
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write("new, half")
            fh.flush()
            raise RuntimeError("disk full")  # the process fails mid-write
    assert target.read_text(encoding="utf-8") == "old, complete\n"
    assert [p.name for p in tmp_path.iterdir()] == ["data.txt"]


def test_write_creates_the_folder_and_replaces_whole(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "payload.bin"
    atomic_write_bytes(target, b"1" * 10_000)
    atomic_write_bytes(target, b"2")
    assert target.read_bytes() == b"2"


def test_model_config_writer_is_atomic(tmp_path: Path) -> None:
    """``save_model_config`` used a fixed ``.tmp`` name (two runs could collide)."""
    path = tmp_path / "liq_model.json"
    save_model_config(ModelConfig(decay_half_life_hours=24.0), path, fit={"pair": "BTC"})
    assert load_model_config(path).decay_half_life_hours == 24.0
    assert json.loads(path.read_text(encoding="utf-8"))["fit"] == {"pair": "BTC"}
    assert [p.name for p in tmp_path.iterdir()] == ["liq_model.json"]


def test_sidecar_writer_keeps_the_old_file_when_the_frame_cannot_be_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "side.arrow"
    good = pd.DataFrame({"date": pd.to_datetime([1, 2], unit="s", utc=True), "v": [1.0, 2.0]})
    sidecar.atomic_write_feather(good, path)
    before = path.read_bytes()
    unwritable = pd.DataFrame({"date": [object(), object()], "v": [1.0, 2.0]})
    with pytest.raises(Exception):  # noqa: B017, PT011 - pyarrow's own type
        sidecar.atomic_write_feather(unwritable, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["side.arrow"]
