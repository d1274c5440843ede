"""The whole tree passes the linters configured in pyproject.toml.

Run as tests so that a change which breaks lint, formatting or typing fails the suite
instead of waiting for someone to remember the tools.
"""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, cwd=REPO, check=False
    )


def test_ruff_is_clean():
    out = _run("ruff", "check", str(REPO))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-1000:]


def test_ruff_format_is_clean():
    out = _run("ruff", "format", "--check", str(REPO))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-1000:]


def test_mypy_is_clean(tmp_path_factory: pytest.TempPathFactory):
    # The files to check come from [tool.mypy] in pyproject.toml; the cache goes under the
    # test's temporary folder so a test run leaves nothing behind in the work tree.
    cache = tmp_path_factory.mktemp("mypy_cache")
    out = _run("mypy", "--cache-dir", str(cache))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-1000:]
