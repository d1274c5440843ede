"""Emulator fixtures for the offline tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from emu_helpers import DATADIR_2025, DATADIR_OI, REPLAY_2025, REPLAY_OI

from liq_signals.offline import Emulator


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., Emulator]]:
    """Start emulators (stopped at teardown): ``emulator_factory(datadir, **kwargs)``."""
    started: list[Emulator] = []

    def make(datadir: Path | None = DATADIR_2025, **kwargs: Any) -> Emulator:
        emu = Emulator(datadir, **kwargs).start()
        started.append(emu)
        return emu

    yield make
    for emu in started:
        emu.stop()


@pytest.fixture
def emu(emulator_factory: Callable[..., Emulator]) -> Emulator:
    """The 2025 datadir, replay clock frozen-ish (speed 1) at REPLAY_2025."""
    return emulator_factory(DATADIR_2025, replay_start=REPLAY_2025)


@pytest.fixture
def emu_oi(emulator_factory: Callable[..., Emulator]) -> Emulator:
    """The 2026-06 datadir with open interest and the metrics sidecar."""
    return emulator_factory(DATADIR_OI, replay_start=REPLAY_OI)
