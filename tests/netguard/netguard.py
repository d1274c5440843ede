"""Refuse and record every network connection to a host other than loopback.

Installed in the pytest process by tests/conftest.py and in every child Python process
through ``sitecustomize.py`` (this folder is put on ``PYTHONPATH`` with
``LIQ_SIGNALS_NETGUARD=<logfile>`` in the environment).  A refused attempt raises
``OSError`` in the caller *and* appends one line to the log file, so the suite fails even
when the caller swallows the error (ccxt retries, freqtrade logs and carries on).

Guarded: ``connect``/``connect_ex`` and datagram ``sendto``/``sendmsg`` of
:class:`socket.socket` *and* of the raw ``_socket.socket`` type (replaced in ``_socket``
by a guarded subclass, for code that bypasses :mod:`socket`), and name resolution
(``getaddrinfo``, ``gethostbyname``, ``gethostbyname_ex``, in both modules).  Not
guarded: sockets made by C libraries (uvloop, libcurl) and non-Python programs — for
those ``.ci/run`` runs the suite in a network namespace with only ``lo`` (``unshare -n``).

The real calls below the guard go through :data:`LOWER`, so a test can replace them with
recorders and prove a refusal without any chance of a packet leaving.
"""

from __future__ import annotations

import _socket
import errno
import ipaddress
import os
import socket
import traceback
from typing import Any

ENV_VAR = "LIQ_SIGNALS_NETGUARD"
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})

_state: dict[str, object] = {"logfile": None, "installed": False}
_RawSocket = _socket.socket
#: The unguarded calls the guard hands allowed requests to (tests stub them).
LOWER: dict[str, Any] = {
    "connect": _RawSocket.connect,
    "connect_ex": _RawSocket.connect_ex,
    "sendto": _RawSocket.sendto,
    "sendmsg": _RawSocket.sendmsg,
    "getaddrinfo": _socket.getaddrinfo,
    "gethostbyname": _socket.gethostbyname,
    "gethostbyname_ex": _socket.gethostbyname_ex,
}


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


def _check_address(sock: Any, address: object, what: str = "connect") -> None:
    if sock.family == getattr(socket, "AF_UNIX", None):
        return
    host = address[0] if isinstance(address, tuple) else address
    if not is_loopback(host):
        raise _refuse(what, address)


def _connect(self: Any, address: object) -> None:
    _check_address(self, address)
    return LOWER["connect"](self, address)


def _connect_ex(self: Any, address: object) -> int:
    _check_address(self, address)
    return LOWER["connect_ex"](self, address)


def _sendto(self: Any, data: Any, *args: Any) -> int:
    # sendto(data, address) or sendto(data, flags, address)
    if args:
        _check_address(self, args[-1], "sendto")
    return LOWER["sendto"](self, data, *args)


def _sendmsg(self: Any, buffers: Any, *args: Any) -> int:
    # sendmsg(buffers[, ancdata[, flags[, address]]])
    if len(args) >= 3 and args[2] is not None:
        _check_address(self, args[2], "sendmsg")
    return LOWER["sendmsg"](self, buffers, *args)


def _resolver(name: str):  # noqa: ANN202 - wraps socket's resolvers
    def guarded(host, *args, **kwargs):  # noqa: ANN001, ANN202 - socket's signatures
        if host is not None and not is_loopback(host):
            raise _refuse(name, host)
        return LOWER[name](host, *args, **kwargs)

    guarded.__name__ = name
    return guarded


class _GuardedRawSocket(_RawSocket):  # type: ignore[misc, valid-type]
    """What ``_socket.socket(...)`` makes once the guard is installed."""

    connect = _connect
    connect_ex = _connect_ex
    sendto = _sendto
    sendmsg = _sendmsg


_getaddrinfo = _resolver("getaddrinfo")


def install(logfile: str | os.PathLike[str] | None) -> None:
    """Patch :mod:`socket` and :mod:`_socket` (idempotent); refused attempts are appended
    to ``logfile``."""
    _state["logfile"] = None if logfile is None else os.fspath(logfile)
    if _state["installed"]:
        return
    for name, method in (
        ("connect", _connect),
        ("connect_ex", _connect_ex),
        ("sendto", _sendto),
        ("sendmsg", _sendmsg),
    ):
        setattr(socket.socket, name, method)
    _socket.socket = _GuardedRawSocket  # type: ignore[misc]
    _socket.SocketType = _GuardedRawSocket  # type: ignore[misc]
    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        guarded = _getaddrinfo if name == "getaddrinfo" else _resolver(name)
        setattr(socket, name, guarded)
        setattr(_socket, name, guarded)
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
