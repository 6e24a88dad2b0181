"""The front door over real HTTP on 127.0.0.1, with real Cognito tokens: every route, the authorizer, the
roles of D14, CORS, and the QR journey from the display's code to a COMPLETED order."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from localcloud.apps import AppClient
from tests.e2e.conftest import CAPPUCCINO, eventually, new_id, order

ROUTES = {
    ("config", "/config"): ["GET"],
    ("config", "/admin-config"): ["GET"],
    ("config", "/store"): ["PUT"],
    ("orders", "/orders"): ["GET"],
    ("orders", "/orders/{id}"): ["GET", "PUT"],
    ("orders", "/myOrders"): ["GET"],
    ("validator", "/qr-code"): ["GET", "POST"],
}


@pytest.fixture
def admin(served):
    return served.clients["admin"]


@pytest.fixture
def barista(served):
    return served.clients["barista"]


@pytest.fixture
def customer(served):
    return served.clients["customer"]


@pytest.fixture
def other(served):
    return served.clients["other"]


@pytest.fixture
def cloud(served):
    return served.cloud


def qr_code(admin: AppClient) -> str:
    answer = admin.call("GET", "validator", "/qr-code")
    assert answer.status_code == 200, answer.text
    return answer.json()["bucket"]["last_code"]


def scan(client: AppClient, code: str) -> Any:
    return client.call("POST", "validator", "/qr-code", params={"token": code})


def parked_order(cloud, client: AppClient, admin: AppClient) -> str:
    """A customer's scan; returns the order id once the OrderProcessor waits for the drink."""
    answer = scan(client, qr_code(admin))
    assert answer.status_code == 200, answer.text
    order_id = answer.json()["orderId"]
    eventually(lambda: (order(cloud, order_id) or {}).get("TaskToken"), f"order {order_id} parked")
    cloud.settle()  # at rest: what the workflow set off is done, so the item no longer changes
    return order_id


def place(client: AppClient, order_id: str, body: dict | None = None) -> Any:
    return client.call(
        "PUT", "orders", f"/orders/{order_id}", json=body or {"userId": client.user_id, **CAPPUCCINO}
    )


def act(client: AppClient, action: str, order_id: str) -> Any:
    return client.call("PUT", "orders", f"/orders/{order_id}", params={"action": action})


def numbered_order(cloud, customer, admin) -> str:
    order_id = parked_order(cloud, customer, admin)
    assert place(customer, order_id).status_code == 200
    eventually(lambda: (order(cloud, order_id) or {}).get("orderNumber"), "the order number")
    cloud.settle()  # the number is written before the order is marked announced: wait for both
    return order_id


# --------------------------------------------------------------------------- the QR journey


def test_qr_journey_from_the_displayed_code_to_a_completed_order(cloud, admin, barista, customer):
    bucket = admin.call("GET", "validator", "/qr-code").json()["bucket"]
    scanned = scan(customer, bucket["last_code"])
    assert scanned.status_code == 200
    order_id = scanned.json()["orderId"]
    parked = eventually(
        lambda: (order(cloud, order_id) or {}).get("TaskToken") and order(cloud, order_id), "parked"
    )
    assert parked["USERID"] == customer.user_id and parked["ORDERSTATE"] == "CREATED"
    assert (
        admin.call("GET", "validator", "/qr-code").json()["bucket"]["availableTokens"]
        < bucket["availableTokens"]
    )

    placed = place(customer, order_id)
    assert placed.status_code == 200, placed.text
    numbered = eventually(
        lambda: (order(cloud, order_id) or {}).get("orderNumber") and order(cloud, order_id), "number"
    )
    assert json.loads(numbered["drinkOrder"])["drink"] == "Cappuccino"

    assert act(barista, "make", order_id).status_code == 200
    assert order(cloud, order_id)["baristaUserId"] == barista.user_id
    assert act(barista, "complete", order_id).status_code == 200
    assert order(cloud, order_id)["ORDERSTATE"] == "COMPLETED"

    completed = admin.call("GET", "orders", "/orders", params={"state": "COMPLETED"})
    assert completed.status_code == 200
    assert order_id in [item["SK"]["S"] for item in completed.json()]
    mine = customer.call("GET", "orders", "/myOrders")
    assert mine.status_code == 200
    assert [item["ORDERSTATE"]["S"] for item in mine.json() if item["SK"]["S"] == order_id] == ["COMPLETED"]
    read = customer.call("GET", "orders", f"/orders/{order_id}")
    assert read.status_code == 200
    assert read.json()["orderId"] == order_id and read.json()["orderState"] == "COMPLETED"
    assert json.loads(read.json()["drinkOrder"])["drink"] == "Cappuccino"


# --------------------------------------------------------------------------- every route succeeds


def test_the_config_is_public_and_the_same_for_signed_in_apps(customer):
    public = customer.call("GET", "config", "/config", token=None)
    assert public.status_code == 200
    keys = {item["PK"]["S"] for item in public.json()}
    assert {"config", "menu"} <= keys
    assert customer.call("GET", "config", "/admin-config").json() == public.json()


