"""The whole tree passes the ruff rules configured in pyproject.toml."""

import subprocess
import sys

from conftest import REPO


def test_ruff_is_clean():
    out = subprocess.run([sys.executable, "-m", "ruff", "check", str(REPO)],
                         capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-1000:]
