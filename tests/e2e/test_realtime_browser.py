"""Scenario 18 in headless Chromium with the apps' own client libraries (npm, bundled by esbuild from
`tests/e2e/realtime_js`): SRP sign-in with amazon-cognito-identity-js, identity-pool credentials with the
AWS SDK, MQTT over a SigV4-signed secure WebSocket with mqtt.js, against `serve` (``realtimeAccess``
``signedIn``) in a process of its own. The display shows the QR code and 10 then 9 drinks remaining; the
customer scans, orders and follows its order on its own topic; the barista makes and completes it; closing
the shop reaches every app; the customer is refused the staff topic and another customer's topic."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Response

from tests.e2e.browser import page_result
from tests.e2e.conftest import CAPPUCCINO, serve_process
from tests.e2e.test_realtime import _require_mosquitto

CLIENT_DIR = Path(__file__).resolve().parent / "realtime_js"
TOKENS = 10


def _unavailable(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def bundle() -> Iterator[str]:
    """The client libraries as one browser script, built from the lockfile's node_modules."""
    node = shutil.which("node")
    if node is None or not (CLIENT_DIR / "node_modules" / ".bin" / "esbuild").exists():
        _unavailable(f"no Node or no node_modules: npm ci --prefix {CLIENT_DIR.relative_to(Path.cwd())}")
    folder = Path(tempfile.mkdtemp(prefix="realtime-js-"))
    try:
        subprocess.run(
            [node, "build.mjs", str(folder / "shop-realtime.js")],
            cwd=CLIENT_DIR,
            check=True,
            capture_output=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        yield (folder / "shop-realtime.js").read_text()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def settings() -> Iterator[dict[str, Any]]:
    _require_mosquitto()
    with serve_process(realtimeAccess="signedIn", qrTokensPerBucket=str(TOKENS)) as path:
        yield json.loads(path.read_text())


PAGE = """<!doctype html><meta charset="utf-8"><title>scenario 18</title>
<div id="display"></div>
<script>window.SETTINGS = @SETTINGS@; window.DRINK = @DRINK@;</script>
<script src="/shop-realtime.js"></script><script src="/scenario18.js"></script>"""
SCENARIO = (CLIENT_DIR / "pages" / "scenario18.js").read_text()


def test_scenario_18_in_a_browser_with_the_apps_client_libraries(bundle, settings):
    page = PAGE.replace("@SETTINGS@", json.dumps(settings)).replace("@DRINK@", json.dumps(CAPPUCCINO))
    result, _ = page_result(
        {
            "/": lambda: Response(page, content_type="text/html"),
            "/shop-realtime.js": lambda: Response(bundle, content_type="text/javascript"),
            "/scenario18.js": lambda: Response(SCENARIO, content_type="text/javascript"),
        },
        flags=[f"--ignore-certificate-errors-spki-list={settings['iotCertificateSpki']}"],
    )
    assert "error" not in result, result.get("error")
    assert result["shown"][:2] == [f"{TOKENS} drink(s) remaining", f"{TOKENS - 1} drink(s) remaining"]
    assert (result["placed"], result["make"], result["complete"], result["closed"]) == (200, 200, 200, 200)
    statuses = [s for s in result["customerStatuses"] if s.startswith(("OrderManager.", "OrderProcessor."))]
    assert statuses.index("OrderManager.WaitingCompletion") < statuses.index("OrderManager.MakeOrder")
    assert statuses.index("OrderManager.MakeOrder") < statuses.index("OrderManager.OrderCompleted")
    assert result["refusals"] == {
        "staff": "refused: serverlesspresso-admin",
        "otherCustomer": result["refusals"]["otherCustomer"],
    }
    assert result["refusals"]["otherCustomer"].startswith("refused: serverlesspresso-user-")
    assert not result["staffHeardCodes"], "a QR code reached the staff topic"
