"""Realtime as the apps connect: identity-pool credentials, then MQTT 3.1.1 over a secure WebSocket to the
served stack's IoT ``host`` with a SigV4-signed URL, through the device gateway that decides as AWS IoT does.

`serve` runs in a process of its own with ``realtimeAccess=signedIn`` and the clients read only its
outputs file; the `guests` default is checked on the shared in-process stack."""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from localcloud.apps import AppClient, RealtimeClient, identity_credentials, signed_mqtt_path
from localcloud.serve import mosquitto
from tests.e2e.conftest import CAPPUCCINO, eventually, new_id, serve_process

STAFF, CONFIG = "serverlesspresso-admin", "serverlesspresso-config"
JOURNEY = (
    "OrderProcessor.WorkflowStarted",
    "OrderManager.WaitingCompletion",
    "OrderManager.MakeOrder",
    "OrderManager.OrderCompleted",
)


def _require_mosquitto() -> None:
    if mosquitto() is None:
        message = "no mosquitto: apt-get install mosquitto (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def settings() -> Iterator[dict[str, Any]]:
    _require_mosquitto()
    with serve_process(realtimeAccess="signedIn") as path:
        yield json.loads(path.read_text())


def _customer_topic(client: AppClient) -> str:
    return f"serverlesspresso-user-{client.user_id}"


def _attach(settings: dict[str, Any], client: AppClient, id_token: str | None = None) -> requests.Response:
    return requests.post(
        settings["outputs"]["APIGWEndpointRealtime"] + "/realtime",
        headers={"Authorization": f"Bearer {client.tokens['AccessToken']}"},
        json={"idToken": id_token or client.tokens["IdToken"]},
        timeout=30,
    )


def _listener(settings: dict[str, Any], client: AppClient | None, name: str) -> RealtimeClient:
    """A connected app: signed in (its IoT policy attached first) or, without a client, a guest."""
    if client is not None:
        assert _attach(settings, client).status_code == 200
    credentials = identity_credentials(settings, client.tokens["IdToken"] if client else None)
    listener = RealtimeClient(settings, credentials, f"serverlesspresso-{name}-{new_id()}")
    assert listener.connected(), f"{name} could not connect: {listener.connect_code}"
    return listener


def _types(messages: list[Any]) -> list[str]:
    return [message["type"] for message in messages]


