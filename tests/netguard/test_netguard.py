"""The network guard trips, in this process and in child processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.netguard import netguard

# TEST-NET-3 (RFC 5737): documentation-only, never routed
NON_LOOPBACK = ("203.0.113.7", 443)


def test_guard_refuses_and_logs_in_this_process(tmp_path: Path) -> None:
    log = tmp_path / "trip.log"
    previous = netguard.set_logfile(log)  # keep the session log clean of this planned trip
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(1)
            with pytest.raises(OSError, match="netguard: blocked connect"):
                sock.connect(NON_LOOPBACK)
        with pytest.raises(OSError, match="netguard: blocked getaddrinfo"):
            socket.getaddrinfo("fapi.binance.com", 443)
    finally:
        netguard.set_logfile(previous)
    lines = log.read_text().splitlines()
    assert len(lines) == 2
    assert "203.0.113.7" in lines[0]
    assert "fapi.binance.com" in lines[1]


def test_guard_allows_loopback() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    try:
        with socket.create_connection(server.getsockname(), timeout=1):
            pass
        assert socket.getaddrinfo("localhost", 80)
    finally:
        server.close()


def test_guard_is_active_in_child_processes(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    env = {**os.environ, netguard.ENV_VAR: str(log)}  # PYTHONPATH comes from the session
    code = (
        "import urllib.request\n"
        "urllib.request.urlopen('https://fapi.binance.com/fapi/v1/ping', timeout=2)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert "netguard: blocked getaddrinfo" in proc.stderr
    assert "fapi.binance.com" in log.read_text()


def test_session_exports_the_guard_to_children(network_guard: Path) -> None:
    assert os.environ[netguard.ENV_VAR] == str(network_guard)
    assert str(Path(netguard.__file__).parent) in os.environ["PYTHONPATH"].split(os.pathsep)


def test_guard_stops_a_freqtrade_run_that_bypasses_the_emulator(tmp_path: Path) -> None:
    """Without the wrapper's overlay freqtrade goes to the real Binance: the guard in the
    freqtrade child refuses it and logs it (to a private log, not the session's)."""
    log = tmp_path / "freqtrade.log"
    env = {**os.environ, netguard.ENV_VAR: str(log)}
    freqtrade = Path(sys.executable).with_name("freqtrade")
    proc = subprocess.run(
        [
            str(freqtrade),
            "list-markets",
            "--exchange",
            "binance",
            "--trading-mode",
            "futures",
            "--userdir",
            str(tmp_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "binance.com" in log.read_text()


def test_session_fails_when_a_test_swallows_a_blocked_attempt(tmp_path: Path) -> None:
    """A pytest session with our conftest fails at teardown if any attempt was logged,
    even though the test itself caught the OSError and passed."""
    (tmp_path / "test_leak.py").write_text(
        "import socket\n\n"
        "def test_swallowed():\n"
        "    try:\n"
        "        socket.getaddrinfo('api.binance.com', 443)\n"
        "    except OSError:\n"
        "        pass\n"
    )
    env = {k: v for k, v in os.environ.items() if k != netguard.ENV_VAR}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])  # -> `-p tests.conftest`
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.conftest",
            "-c",
            os.devnull,
            "--rootdir",
            str(tmp_path),
            "--basetemp",
            str(tmp_path / "bt"),
            "-p",
            "no:cacheprovider",
            "-q",
            "test_leak.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert "1 passed, 1 error" in proc.stdout
    assert "network guard: the suite tried to reach non-loopback hosts" in proc.stdout
