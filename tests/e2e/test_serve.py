"""`python -m localcloud serve` as a person runs it: a client that reads only the outputs file signs in as
the customer and the admin and walks the QR journey to a COMPLETED order; SIGTERM stops it cleanly. And
a page on another localhost origin, in headless Chromium, signs in, calls the API with `fetch` and reads
the gateway's own 401 and 403 (which it can only do when they carry CORS headers)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.wrappers import Response

from localcloud.apps import AppClient
from tests.e2e.browser import page_result
from tests.e2e.conftest import CAPPUCCINO, eventually, serve_process


@pytest.fixture(scope="module")
def outputs_file() -> Iterator[Path]:
    with serve_process() as path:
        yield path


def test_a_client_with_only_the_outputs_file_walks_the_qr_journey_to_a_completed_order(outputs_file):
    settings = json.loads(outputs_file.read_text())
    assert settings["awsEndpoint"].startswith("http://127.0.0.1:")
    for key in ("orderManagerEndpoint", "APIGWEndpointValidatorService", "APIGWEndpointConfigService"):
        assert settings["outputs"][key].startswith("http://127.0.0.1:") and settings["outputs"][key].endswith(
            "/"
        )
    assert set(settings["users"]) == {"admin", "barista", "customer"}
    admin = AppClient.signed_in_as(settings, "admin")
    customer = AppClient.signed_in_as(settings, "customer")

    code = admin.call("GET", "validator", "/qr-code").json()["bucket"]["last_code"]
    order_id = customer.call("POST", "validator", "/qr-code", params={"token": code}).json()["orderId"]

    # The order exists once the Validator.NewOrder event has started its workflow (asynchronously).
    eventually(lambda: customer.call("GET", "orders", f"/orders/{order_id}").status_code == 200, "the order")
    placed = customer.call("PUT", "orders", f"/orders/{order_id}", json=CAPPUCCINO)
    assert placed.status_code == 200, placed.text

    def numbered() -> bool:
        queue = admin.call("GET", "orders", "/orders", params={"state": "CREATED"}).json()
        return any(item["SK"]["S"] == order_id and "orderNumber" in item for item in queue)

    eventually(numbered, "the order numbered in the barista's queue")
    assert admin.call("PUT", "orders", f"/orders/{order_id}", params={"action": "make"}).status_code == 200
    assert (
        admin.call("PUT", "orders", f"/orders/{order_id}", params={"action": "complete"}).status_code == 200
    )
    done = admin.call("GET", "orders", "/orders", params={"state": "COMPLETED"}).json()
    assert order_id in [item["SK"]["S"] for item in done]
    assert customer.call("GET", "orders", f"/orders/{order_id}").json()["orderState"] == "COMPLETED"


# --------------------------------------------------------------------------- a browser on another origin

PAGE = """<!doctype html><meta charset="utf-8"><title>app</title><script>
async function run() {
  const s = SETTINGS;
  const signIn = await fetch(s.awsEndpoint + "/", {method: "POST", headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"},
    body: JSON.stringify({AuthFlow: "USER_PASSWORD_AUTH", ClientId: s.outputs.userPoolWebClientId,
      AuthParameters: {USERNAME: s.users.customer.email, PASSWORD: s.users.customer.password}})});
  const token = (await signIn.json()).AuthenticationResult.AccessToken;
  const bearer = {headers: {Authorization: "Bearer " + token}};
  const mine = await fetch(s.outputs.orderManagerEndpoint + "/myOrders", bearer);
  const config = await fetch(s.outputs.APIGWEndpointConfigService + "/admin-config", bearer);
  // The gateway's own answers: a fetch whose answer lacks CORS headers rejects, so reading a status
  // here means the browser let the page see it.
  const refused = {};
  for (const [name, path, init] of [["noToken", "/myOrders", {}],
                                    ["badToken", "/myOrders", {headers: {Authorization: "Bearer x.y.z"}}],
                                    ["unknownRoute", "/no-such-route", {}]]) {
    const answer = await fetch(s.outputs.orderManagerEndpoint + path, init);
    refused[name] = [answer.status, (await answer.json()).message];
  }
  return {origin: location.origin, myOrders: mine.status, myOrdersBody: await mine.json(),
          adminConfig: config.status, keys: (await config.json()).map(item => item.PK.S), refused};
}
run().then(r => fetch("/result", {method: "POST", body: JSON.stringify(r)}),
           e => fetch("/result", {method: "POST", body: JSON.stringify({error: String(e)})}));
</script>"""


def test_a_page_on_another_origin_signs_in_and_calls_the_api_from_headless_chromium(outputs_file):
    settings = json.loads(outputs_file.read_text())
    page = PAGE.replace("SETTINGS", json.dumps(settings))
    result, port = page_result({"/": lambda: Response(page, content_type="text/html")})
    assert "error" not in result, result
    assert result["origin"] == f"http://localhost:{port}"
    assert (result["myOrders"], result["adminConfig"]) == (200, 200)
    assert isinstance(result["myOrdersBody"], list)
    assert {"config", "menu"} <= set(result["keys"])
    assert result["refused"] == {
        "noToken": [401, "Unauthorized"],
        "badToken": [401, "Unauthorized"],
        "unknownRoute": [403, "Missing Authentication Token"],
    }
