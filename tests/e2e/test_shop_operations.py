"""Shop operations over HTTP, as the apps and the staff meet them: the per-customer limit of the config item
(`maxOrdersPerUser`) enforced at the scan, atomically, before a token is taken."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from localcloud.apps import AppClient, sign_in
from localcloud.serve import create_users
from tests.e2e.conftest import CAPPUCCINO, eventually, new_id, set_orders_per_customer


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