def test_the_admin_closes_and_reopens_the_shop(cloud, admin):
    closed = admin.call("PUT", "config", "/store", params={"state": "closed"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["storeOpen"] == {"BOOL": False}
    assert cloud.table("shop-data-config").get_item(Key={"PK": "config"})["Item"]["storeOpen"] is False
    opened = admin.call("PUT", "config", "/store", params={"state": "open"})
    assert opened.json()["storeOpen"] == {"BOOL": True}
    assert cloud.table("shop-data-config").get_item(Key={"PK": "config"})["Item"]["storeOpen"] is True


def test_a_store_state_other_than_open_or_closed_is_refused_and_changes_nothing(cloud, admin):
    answer = admin.call("PUT", "config", "/store", params={"state": "maybe"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "InvalidRequest"
    assert cloud.table("shop-data-config").get_item(Key={"PK": "config"})["Item"]["storeOpen"] is True


def test_the_queue_lists_open_orders_oldest_first_for_the_staff(cloud, admin, customer):
    first, second = parked_order(cloud, customer, admin), parked_order(cloud, customer, admin)
    answer = admin.call("GET", "orders", "/orders", params={"state": "CREATED", "maxItems": "1000"})
    assert answer.status_code == 200
    listed = [item["SK"]["S"] for item in answer.json()]
    assert {first, second} <= set(listed)
    limited = admin.call("GET", "orders", "/orders", params={"state": "CREATED", "maxItems": "1"})
    assert len(limited.json()) == 1


def test_order_errors_are_answered_400_with_the_workflow_error_and_cause(cloud, admin, customer):
    order_id = parked_order(cloud, customer, admin)
    milkshake = place(customer, order_id, {"drink": "milkshake", "modifiers": [], "icon": "x"})
    assert milkshake.status_code == 400
    assert milkshake.json()["error"] == "InvalidOrder"
    assert "milkshake" in milkshake.json()["cause"]
    unknown = act(admin, "complete", new_id("nope"))
    assert (unknown.status_code, unknown.json()["error"]) == (400, "OrderNotFound")
    assert place(customer, order_id).status_code == 200
    again = place(customer, order_id)
    assert (again.status_code, again.json()["error"]) == (400, "OrderNotAccepted")


def test_quotes_apostrophes_and_unicode_in_a_body_survive_into_the_order(cloud, admin, customer):
    order_id = parked_order(cloud, customer, admin)
    note = 'it\'s a "double" ☕ — ½ sugar \\ please'
    answer = place(customer, order_id, {**CAPPUCCINO, "note": note})
    assert answer.status_code == 200, answer.text
    assert json.loads(order(cloud, order_id)["drinkOrder"])["note"] == note


def test_an_empty_body_is_an_empty_order_not_a_broken_request(cloud, admin, customer):
    order_id = parked_order(cloud, customer, admin)
    answer = customer.call("PUT", "orders", f"/orders/{order_id}", data=b"")
    assert answer.status_code == 400
    assert answer.json()["error"] == "InvalidOrder"


# --------------------------------------------------------------------------- the authorizer


def _claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _tampered(token: str) -> str:
    header, _, signature = token.split(".")
    claims = _claims(token)
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return ".".join((header, forged, signature))


def _expired(cloud, customer) -> str:
    from moto.cognitoidp.models import cognitoidp_backends

    pool = cognitoidp_backends[cloud.account][cloud.region].user_pools[cloud.outputs["userPoolId"]]
    claims = _claims(customer.tokens["AccessToken"])
    token, _ = pool.create_jwt(
        claims["client_id"],
        customer.settings["users"]["customer"]["email"],
        "access",
        expires_in=-60,
        extra_data={"scope": claims["scope"]},
    )
    return token


@pytest.mark.parametrize("kind", ["none", "garbage", "tampered", "expired", "id-token"])
def test_a_signed_in_route_refuses_a_missing_or_bad_token_with_401(cloud, customer, kind):
    token = {
        "none": None,
        "garbage": "not-a-token",
        "tampered": _tampered(customer.tokens["AccessToken"]),
        "expired": _expired(cloud, customer) if kind == "expired" else None,
        "id-token": "id",
    }[kind]
    answer = customer.call("GET", "orders", "/myOrders", token=token)
    assert answer.status_code == 401, (kind, answer.text)
    assert customer.call("GET", "orders", "/myOrders").status_code == 200


# --------------------------------------------------------------------------- roles (D14)


def test_only_the_admin_group_sees_the_qr_code(customer):
    answer = customer.call("GET", "validator", "/qr-code")
    assert answer.status_code == 403


@pytest.mark.parametrize("action", ["make", "unmake", "complete", "cancel"])
def test_a_customer_cannot_act_for_the_baristas_and_nothing_changes(cloud, admin, customer, action):
    order_id = numbered_order(cloud, customer, admin)
    before = order(cloud, order_id)
    answer = act(customer, action, order_id)
    assert answer.status_code == 403, answer.text
    assert answer.json()["error"] == "Forbidden"
    assert order(cloud, order_id) == before


def test_a_customer_cannot_list_the_queue(customer):
    assert customer.call("GET", "orders", "/orders", params={"state": "CREATED"}).status_code == 403


def test_a_customer_cannot_read_another_customers_order(cloud, admin, customer, other):
    order_id = parked_order(cloud, customer, admin)
    assert other.call("GET", "orders", f"/orders/{order_id}").status_code == 403
    assert admin.call("GET", "orders", f"/orders/{order_id}").status_code == 200


def test_a_forged_user_id_cannot_order_into_another_customers_order(cloud, admin, customer, other):
    order_id = parked_order(cloud, customer, admin)
    before = order(cloud, order_id)
    answer = place(other, order_id, {"userId": customer.user_id, **CAPPUCCINO})
    assert answer.status_code == 403, answer.text
    assert order(cloud, order_id) == before
    assert place(customer, order_id).status_code == 200


def test_a_customer_cannot_open_or_close_the_shop(cloud, customer):
    answer = customer.call("PUT", "config", "/store", params={"state": "closed"})
    assert answer.status_code == 403
    assert cloud.table("shop-data-config").get_item(Key={"PK": "config"})["Item"]["storeOpen"] is True


# --------------------------------------------------------------------------- CORS


@pytest.mark.parametrize(("service", "path"), list(ROUTES))
def test_every_path_answers_the_browser_preflight(customer, service, path):
    answer = customer.call(
        "OPTIONS",
        service,
        path.replace("{id}", "some-order"),
        token=None,
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": ROUTES[service, path][0],
        },
    )
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert set(ROUTES[service, path]) <= set(answer.headers["Access-Control-Allow-Methods"].split(","))
    assert "Authorization" in answer.headers["Access-Control-Allow-Headers"]


# --------------------------------------------------------------------------- QR tokens


def _set_tokens(cloud, count: int) -> int:
    [bucket] = [b for b in cloud.table("validator-service-buckets").scan()["Items"]]
    cloud.table("validator-service-buckets").update_item(
        Key={"PK": bucket["PK"]},
        UpdateExpression="SET availableTokens = :n",
        ExpressionAttributeValues={":n": count},
    )
    return int(bucket["PK"])


def _tokens(cloud, bucket_id: int) -> int:
    return int(
        cloud.table("validator-service-buckets").get_item(Key={"PK": bucket_id})["Item"]["availableTokens"]
    )


def test_tokens_run_out_after_the_bucket_is_spent(cloud, admin, customer):
    code = qr_code(admin)
    bucket_id = _set_tokens(cloud, 2)
    try:
        answers = [scan(customer, code) for _ in range(4)]
        assert [a.status_code for a in answers] == [200] * 4
        assert ["orderId" in a.json() for a in answers] == [True, True, False, False]
        assert [a.json() for a in answers[2:]] == [{"error": "No tokens remaining"}] * 2
        assert _tokens(cloud, bucket_id) == 0
    finally:
        _set_tokens(cloud, 1000)


def test_concurrent_scans_never_take_more_tokens_than_the_bucket_has(cloud, admin, customer):
    code = qr_code(admin)
    for _ in range(3):
        bucket_id = _set_tokens(cloud, 4)
        with ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(pool.map(lambda _: scan(customer, code), range(12)))
        orders = [a.json()["orderId"] for a in answers if "orderId" in a.json()]
        assert len(orders) == len(set(orders)) == 4
        assert _tokens(cloud, bucket_id) == 0
    _set_tokens(cloud, 1000)


def test_bad_scans_are_answered_as_the_apps_expect(cloud, admin, customer):
    code = qr_code(admin)
    bucket_id = int(cloud.table("validator-service-buckets").scan()["Items"][0]["PK"])
    cloud.table("validator-service-buckets").put_item(
        Item={"PK": bucket_id - 1, "last_code": "stalecode1", "availableTokens": 10, "last_id": 0}
    )
    before = _tokens(cloud, bucket_id)
    assert customer.call("POST", "validator", "/qr-code").status_code == 422
    assert customer.call("POST", "validator", "/qr-code").json() == {"error": "Missing parameter"}
    assert scan(customer, code[::-1] + "x").json() == {"error": "Invalid code"}
    stale = scan(customer, "stalecode1")
    assert (stale.status_code, stale.json()) == (400, {"error": "Invalid code"})
    assert _tokens(cloud, bucket_id) == before


SIGNED_IN = [(s, p, m) for (s, p), methods in ROUTES.items() for m in methods if (m, p) != ("GET", "/config")]


@pytest.mark.parametrize(("service", "path", "method"), SIGNED_IN)
def test_every_signed_in_route_refuses_a_caller_without_a_token(customer, service, path, method):
    answer = customer.call(method, service, path.replace("{id}", "some-order"), token=None)
    assert answer.status_code == 401, answer.text
    assert answer.json() == {"message": "Unauthorized"}
