"""Nothing leaves the machine: every Python process of the test session refuses a connection outside the
loopback range 127.0.0.0/8 (and ::1), and writes it down.

The test session puts this folder on PYTHONPATH, so Python runs this file at the start of every process it
starts: the pytest workers, `localcloud serve` and `up` subprocesses, and MiniStack with the functions it
runs. A refused connection raises ConnectionRefusedError in the process that tried it and adds a line to
the file named by LOCALCLOUD_NETWORK_GUARD_LOG; `tests/conftest.py` fails the test during which it happened.
"""

from __future__ import annotations

import ipaddress
import os
import socket

LOG_VARIABLE = "LOCALCLOUD_NETWORK_GUARD_LOG"
LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo
refused: list[str] = []  # this process's refusals, oldest first


def is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", errors="replace")
    if not isinstance(host, str):
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False  # a name: resolving it would already ask a DNS server beyond the machine
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _refuse(family: int, address: object) -> None:
    if family not in (socket.AF_INET, socket.AF_INET6):
        return  # Unix sockets and the like never leave the machine
    host = address[0] if isinstance(address, tuple) and address else address
    if is_loopback(host):
        return
    where = f"{host}:{address[1]}" if isinstance(address, tuple) and len(address) > 1 else str(host)
    refused.append(where)
    path = os.environ.get(LOG_VARIABLE)
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{os.getpid()} {where}\n")
    raise ConnectionRefusedError(f"refused by the test session's guard: {where} is outside 127.0.0.0/8")


def _guarded_connect(self: socket.socket, address: object) -> None:
    _refuse(self.family, address)
    return _connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    _refuse(self.family, address)
    return _connect_ex(self, address)


def _guarded_getaddrinfo(host: object, port: object, *args: object, **kwargs: object) -> list:
    if host is not None and not _is_literal(host) and not is_loopback(host):
        _refuse(socket.AF_INET, (host, port))  # a name's look-up asks a DNS server: refused before it
    return _getaddrinfo(host, port, *args, **kwargs)


def _is_literal(host: object) -> bool:
    text = host.decode() if isinstance(host, bytes) else str(host)
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return text == ""
    return True


def install() -> None:
    """Guard this process (idempotent)."""
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    socket.getaddrinfo = _guarded_getaddrinfo


install()
