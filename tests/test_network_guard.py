"""The session's guard: a connection beyond 127.0.0.0/8 is refused in the test process and in every Python
process a test starts, and the test is failed for it (tests/network_guard/sitecustomize.py)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.network_guard import sitecustomize as guard

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.9.9.9", "::1", "localhost", "::ffff:127.0.0.1", b"localhost"]
)
def test_loopback_addresses_are_allowed(host):
    assert guard.is_loopback(host)


@pytest.mark.parametrize("host", ["10.0.0.1", "192.168.1.1", "8.8.8.8", "2001:db8::1", "example.com", ""])
def test_every_other_address_and_any_name_is_outside(host):
    assert not guard.is_loopback(host)


def test_a_connection_outside_is_refused_before_any_packet_and_written_down(network_guard_log, monkeypatch):
    # 192.0.2.1 is TEST-NET-1: never routed. The guard refuses before the socket sends anything.
    before = network_guard_log.read_text()
    with socket.socket() as outside, pytest.raises(ConnectionRefusedError, match=r"outside 127\.0\.0\.0/8"):
        outside.connect(("192.0.2.1", 9))
    with pytest.raises(ConnectionRefusedError):
        socket.getaddrinfo("example.invalid", 443)
    logged = network_guard_log.read_text()[len(before) :]
    assert "192.0.2.1:9" in logged and "example.invalid:443" in logged
    network_guard_log.write_text(before)  # written down as the guard does; the test itself must pass


PROBE = """
import socket
try:
    socket.create_connection(("192.0.2.1", 9), timeout=1)
except ConnectionRefusedError as refused:
    print(refused)
"""


def test_a_python_process_a_test_starts_is_guarded_too(network_guard_log):
    before = network_guard_log.read_text()
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert "outside 127.0.0.0/8" in done.stdout, done.stdout + done.stderr
    assert "192.0.2.1:9" in network_guard_log.read_text()[len(before) :]
    network_guard_log.write_text(before)


def test_the_test_during_which_a_connection_was_refused_fails(pytester):
    pytester.makeconftest(
        f"""
import sys
sys.path.insert(0, {str(REPO)!r})
from tests.conftest import network_guard_log, nothing_leaves_the_machine  # noqa: F401
"""
    )
    pytester.makepyfile(
        """
import socket

def test_reaches_out():
    try:
        socket.socket().connect(("192.0.2.1", 9))
    except ConnectionRefusedError:
        pass  # swallowed: the guard still fails the test

def test_stays_home():
    assert True
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:xdist", "-p", "no:cacheprovider", "-o", "addopts=")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*connections outside 127.0.0.0/8 were refused*192.0.2.1:9*"])
