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


# ---------------------------------------------------------------------------- below the guard
def _network_isolated() -> bool:
    """True inside a network namespace with no way out: no interface but ``lo`` and no
    default route (read from this process's own /proc/self/net, which follows its
    namespace — /sys/class/net may show the host's)."""
    try:
        dev = Path("/proc/self/net/dev").read_text().splitlines()[2:]
        routes = Path("/proc/self/net/route").read_text().splitlines()[1:]
        v6 = Path("/proc/self/net/ipv6_route").read_text().splitlines()
    except OSError:
        return False
    ifaces = {line.split(":")[0].strip() for line in dev}
    default4 = any(r.split()[1] == "00000000" for r in routes if len(r.split()) > 1)
    reject = 0x0200  # RTF_REJECT: the "unreachable" default every namespace has on lo
    default6 = any(
        f[0] == "0" * 32 and f[1] == "00" and not int(f[8], 16) & reject
        for f in (r.split() for r in v6)
        if len(f) > 8
    )
    return ifaces <= {"lo"} and not default4 and not default6


class _Recorder:
    """Stands in for the real socket calls below the guard: records, sends nothing."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def stub(self, name: str):  # noqa: ANN201
        def call(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202, ARG001
            self.calls.append((name, args[-1]))
            return 0

        return call


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # noqa: ANN201
    """The layer below the guard replaced by recorders (no packet can leave, whatever
    the guard does) and the session log swapped for a private one."""
    rec = _Recorder()
    for name in list(netguard.LOWER):
        monkeypatch.setitem(netguard.LOWER, name, rec.stub(name))
    previous = netguard.set_logfile(tmp_path / "trip.log")
    yield rec
    netguard.set_logfile(previous)


def test_udp_raw_connect_and_resolvers_are_refused_before_the_socket_layer(recorder) -> None:
    import _socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        with pytest.raises(OSError, match="netguard: blocked sendto"):
            udp.sendto(b"x", NON_LOOPBACK)
        with pytest.raises(OSError, match="netguard: blocked sendto"):
            udp.sendto(b"x", 0, NON_LOOPBACK)
        with pytest.raises(OSError, match="netguard: blocked sendmsg"):
            udp.sendmsg([b"x"], [], 0, NON_LOOPBACK)
        udp.sendto(b"x", ("127.0.0.1", 9))  # loopback goes down to the (stubbed) layer
    raw = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    try:
        with pytest.raises(OSError, match="netguard: blocked connect"):
            raw.connect(NON_LOOPBACK)
        with pytest.raises(OSError, match="netguard: blocked connect"):
            raw.connect_ex(NON_LOOPBACK)
        raw_udp = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
        with pytest.raises(OSError, match="netguard: blocked sendto"):
            raw_udp.sendto(b"x", NON_LOOPBACK)
        raw_udp.close()
    finally:
        raw.close()
    for resolve in (socket.gethostbyname, socket.gethostbyname_ex, _socket.gethostbyname):
        with pytest.raises(OSError, match="netguard: blocked gethostbyname"):
            resolve("fapi.binance.com")
    with pytest.raises(OSError, match="netguard: blocked getaddrinfo"):
        _socket.getaddrinfo("fapi.binance.com", 443)
    # nothing non-loopback reached the layer below; the loopback send did
    assert recorder.calls == [("sendto", ("127.0.0.1", 9))]


@pytest.mark.skipif(
    not _network_isolated(),
    reason="real sockets only where nothing can leave (.ci/run's unshare -n namespace)",
)
def test_real_udp_send_and_raw_connect_are_refused_in_the_namespace(tmp_path: Path) -> None:
    """Inside the namespace a broken guard would get the kernel's 'network unreachable',
    never a packet out; the guard must answer first, with its own message."""
    import _socket

    previous = netguard.set_logfile(tmp_path / "trip.log")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            with pytest.raises(OSError, match="netguard: blocked sendto"):
                udp.sendto(b"x", NON_LOOPBACK)
        raw = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
        try:
            with pytest.raises(OSError, match="netguard: blocked connect"):
                raw.connect(NON_LOOPBACK)
        finally:
            raw.close()
    finally:
        netguard.set_logfile(previous)
    assert len((tmp_path / "trip.log").read_text().splitlines()) == 2
    # and the namespace itself has no way out (what makes this test safe to run)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        with pytest.raises(OSError, match="unreachable"):
            netguard.LOWER["sendto"](udp, b"x", NON_LOOPBACK)
