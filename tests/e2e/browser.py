"""A page in headless Chromium that reports back: the tests serve a page on a localhost origin of their own,
Chromium loads it, and the page POSTs what it found to ``/result``."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser")
REPORT_LIMIT_SECONDS = 120


def browser() -> str:
    """The headless Chromium to use; skips (fails in CI) when there is none."""
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        message = "no headless Chromium: apt-get install chromium-headless-shell (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def page_result(
    pages: dict[str, Callable[[], Response]], flags: Sequence[str] = ()
) -> tuple[dict[str, Any], int]:
    """Serve ``pages`` (path → answer) on 127.0.0.1, open ``/`` in Chromium (as ``http://localhost:<port>``,
    with extra command-line `flags`) and return what the page POSTed to ``/result``, with the port."""
    chromium = browser()
    results: list[dict[str, Any]] = []
    arrived = threading.Event()

    @Request.application
    def app(request: Request) -> Response:
        if request.path == "/result":
            results.append(json.loads(request.get_data()))
            arrived.set()
            return Response("ok")
        answer = pages.get(request.path)
        return answer() if answer else Response("not here", status=404)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    profile = tempfile.mkdtemp(prefix="chromium-")
    process = subprocess.Popen(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            # Nothing leaves the machine: every name but localhost fails to resolve, so a page that needs
            # the network (a script from a CDN) cannot work here.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
            f"--user-data-dir={profile}",
            *flags,
            f"http://localhost:{server.server_port}/",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the browser's helper processes end with it
    )
    try:
        assert arrived.wait(REPORT_LIMIT_SECONDS), "the page never reported back"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    [result] = results
    return result, server.server_port
