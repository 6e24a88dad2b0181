"""A partner's HTTP endpoint on 127.0.0.1 for API destination tests: werkzeug's server on a free port in a
thread, recording every request and answering the status the test sets."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


class Partner:
    """`url` to call; `received` so far; `status` to answer (a callable of the request, or a number)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status: Any = 200
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/"

    def _app(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        received = Received(
            request.method,
            request.path,
            dict(request.args),
            {key.lower(): value for key, value in request.headers.items()},
            request.get_data(as_text=True),
        )
        with self._lock:
            self.received.append(received)
        status = self.status(received) if callable(self.status) else self.status
        return Response(json.dumps({"status": status}), status=status, mimetype="application/json")(
            environ, start_response
        )

    def of(self, predicate: Any) -> list[Received]:
        with self._lock:
            return [r for r in self.received if predicate(r)]


@contextmanager
def partner_endpoint() -> Iterator[Partner]:
    partner = Partner()
    thread = threading.Thread(target=partner._server.serve_forever, name="partner-endpoint", daemon=True)
    thread.start()
    try:
        yield partner
    finally:
        partner._server.shutdown()
        partner._server.server_close()
        thread.join()