def test_the_outputs_name_the_device_gateway_and_describe_endpoint_agrees(settings):
    host = settings["outputs"]["host"]
    assert host.startswith("127.0.0.1:")
    iot = boto3.client(
        "iot",
        endpoint_url=settings["awsEndpoint"],
        region_name=settings["outputs"]["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    assert iot.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"] == host


def test_a_customer_with_only_the_outputs_file_hears_its_own_journey_and_the_staff_theirs(settings):
    admin, barista = AppClient.signed_in_as(settings, "admin"), AppClient.signed_in_as(settings, "barista")
    customer = AppClient.signed_in_as(settings, "customer")
    mine = _listener(settings, customer, "customer")
    staff = _listener(settings, barista, "barista")
    try:
        assert mine.subscribe(_customer_topic(customer)) and mine.subscribe(CONFIG)
        assert staff.subscribe(STAFF) and staff.subscribe(CONFIG)

        code = admin.call("GET", "validator", "/qr-code").json()["bucket"]["last_code"]
        order_id = customer.call("POST", "validator", "/qr-code", params={"token": code}).json()["orderId"]
        eventually(
            lambda: customer.call("GET", "orders", f"/orders/{order_id}").status_code == 200, "the order"
        )
        assert customer.call("PUT", "orders", f"/orders/{order_id}", json=CAPPUCCINO).status_code == 200
        eventually(
            lambda: "OrderManager.WaitingCompletion" in _types(mine.of(_customer_topic(customer))), "queued"
        )
        for action in ("make", "complete"):
            assert (
                barista.call("PUT", "orders", f"/orders/{order_id}", params={"action": action}).status_code
                == 200
            )

        def heard() -> list[str]:
            return [t for t in _types(mine.of(_customer_topic(customer))) if t in JOURNEY]

        eventually(lambda: heard() == list(JOURNEY), "the customer's journey on its own topic")
        eventually(lambda: "OrderManager.OrderCompleted" in _types(staff.of(STAFF)), "the staff topic")
        new_order = [m for m in staff.of(STAFF) if m["type"] == "Validator.NewOrder"][-1]
        assert (
            "last_code" not in new_order["detail"]["bucket"]
            and "availableTokens" in new_order["detail"]["bucket"]
        )
    finally:
        mine.close()
        staff.close()


def test_a_guest_hears_the_config_topic_and_is_refused_the_staff_topic(settings):
    guest = _listener(settings, None, "display")
    try:
        assert guest.subscribe(CONFIG)
        assert not guest.subscribe(STAFF), "a guest subscribed to the staff topic"
        assert guest.closed.wait(10), "the gateway kept the connection after refusing a subscription"
    finally:
        guest.close()


@pytest.mark.parametrize("topic", [STAFF, "other customer", "own topic/#", "#"])
def test_a_customer_is_refused_the_staff_topic_other_customers_and_wildcards(settings, topic):
    customer = AppClient.signed_in_as(settings, "customer")
    if topic == "other customer":
        topic = f"serverlesspresso-user-{AppClient.signed_in_as(settings, 'admin').user_id}"
    # Under the customer topic: the role's `serverlesspresso-user-*` allows it, the customer's own IoT
    # policy does not (both must allow).
    topic = topic.replace("own topic", _customer_topic(customer))
    listener = _listener(settings, customer, "customer")
    try:
        assert not listener.subscribe(topic), f"the customer subscribed to {topic}"
    finally:
        listener.close()


def test_a_signed_in_identity_cannot_connect_before_its_iot_policy_is_attached(settings):
    # No test of this module attaches the admin's policy: AWS IoT needs one for a signed-in identity.
    admin = AppClient.signed_in_as(settings, "admin")
    credentials = identity_credentials(settings, admin.tokens["IdToken"])
    listener = RealtimeClient(settings, credentials, f"serverlesspresso-admin-{new_id()}")
    try:
        assert not listener.connected(), "a signed-in identity connected without an attached IoT policy"
    finally:
        listener.close()


def test_attaching_twice_changes_nothing_and_another_users_id_token_is_refused(settings):
    admin, customer = AppClient.signed_in_as(settings, "admin"), AppClient.signed_in_as(settings, "customer")
    first, again = _attach(settings, customer), _attach(settings, customer)
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert first.json()["policy"].endswith(customer.user_id)
    assert _attach(settings, customer, id_token=admin.tokens["IdToken"]).status_code == 403
    assert _attach(settings, customer, id_token="not.a.token").status_code == 403
    no_body = requests.post(
        settings["outputs"]["APIGWEndpointRealtime"] + "/realtime",
        headers={"Authorization": f"Bearer {customer.tokens['AccessToken']}"},
        timeout=30,
    )
    assert no_body.status_code == 400
    not_json = requests.post(
        settings["outputs"]["APIGWEndpointRealtime"] + "/realtime",
        headers={"Authorization": f"Bearer {customer.tokens['AccessToken']}"},
        data="{not json",
        timeout=30,
    )
    assert (not_json.status_code, not_json.json()) == (
        400,
        {"error": 'The body must be {"idToken": "<your Cognito ID token>"}'},
    )


def _upgrade(settings: dict[str, Any], path: str) -> int:
    """The HTTP status of a WebSocket upgrade to the gateway (101 when admitted)."""
    context = ssl.create_default_context(cafile=settings["iotCertificate"])
    host = settings["outputs"]["host"]
    try:
        with connect(f"wss://{host}{path}", ssl=context, subprotocols=["mqttv3.1"], open_timeout=30):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


def test_unsigned_badly_signed_and_differently_signed_urls_are_refused_at_the_upgrade(settings):
    credentials = identity_credentials(settings)
    host, region = settings["outputs"]["host"], settings["outputs"]["region"]
    good = signed_mqtt_path(host, region, credentials)
    assert _upgrade(settings, good) == 101
    assert _upgrade(settings, "/mqtt") == 403
    flipped = good.replace("X-Amz-Signature=", "X-Amz-Signature=0", 1)[: len(good)]
    assert _upgrade(settings, flipped) == 403
    assert _upgrade(settings, signed_mqtt_path(f"localhost:{host.split(':')[1]}", region, credentials)) == 403
    assert _upgrade(settings, signed_mqtt_path(host, region, credentials, now=1_000_000_000)) == 403
    without_token = good.rsplit("&X-Amz-Security-Token=", 1)[0]
    assert _upgrade(settings, without_token) == 403


def test_with_guests_the_default_a_guest_hears_every_shop_topic_without_the_qr_code(served):
    if served.settings.get("iotCertificate") is None:
        _require_mosquitto()
    guest = _listener(served.settings, None, "display")
    try:
        assert guest.subscribe(STAFF) and guest.subscribe(CONFIG)
        admin, customer = served.clients["admin"], served.clients["customer"]
        code = admin.call("GET", "validator", "/qr-code").json()["bucket"]["last_code"]
        assert customer.call("POST", "validator", "/qr-code", params={"token": code}).status_code == 200
        eventually(lambda: "Validator.NewOrder" in _types(guest.of(STAFF)), "the scan on the staff topic")
        [scan] = [m for m in guest.of(STAFF) if m["type"] == "Validator.NewOrder"]
        assert "last_code" not in json.dumps(scan) and scan["detail"]["bucket"]["availableTokens"] >= 0
    finally:
        guest.close()
