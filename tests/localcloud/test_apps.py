"""The apps' HTTP client (localcloud.apps) against a stand-in for a served stack on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from localcloud.apps import AppClient


class _Store(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"path": self.path, "authorization": self.headers.get("Authorization")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def store_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Store)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def dead_proxy() -> Iterator[str]:
    """An address that refuses connections: nothing listens on a port just closed."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Store)
    port = server.server_address[1]
    server.server_close()
    yield f"http://127.0.0.1:{port}"


def test_the_apps_reach_the_served_stack_directly_whatever_proxy_the_environment_names(
    store_url, dead_proxy, monkeypatch
):
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, dead_proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    result: dict = {}

    def call() -> None:  # a new thread: a new session, created with this environment
        app = AppClient({"outputs": {"APIGWEndpointConfigService": store_url}}, {"AccessToken": "token-1"})
        result["answer"] = app.call("GET", "config", "/store")

    thread = threading.Thread(target=call)
    thread.start()
    thread.join()

    assert result["answer"].status_code == 200
    assert result["answer"].json() == {"path": "/store", "authorization": "Bearer token-1"}
