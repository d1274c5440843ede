"""Refuse and record every network connection to a host other than loopback.

Installed in the pytest process by tests/conftest.py and in every child Python process
through ``sitecustomize.py`` (this folder is put on ``PYTHONPATH`` with
``LIQ_SIGNALS_NETGUARD=<logfile>`` in the environment).  A refused attempt raises
``OSError`` in the caller *and* appends one line to the log file, so the suite fails even
when the caller swallows the error (ccxt retries, freqtrade logs and carries on).
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import traceback

ENV_VAR = "LIQ_SIGNALS_NETGUARD"
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})

_state: dict[str, object] = {"logfile": None, "installed": False}
_orig_connect = socket.socket.connect
_orig_connect_ex = socket.socket.connect_ex
_orig_getaddrinfo = socket.getaddrinfo


def is_loopback(host: object) -> bool:
    """True for 127.0.0.0/8, ::1 and the usual localhost names."""
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not isinstance(host, str):
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(what: str, target: object) -> OSError:
    stack = "".join(traceback.format_stack(limit=8)[:-2]).replace("\n", " | ")
    line = f"pid={os.getpid()} {what} {target!r} :: {stack}\n"
    logfile = _state["logfile"]
    if logfile:
        with open(str(logfile), "a", encoding="utf-8") as fh:
            fh.write(line)
    return OSError(errno.ENETUNREACH, f"netguard: blocked {what} to non-loopback {target!r}")


def _check_address(sock: socket.socket, address: object) -> None:
    if sock.family == getattr(socket, "AF_UNIX", None):
        return
    host = address[0] if isinstance(address, tuple) else address
    if not is_loopback(host):
        raise _refuse("connect", address)


def _connect(self: socket.socket, address: object) -> None:
    _check_address(self, address)
    return _orig_connect(self, address)


def _connect_ex(self: socket.socket, address: object) -> int:
    _check_address(self, address)
    return _orig_connect_ex(self, address)


def _getaddrinfo(host, *args, **kwargs):  # noqa: ANN001, ANN202 - socket's signature
    if host is not None and not is_loopback(host):
        raise _refuse("getaddrinfo", host)
    return _orig_getaddrinfo(host, *args, **kwargs)


def install(logfile: str | os.PathLike[str] | None) -> None:
    """Patch :mod:`socket` (idempotent); refused attempts are appended to ``logfile``."""
    _state["logfile"] = None if logfile is None else os.fspath(logfile)
    if _state["installed"]:
        return
    socket.socket.connect = _connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _getaddrinfo
    _state["installed"] = True


def set_logfile(logfile: str | os.PathLike[str] | None) -> str | None:
    """Redirect the log (returns the previous path) — for the test that trips the guard."""
    previous = _state["logfile"]
    _state["logfile"] = None if logfile is None else os.fspath(logfile)
    return previous  # type: ignore[return-value]


def install_from_env() -> None:
    logfile = os.environ.get(ENV_VAR)
    if logfile:
        install(logfile)
