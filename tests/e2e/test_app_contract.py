"""The apps' contract (D16): each call the display, barista and customer apps make, sent as they send it
(``Authorization: Bearer <access token>``, URLs built as ``<endpoint>//<path>``), against a served stack,
and each field they read from the answer. A change that breaks what an app reads fails here with the app
and the field in the message. D15's API half: no answer of any route carries a task token or an
execution id. D16's error half: the gateway's own answers carry CORS, and a body that is not JSON is a 400.

The contract's facts come from the workshop's apps (see the README's "The apps' contract")."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests

from localcloud.apps import AppClient
from tests.e2e.conftest import CAPPUCCINO, eventually, order

SECRETS = re.compile(r"TaskToken|executionId|executionArn", re.IGNORECASE)


@pytest.fixture(scope="module")
def seen() -> list[tuple[str, str, str, str]]:
    """Every (service, method, route, answer text) this module received, for the D15 sweep at its end."""
    return []


@pytest.fixture
def apps(served, seen) -> dict[str, Recording]:
    return {role: Recording(client, seen) for role, client in served.clients.items()}


class Recording:
    """An app's client that keeps each answer, so the last test can check every route's answer."""

    def __init__(self, client: AppClient, seen: list):
        self.client, self.seen = client, seen
        self.user_id = client.user_id

    def call(self, method: str, service: str, route: str, path: str | None = None, **kwargs: Any) -> Any:
        answer = self.client.call(method, service, path or route, **kwargs)
        self.seen.append((service, method, route, answer.text))
        return answer


def reads(app: str, call: str, document: Any, path: str) -> Any:
    """The value the app reads at ``path`` (``a.b[0].c``) of the answer; a missing one names app and field."""
    value = document
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        try:
            value = value[int(part[1:-1])] if part.startswith("[") else value[part]
        except (KeyError, IndexError, TypeError):
            pytest.fail(
                f"the {app} app reads {path} from {call}, which answered {json.dumps(document)[:400]}"
            )
    return value


def typed(app: str, call: str, item: dict, name: str, kind: str) -> Any:
    """A field of a DynamoDB-typed item, as the apps read them (``item[name][kind]``)."""
    return reads(app, call, item, f"{name}.{kind}")


def scan_code(apps) -> str:
    answer = apps["admin"].call("GET", "validator", "/qr-code")
    assert answer.status_code == 200, answer.text
    return answer.json()["bucket"]["last_code"]


def parked(cloud, apps, customer: str = "customer") -> str:
    answer = apps[customer].call("POST", "validator", "/qr-code", params={"token": scan_code(apps)})
    assert answer.status_code == 200, answer.text
    order_id = reads("customer", "POST /qr-code", answer.json(), "orderId")
    eventually(lambda: (order(cloud, order_id) or {}).get("TaskToken"), f"order {order_id} parked")
    cloud.settle()
    return order_id


def numbered(cloud, apps) -> str:
    order_id = parked(cloud, apps)
    body = {"userId": apps["customer"].user_id, **CAPPUCCINO}
    placed = apps["customer"].call("PUT", "orders", "/orders/{id}", f"/orders/{order_id}", json=body)
    assert placed.status_code == 200, placed.text
    eventually(lambda: (order(cloud, order_id) or {}).get("orderNumber"), "the order number")
    cloud.settle()
    return order_id


# --------------------------------------------------------------------------- the display


def test_the_display_reads_the_code_its_end_and_the_drinks_remaining(apps):
    call = "GET /qr-code"
    answer = apps["admin"].call("GET", "validator", "/qr-code")
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert isinstance(reads("display", call, document, "bucket.last_code"), str)
    assert isinstance(reads("display", call, document, "bucket.end_ts"), int)
    assert isinstance(reads("display", call, document, "bucket.availableTokens"), int)


# --------------------------------------------------------------------------- every app: the config


def test_every_app_reads_the_menu_from_the_first_config_item_without_signing_in(apps):
    call = "GET /config"
    answer = apps["customer"].call("GET", "config", "/config", token=None)
    assert answer.status_code == 200, answer.text
    items = answer.json()
    assert reads("customer", call, items, "[0].PK.S") == "menu", "the customer app takes the menu from item 0"
    drinks = typed("customer", call, items[0], "value", "L")
    assert drinks and all("M" in drink for drink in drinks)
    config = next(item for item in items if item["PK"]["S"] == "config")
    assert isinstance(typed("display", call, config, "storeOpen", "BOOL"), bool)


# --------------------------------------------------------------------------- the customer


def test_the_customer_scans_orders_and_follows_its_order(served, apps):
    order_id = numbered(served.cloud, apps)  # scanned, then placed as the customer app places it

    call = "GET /orders/{id}"
    one = apps["customer"].call("GET", "orders", call.split()[1], f"/orders/{order_id}").json()
    assert reads("customer", call, one, "orderId") == order_id
    assert reads("customer", call, one, "orderState") == "CREATED"
    assert json.loads(reads("customer", call, one, "drinkOrder"))["drink"] == "Cappuccino"
    assert isinstance(reads("customer", call, one, "TS"), int)

    call = "GET /myOrders"
    mine = apps["customer"].call("GET", "orders", "/myOrders").json()
    [item] = [item for item in mine if reads("customer", call, item, "SK.S") == order_id]
    assert typed("customer", call, item, "ORDERSTATE", "S") == "CREATED"
    assert int(typed("customer", call, item, "TS", "N")) > 0
    assert int(typed("customer", call, item, "orderNumber", "S")) > 0
    assert json.loads(typed("customer", call, item, "drinkOrder", "S"))["drink"] == "Cappuccino"
    assert set(item) <= {"PK", "SK", "orderNumber", "robot", "drinkOrder", "ORDERSTATE", "TS"}


def test_a_refused_scan_and_a_refused_order_answer_what_the_customer_app_shows(served, apps):
    refused = apps["customer"].call("POST", "validator", "/qr-code", params={"token": "not-the-code"})
    assert refused.status_code >= 400
    assert reads("customer", "POST /qr-code (refused)", refused.json(), "error")

    order_id = parked(served.cloud, apps)
    milkshake = {"userId": apps["customer"].user_id, "drink": "milkshake", "modifiers": [], "icon": "x"}
    answer = apps["customer"].call("PUT", "orders", "/orders/{id}", f"/orders/{order_id}", json=milkshake)
    assert answer.status_code == 400
    assert reads("customer", "PUT /orders/{id} (400)", answer.json(), "error") == "InvalidOrder"
    assert "milkshake" in reads("customer", "PUT /orders/{id} (400)", answer.json(), "cause")


# --------------------------------------------------------------------------- the barista


def test_the_barista_lists_makes_and_completes_and_opens_and_closes_the_shop(served, apps):
    cloud = served.cloud
    order_id = numbered(cloud, apps)
    barista = apps["barista"]

    call = "GET /orders?state=CREATED"
    queue = barista.call("GET", "orders", "/orders", params={"state": "CREATED"}).json()
    [item] = [item for item in queue if reads("barista", call, item, "SK.S") == order_id]
    assert int(typed("barista", call, item, "orderNumber", "S")) > 0
    assert int(typed("barista", call, item, "TS", "N")) > 0
    assert json.loads(typed("barista", call, item, "drinkOrder", "S"))["icon"] == CAPPUCCINO["icon"]

    for action in ("make", "unmake", "make"):
        made = barista.call("PUT", "orders", "/orders/{id}", f"/orders/{order_id}", params={"action": action})
        assert made.status_code == 200, (action, made.text)
    queue = barista.call("GET", "orders", "/orders", params={"state": "CREATED"}).json()
    [item] = [item for item in queue if item["SK"]["S"] == order_id]
    assert typed("barista", call, item, "baristaUserId", "S") == barista.user_id

    done = barista.call("PUT", "orders", "/orders/{id}", f"/orders/{order_id}", params={"action": "complete"})
    assert done.status_code == 200, done.text
    call = "GET /orders?state=COMPLETED&maxItems=10"
    completed = barista.call(
        "GET", "orders", "/orders", params={"state": "COMPLETED", "maxItems": "10"}
    ).json()
    assert len(completed) <= 10
    assert order_id in [reads("display", call, item, "SK.S") for item in completed]

    cancelled_id = numbered(cloud, apps)
    cancel = barista.call(
        "PUT", "orders", "/orders/{id}", f"/orders/{cancelled_id}", params={"action": "cancel"}
    )
    assert cancel.status_code == 200, cancel.text

    for state in ("closed", "open"):
        answer = barista.call("PUT", "config", "/store", params={"state": state})
        assert answer.status_code == 200, (state, answer.text)


# --------------------------------------------------------------------------- bad bodies (D16)


@pytest.mark.parametrize("content_type", ["application/json", None], ids=["json", "no-content-type"])
def test_a_body_that_is_not_json_is_a_400_that_says_so_and_changes_nothing(served, apps, content_type):
    order_id = parked(served.cloud, apps)
    headers = {"Content-Type": content_type} if content_type else {}
    for body in (b"{not json", b'{"drink": "Cappuccino",}', b'{"drink": NaN}'):
        answer = apps["customer"].call(
            "PUT", "orders", "/orders/{id}", f"/orders/{order_id}", data=body, headers=headers
        )
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["error"] == "InvalidRequest"
        assert "not valid JSON" in answer.json()["cause"]
        assert answer.headers["Access-Control-Allow-Origin"]
    assert "drinkOrder" not in order(served.cloud, order_id)


# --------------------------------------------------------------------------- the gateway's own answers


def test_the_gateways_401_and_403_carry_cors_and_aws_message_over_http(served, apps):
    preflight = apps["customer"].call("OPTIONS", "orders", "/myOrders", token=None)
    origin = preflight.headers["Access-Control-Allow-Origin"]  # the stack's corsAllowOrigin
    unauthorized = apps["customer"].call("GET", "orders", "/myOrders", token=None)
    expired = apps["customer"].call("GET", "orders", "/myOrders", token="Bearer not-a-token")
    unknown = apps["customer"].call("GET", "orders", "/no-such-route")
    for answer, status, message in (
        (unauthorized, 401, "Unauthorized"),
        (expired, 401, "Unauthorized"),
        (unknown, 403, "Missing Authentication Token"),
    ):
        assert (answer.status_code, answer.json()) == (status, {"message": message})
        assert answer.headers["Access-Control-Allow-Origin"] == origin
        assert "Authorization" in answer.headers["Access-Control-Allow-Headers"]


# --------------------------------------------------------------------------- an order's journey (staff)


def test_the_staff_read_an_orders_journey_in_time_order_and_a_customer_is_refused(served, apps):
    cloud = served.cloud
    order_id = numbered(cloud, apps)
    for action in ("make", "complete"):
        path = f"/orders/{order_id}"
        assert apps["barista"].call("PUT", "orders", "/orders/{id}", path, params={"action": action}).ok
    cloud.settle()
    admin, customer = apps["admin"].client, apps["customer"].client

    def read(path: str = order_id, **headers: str) -> requests.Response:
        return requests.get(served.settings["journey"] + path, headers=headers, timeout=30)

    bearer = f"Bearer {admin.tokens['AccessToken']}"
    steps = read(Authorization=bearer, Accept="application/json").json()["steps"]
    kinds = [step["detail_type"] for step in steps]
    for earlier, later in (
        ("Validator.NewOrder", "OrderProcessor.WorkflowStarted"),
        ("OrderProcessor.WorkflowStarted", "OrderManager.WaitingCompletion"),
        ("OrderManager.WaitingCompletion", "OrderManager.MakeOrder"),
        ("OrderManager.MakeOrder", "OrderManager.OrderCompleted"),
    ):
        assert kinds.index(earlier) < kinds.index(later), kinds
    states = [step["state"] for step in steps]
    assert "COMPLETED" in states and states.index("being made") < states.index("COMPLETED")
    assert any(step["facts"].get("drink") == "Cappuccino" for step in steps)
    page = read(Authorization=bearer)
    assert page.headers["Content-Type"].startswith("text/html") and "COMPLETED" in page.text
    assert order_id in page.text and "TaskToken" not in page.text

    refused = read(Authorization=f"Bearer {customer.tokens['AccessToken']}")
    assert (refused.status_code, "admin group" in refused.json()["message"]) == (403, True)
    assert read().status_code == 401
    assert read("no-such-order", Authorization=bearer).status_code == 404


# --------------------------------------------------------------------------- D15: nothing secret, anywhere


def test_no_answer_of_any_route_carries_a_task_token_or_an_execution_id(served, apps, seen):
    """Runs last in the module: every route has been answered by now (the ones not yet called are called
    here), and no answer held a token or an execution id."""
    cloud = served.cloud
    order_id = numbered(cloud, apps)
    apps["admin"].call("GET", "config", "/admin-config")
    apps["customer"].call("GET", "orders", "/orders/{id}", f"/orders/{order_id}")
    apps["customer"].call("GET", "orders", "/myOrders")
    apps["admin"].call("GET", "orders", "/orders", params={"state": "CREATED"})
    assert order(cloud, order_id)["TaskToken"]  # the secret exists, and stays where it is
    # Last, as the day ends: it closes the shop and cancels every open order (their tokens stay stored).
    ended = apps["admin"].call("POST", "config", "/store/end-of-day")
    assert ended.status_code == 200 and ended.json()["cancelled"] >= 1

    routes = {(service, method, route) for service, method, route, _ in seen}
    assert routes >= declared_routes(cloud), "a route of the stack was never called by this module"
    leaks = [(method, route, text[:200]) for _, method, route, text in seen if SECRETS.search(text)]
    assert leaks == []


def declared_routes(cloud) -> set[tuple[str, str, str]]:
    """(service, method, path) of every route the served stack's APIs declare, preflights aside."""
    services = {"APIGWEndpointConfigService": "config", "orderManagerEndpoint": "orders"}
    services["APIGWEndpointValidatorService"] = "validator"
    apigw = cloud.client("apigateway")
    routes = set()
    for output, service in services.items():
        api_id = re.match(r"https://([^.]+)\.", cloud.outputs[output]).group(1)
        for resource in apigw.get_resources(restApiId=api_id, limit=500)["items"]:
            for method in resource.get("resourceMethods", {}):
                if method != "OPTIONS":
                    routes.add((service, method, resource["path"]))
    return routes
