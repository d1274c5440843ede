"""The repository stands alone and its map matches its tree.

Code and docs must point at pages the repository contains (not an outside design document,
not issue tags that mean nothing to a reader), and docs/architecture.md must name every
room of the package as it is, so a newcomer's map cannot silently go stale.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "liq_signals"
ARCHITECTURE = REPO / "docs" / "architecture.md"

# "DESIGN §4", "(§6)" or issue tags such as "H4", "H5's poller" in prose.
_DESIGN_REF = re.compile(r"DESIGN\s*§|\(§\d")
_ISSUE_TAG = re.compile(r"(?<![A-Za-z0-9_.\-/])H\d{1,2}(?![A-Za-z0-9_])")


def _tracked(*suffixes: str) -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    this = Path(__file__).resolve()  # holds the patterns themselves
    files = [REPO / f for f in out if f.endswith(suffixes) and (REPO / f).exists()]
    return [f for f in files if f.resolve() != this]


def _offenders(pattern: re.Pattern[str], files: list[Path]) -> list[str]:
    hits = []
    for path in files:
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{path.relative_to(REPO)}:{no}: {line.strip()}")
    return hits


def test_no_reference_to_an_outside_design_document() -> None:
    files = _tracked(".py", ".md", ".toml", ".json", "Makefile")
    assert len(files) > 50  # the listing worked
    assert _offenders(_DESIGN_REF, files) == []


def test_no_issue_tags_in_code_or_docs() -> None:
    files = _tracked(".py", ".md", ".toml")
    assert _offenders(_ISSUE_TAG, files) == []


def test_the_patterns_catch_what_they_are_for() -> None:
    assert _DESIGN_REF.search("see DESIGN §4")
    assert _ISSUE_TAG.search("H4's sidecar poller")
    assert _ISSUE_TAG.search("heatmaps (H5) and")
    assert not _ISSUE_TAG.search("1h candles, the 4H chart, sha256, OHLCV, BTC_USDT-1h")


def _rooms() -> list[str]:
    rooms = [p.name + "/" for p in PACKAGE.iterdir() if (p / "__init__.py").exists()]
    rooms += [p.name for p in PACKAGE.glob("*.py") if p.name not in {"__init__.py", "cli.py"}]
    return sorted(rooms)


@pytest.mark.parametrize("room", _rooms())
def test_architecture_page_names_every_room_of_the_package(room: str) -> None:
    assert f"`{room}" in ARCHITECTURE.read_text(encoding="utf-8")


@pytest.mark.parametrize("room", [r for r in _rooms() if r.endswith("/")])
def test_tests_mirror_the_package_folders(room: str) -> None:
    assert (REPO / "tests" / room).is_dir(), f"no tests/{room} for liq_signals/{room}"


def test_readme_layout_names_every_package_folder() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("```\nliq_signals/") :]
    layout = layout[: layout.index("```\n", 4)]
    for room in (r for r in _rooms() if r.endswith("/")):
        assert f"  {room}" in layout, room
