"""Shop operations over HTTP, as the apps and the staff meet them: the per-customer limit of the config item
(`maxOrdersPerUser`) enforced at the scan, atomically, before a token is taken; and the end of the day,
which closes the shop and cancels every open order once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from localcloud.apps import AppClient, sign_in
from localcloud.serve import create_users
from tests.e2e.conftest import (
    CAPPUCCINO,
    detail_types,
    eventually,
    new_id,
    order,
    processor_runs,
    set_orders_per_customer,
)


@pytest.fixture
def newcomer(served) -> AppClient:
    """A customer who has ordered nothing yet."""
    user = create_users(served.cloud.outputs["userPoolId"], domain=f"{new_id('c')}.local")["customer"]
    return AppClient(served.settings, sign_in(served.settings, user.email, user.password))


@pytest.fixture
def limit(served):
    yield lambda value: set_orders_per_customer(served.cloud, value)
    set_orders_per_customer(served.cloud, 1000)


def _bucket(admin: AppClient) -> dict[str, Any]:
    return admin.call("GET", "validator", "/qr-code").json()["bucket"]


def _numbered(barista: AppClient, order_id: str) -> bool:
    queue = barista.call("GET", "orders", "/orders", params={"state": "CREATED"}).json()
    return any(item["SK"]["S"] == order_id and "orderNumber" in item for item in queue)


def _scan(customer: AppClient, code: str) -> Any:
    return customer.call("POST", "validator", "/qr-code", params={"token": code})


def test_a_customer_at_the_limit_is_refused_and_the_bucket_keeps_its_token(served, newcomer, limit):
    admin = served.clients["admin"]
    limit(1)
    code = _bucket(admin)["last_code"]
    first = _scan(newcomer, code)
    assert first.status_code == 200 and "orderId" in first.json()
    before = _bucket(admin)["availableTokens"]
    refused = _scan(newcomer, code)
    assert refused.status_code == 409
    assert refused.json() == {
        "error": "You already have 1 open order: collect or cancel one before ordering again",
        "maxOrdersPerUser": 1,
    }
    assert _bucket(admin)["availableTokens"] == before


def test_two_scans_at_once_at_one_below_the_limit_give_one_order(served, newcomer, limit):
    admin = served.clients["admin"]
    limit(2)
    code = _bucket(admin)["last_code"]
    assert "orderId" in _scan(newcomer, code).json()
    before = _bucket(admin)["availableTokens"]
    start = threading.Barrier(2)

    def scan_together(_: int) -> Any:
        start.wait()
        return _scan(newcomer, code)

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(scan_together, range(2)))
    assert sorted(answer.status_code for answer in answers) == [200, 409]
    assert _bucket(admin)["availableTokens"] == before - 1


def test_once_an_order_is_collected_the_customer_may_order_again(served, newcomer, limit):
    admin, barista = served.clients["admin"], served.clients["barista"]
    limit(1)
    code = _bucket(admin)["last_code"]
    order_id = _scan(newcomer, code).json()["orderId"]
    assert _scan(newcomer, code).status_code == 409
    eventually(lambda: newcomer.call("GET", "orders", f"/orders/{order_id}").status_code == 200, "the order")
    assert newcomer.call("PUT", "orders", f"/orders/{order_id}", json=CAPPUCCINO).status_code == 200
    eventually(lambda: _numbered(barista, order_id), "the order in the barista's queue")
    done = barista.call("PUT", "orders", f"/orders/{order_id}", params={"action": "complete"})
    assert done.status_code == 200, done.text
    again = _scan(newcomer, code)
    assert again.status_code == 200 and again.json()["orderId"] != order_id


# --------------------------------------------------------------------------- ending the day


def _open_order(served, customer: AppClient, *, choose: bool) -> str:
    """A scanned order, parked at the customer's wait, or (`choose`) numbered and waiting for a barista."""
    code = _bucket(served.clients["admin"])["last_code"]
    order_id = _scan(customer, code).json()["orderId"]
    eventually(lambda: customer.call("GET", "orders", f"/orders/{order_id}").status_code == 200, "the order")
    if choose:
        assert customer.call("PUT", "orders", f"/orders/{order_id}", json=CAPPUCCINO).status_code == 200
        eventually(lambda: _numbered(served.clients["barista"], order_id), "the order in the barista's queue")
    return order_id


def _cancellations(served, topic: str, order_id: str) -> int:
    return sum(
        1
        for message in served.cloud.published(topic)
        if message.payload["type"] == "OrderManager.OrderCancelled"
        and message.payload["detail"]["orderId"] == order_id
    )


def test_the_end_of_day_cancels_every_open_order_ends_its_run_and_counts_nothing(served, newcomer):
    admin, barista = served.clients["admin"], served.clients["barista"]
    waiting = [_open_order(served, newcomer, choose=False) for _ in range(2)]
    queued = [_open_order(served, newcomer, choose=True) for _ in range(2)]
    assert barista.call("PUT", "orders", f"/orders/{queued[0]}", params={"action": "make"}).status_code == 200
    served.cloud.settle()
    sales_before = served.cloud.table("metrics-table").scan()["Items"]

    assert newcomer.call("POST", "config", "/store/end-of-day").status_code == 403
    ended = admin.call("POST", "config", "/store/end-of-day")
    assert ended.status_code == 200 and ended.json()["storeOpen"] is False
    assert ended.json()["cancelled"] >= 4

    eventually(lambda: not [run for run in _runs(served) if run["status"] == "RUNNING"], "every run to end")
    served.cloud.settle()
    for order_id in waiting + queued:
        item = order(served.cloud, order_id)
        assert (item["ORDERSTATE"], item["reason"]) == ("CANCELLED", "Shop closed")
        assert "closing" not in item
        [run] = processor_runs(
            served.cloud, lambda detail, order_id=order_id: detail.get("orderId") == order_id
        )
        assert run["status"] == "SUCCEEDED"
        user_topic = f"serverlesspresso-user-{newcomer.user_id}"
        assert (
            _cancellations(served, "serverlesspresso-admin", order_id),
            _cancellations(served, user_topic, order_id),
        ) == (1, 1)
    for order_id in waiting:  # cancelled before the drink: no number was taken
        assert "orderNumber" not in order(served.cloud, order_id)
        assert "OrderProcessor.WaitingCompletion" not in detail_types(served.cloud, order_id)
    assert served.cloud.table("metrics-table").scan()["Items"] == sales_before

    published = len(served.cloud.published())
    again = admin.call("POST", "config", "/store/end-of-day")
    assert again.status_code == 200 and again.json()["cancelled"] == 0
    served.cloud.settle()
    assert len(served.cloud.published()) == published  # not even a second ConfigChanged
    assert admin.call("PUT", "config", "/store", params={"state": "open"}).status_code == 200


def _runs(served) -> list[dict[str, Any]]:
    sfn = served.cloud.client("stepfunctions")
    return [
        run
        for page in sfn.get_paginator("list_executions").paginate(
            stateMachineArn=served.cloud.outputs["orderProcessorArn"]
        )
        for run in page["executions"]
    ]
