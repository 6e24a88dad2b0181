"""A catalogue of hostile inputs through the real program in the local cloud (issue 11, D12, D13, D14).

Bus events go in with `put_event`, OrderManager requests with `order_manager`. Every case asserts its
precise outcome: a named error, or a documented no-op. Nothing half-written, no stub or corrupted order,
nothing lost, nothing counted twice. The stack runs on a virtual clock and waits 600 s for customers and
baristas, so nothing times out while a case runs; each case waits for an outcome by polling for it,
never for a fixed time.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from localcloud import simulator
from tests.e2e.conftest import CAPPUCCINO, eventually, logged_events, order, processor_runs

# No batching window for the metrics queue: a case settles (metrics included) after every step, and a
# window would make each settle wait it out; batching is tested in tests/localcloud/test_pollers.py.
LONG_WAITS = {
    "customerTimeoutSeconds": 600,
    "baristaTimeoutSeconds": 600,
    "capacity": 500,
    "metricsBatchWindowSeconds": 0,
}
LATTE = {"drink": "Latte", "modifiers": [], "icon": "barista-icons_cafe-latte"}
ESPRESSO = {"drink": "Espresso", "modifiers": [], "icon": "barista-icons_espresso-alternative"}
FORGED_RUN = "arn:aws:states:us-east-1:123456789012:execution:forged-machine:forged-run"


@pytest.fixture(scope="module")
def cloud():
    import logging

    from localcloud.cloud import LocalCloud
    from localcloud.emulator.clock import VirtualClock

    logging.getLogger("moto").setLevel(logging.CRITICAL)
    with LocalCloud.running("local", LONG_WAITS, clock=VirtualClock()) as deployed:
        yield deployed


def new_id(prefix: str = "hostile") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# --------------------------------------------------------------------------- looking


def runs(cloud: Any, where: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """OrderProcessor executions (described, oldest first) whose input ``detail`` satisfies ``where``."""
    return processor_runs(cloud, where)


def runs_of_user(cloud: Any, user_id: str) -> list[dict[str, Any]]:
    return runs(cloud, lambda detail: detail.get("userId") == user_id)


def runs_of_order(cloud: Any, order_id: Any) -> list[dict[str, Any]]:
    return runs(cloud, lambda detail: detail.get("orderId") == order_id)


def ended(cloud: Any, find: Callable[[], list[dict[str, Any]]], count: int = 1) -> list[dict[str, Any]]:
    """Waits until ``count`` runs were found and none of them is RUNNING."""

    def check() -> list[dict[str, Any]] | None:
        found = find()
        return found if len(found) == count and all(r["status"] != "RUNNING" for r in found) else None

    return eventually(check, f"{count} run(s) to end", limit=60)


def visited(cloud: Any, run: dict[str, Any]) -> list[str]:
    history = cloud.client("stepfunctions").get_execution_history(
        executionArn=run["executionArn"], maxResults=1000
    )
    return [
        e["stateEnteredEventDetails"]["name"] for e in history["events"] if "stateEnteredEventDetails" in e
    ]


def kinds(cloud: Any, order_id: str) -> list[str]:
    cloud.settle()
    return [event["detail-type"] for event in logged_events(cloud, order_id)]


def sales(cloud: Any) -> int:
    cloud.settle()
    return simulator._aggregates(cloud)["TotalSales"]


def orders_with_prefix(cloud: Any, prefix: str) -> list[dict[str, Any]]:
    items = cloud.table("shop-data-orders").scan()["Items"]
    return [item for item in items if str(item["SK"]).startswith(prefix)]


def dead_letters(cloud: Any) -> dict[str, int]:
    """Messages waiting in each dead-letter queue of the stack."""
    cloud.settle()
    return simulator._dead_letters(cloud)


def new_dead_letters(cloud: Any, before: dict[str, int]) -> dict[str, int]:
    """Dead-letter queues that hold more messages than ``before``, and how many more."""
    return {
        name: count - before.get(name, 0)
        for name, count in dead_letters(cloud).items()
        if count > before.get(name, 0)
    }


def dead_letter_queue_of(cloud: Any, function: str) -> str:
    return cloud.state.named(f"{function}-dlq", "aws:sqs/queue:Queue").state["name"]


# --------------------------------------------------------------------------- acting


def new_order(cloud: Any, order_id: Any, user_id: Any = "customer-1") -> None:
    cloud.put_event("Validator.NewOrder", {"orderId": order_id, "userId": user_id})


def park(cloud: Any, order_id: str, user_id: str = "customer-1") -> dict[str, Any]:
    new_order(cloud, order_id, user_id)
    return eventually(
        lambda: (order(cloud, order_id) or {}).get("TaskToken") and order(cloud, order_id), "parked"
    )


def place(
    cloud: Any, order_id: str, user_id: str = "customer-1", drink: dict | None = None
) -> dict[str, Any]:
    return cloud.order_manager(
        {
            "action": "",
            "body": {"userId": user_id, **(drink or CAPPUCCINO)},
            "orderId": order_id,
            "baristaUserId": "b",
        }
    )


def to_barista(cloud: Any, order_id: str, user_id: str = "customer-1") -> dict[str, Any]:
    park(cloud, order_id, user_id)
    assert place(cloud, order_id, user_id)["status"] == "SUCCEEDED"
    eventually(lambda: (order(cloud, order_id) or {}).get("orderNumber"), "numbered")
    # the number is written before the order is marked announced: hand over the order at rest
    return settled_item(cloud, order_id)


def manage(
    cloud: Any, action: str, order_id: str, barista: str = "barista-1", body: Any = None
) -> dict[str, Any]:
    return cloud.order_manager(
        {"action": action, "body": body or {}, "orderId": order_id, "baristaUserId": barista}
    )


def as_customer(user_id: str, order_id: str, body: Any, action: str = "") -> dict[str, Any]:
    return {
        "action": action,
        "body": body,
        "orderId": order_id,
        "baristaUserId": user_id,
        "caller": {"admin": False, "customer": {"userId": user_id}},
    }


def settled_item(cloud: Any, order_id: str) -> dict[str, Any]:
    cloud.settle()
    return order(cloud, order_id)


# ======================================================= 1. events that are not orders


@pytest.mark.parametrize(
    ("order_id", "user_id"),
    [
        pytest.param(7, "user", id="orderId-number"),
        pytest.param(None, "user", id="orderId-null"),
        pytest.param(["o-1"], "user", id="orderId-list"),
        pytest.param({"S": "o-1"}, "user", id="orderId-object"),
        pytest.param(True, "user", id="orderId-boolean"),
        pytest.param("", "user", id="orderId-empty"),
        pytest.param("fresh", 42, id="userId-number"),
        pytest.param("fresh", "", id="userId-empty"),
        pytest.param("fresh", {"sub": "x"}, id="userId-object"),
    ],
)
def test_a_new_order_of_the_wrong_type_fails_at_once_as_invalid_order_event(cloud, order_id, user_id):
    marker = new_id("wrong-type")
    detail = {"orderId": order_id, "userId": user_id, "marker": marker}
    if order_id == "fresh":
        detail["orderId"] = marker
    cloud.put_event("Validator.NewOrder", detail)

    (run,) = ended(cloud, lambda: runs(cloud, lambda d: d.get("marker") == marker))

    assert (run["status"], run["error"]) == ("FAILED", "InvalidOrderEvent")
    assert "Is capacity available?" not in visited(cloud, run)
    assert orders_with_prefix(cloud, marker) == []


@pytest.mark.parametrize(
    "missing", [pytest.param("orderId", id="no-orderId"), pytest.param("userId", id="no-userId")]
)
def test_a_new_order_missing_a_field_fails_at_once_as_invalid_order_event(cloud, missing):
    marker = new_id("missing")
    detail = {"orderId": marker, "userId": marker, "marker": marker}
    del detail[missing]
    cloud.put_event("Validator.NewOrder", detail)

    (run,) = ended(cloud, lambda: runs(cloud, lambda d: d.get("marker") == marker))

    assert (run["status"], run["error"]) == ("FAILED", "InvalidOrderEvent")
    assert orders_with_prefix(cloud, marker) == []


@pytest.mark.parametrize(
    ("make_order_id", "user_id"),
    [
        pytest.param(lambda marker: marker + "x" * (1025 - len(marker)), "user", id="orderId-1025-bytes"),
        pytest.param(lambda marker: marker + "é" * 510, "user", id="orderId-over-1024-bytes-of-unicode"),
        pytest.param(lambda marker: marker, "u" * 2049, id="userId-2049-bytes"),
    ],
)
def test_ids_longer_than_the_order_table_keys_are_refused_by_name_without_an_order(
    cloud, make_order_id, user_id
):
    marker = new_id("long")
    order_id = make_order_id(marker)
    dead_before = dead_letters(cloud)
    new_order(cloud, order_id, user_id)

    (run,) = ended(cloud, lambda: runs_of_order(cloud, order_id))

    assert (run["status"], run["error"]) == ("FAILED", "InvalidOrderEvent")
    assert orders_with_prefix(cloud, marker) == []
    assert "OrderProcessor.OrderTimeOut" not in kinds(cloud, order_id)
    assert new_dead_letters(cloud, dead_before) == {}


@pytest.mark.parametrize(
    ("order_id", "user_id"),
    [
        pytest.param("quote'\"-\\-" + uuid.uuid4().hex, "o'brien\"", id="quotes-and-backslashes"),
        pytest.param("☕-ümlaut-ß-🙂-" + uuid.uuid4().hex, "ユーザー-🙂", id="unicode"),
        pytest.param("<script>alert(1)</script>-" + uuid.uuid4().hex, "${jndi:x}", id="markup-and-templates"),
        pytest.param(("edge-" + uuid.uuid4().hex).ljust(1024, "x"), "u" * 2048, id="keys-at-their-limits"),
    ],
)
def test_odd_but_valid_text_is_an_order_like_any_other_and_kept_exactly(cloud, order_id, user_id):
    item = to_barista(cloud, order_id, user_id)

    assert (item["SK"], item["USERID"], item["ORDERSTATE"]) == (order_id, user_id, "CREATED")
    assert json.loads(item["drinkOrder"])["drink"] == "Cappuccino"
    assert manage(cloud, "complete", order_id)["status"] == "SUCCEEDED"
    assert settled_item(cloud, order_id)["ORDERSTATE"] == "COMPLETED"


# ======================================================= 2. requests the OrderManager refuses


@pytest.fixture
def waiting(cloud):
    """A parked order of customer-1, and a function that asserts it was left exactly as it was."""
    order_id = new_id("parked")
    park(cloud, order_id)
    before = settled_item(cloud, order_id)  # at rest, so only the hostile request could change it
    sales_before = sales(cloud)

    def unchanged() -> None:
        assert settled_item(cloud, order_id) == before
        assert "OrderManager.WaitingCompletion" not in kinds(cloud, order_id)
        assert sales(cloud) == sales_before

    yield order_id, unchanged
    manage(cloud, "cancel", order_id)


@pytest.mark.parametrize(
    ("request_of", "error", "cause_names"),
    [
        pytest.param(
            lambda o: {"action": 5, "body": {}, "orderId": o, "baristaUserId": "b"},
            "InvalidOrder",
            "action",
            id="action-number",
        ),
        pytest.param(
            lambda o: {"action": "make", "body": {}, "orderId": o},
            "InvalidOrder",
            "baristaUserId",
            id="make-without-barista",
        ),
        pytest.param(
            lambda o: {"action": "make", "body": {}, "orderId": o, "baristaUserId": ["b"]},
            "InvalidOrder",
            "baristaUserId",
            id="barista-list",
        ),
        pytest.param(
            lambda o: {"action": "complete", "body": {}, "orderId": 123, "baristaUserId": "b"},
            "InvalidOrder",
            "orderId",
            id="orderId-number",
        ),
        pytest.param(
            lambda o: {"action": "", "body": "Cappuccino", "orderId": o, "baristaUserId": "b"},
            "InvalidOrder",
            "body",
            id="body-text",
        ),
        pytest.param(
            lambda o: as_customer("customer-1", o, []), "InvalidOrder", "body", id="body-empty-list"
        ),
        pytest.param(
            lambda o: as_customer("customer-1", o, [CAPPUCCINO]), "InvalidOrder", "body", id="body-list"
        ),
        pytest.param(lambda o: as_customer("customer-1", o, 3.14), "InvalidOrder", "body", id="body-number"),
        pytest.param(
            lambda o: as_customer("customer-1", o, {**CAPPUCCINO, "drink": "Cappu\"ccino'"}),
            "InvalidOrder",
            "not on the menu",
            id="drink-with-quotes",
        ),
        pytest.param(
            lambda o: as_customer("customer-1", o, {**CAPPUCCINO, "drink": "Caffè ☕ 🙂"}),
            "InvalidOrder",
            "not on the menu",
            id="drink-unicode",
        ),
        pytest.param(
            lambda o: as_customer("customer-1", o, {**CAPPUCCINO, "drink": "x" * 100_000}),
            "InvalidOrder",
            "bytes",
            id="drink-oversized",
        ),
        pytest.param(
            lambda o: as_customer("customer-1", o, {**CAPPUCCINO, "icon": "é" * 3000}),
            "InvalidOrder",
            "bytes",
            id="icon-oversized-unicode",
        ),
        pytest.param(
            lambda o: as_customer("customer-1", o, {**CAPPUCCINO, "modifiers": "Oat"}),
            "InvalidOrder",
            "modifiers",
            id="modifiers-text",
        ),
        pytest.param(
            lambda o: as_customer("customer-1", o, {**CAPPUCCINO, "modifiers": [{"$ne": 1}]}),
            "InvalidOrder",
            "not an option",
            id="modifier-object",
        ),
        pytest.param(
            lambda o: as_customer("customer-1", o, {"userId": "customer-1"}),
            "InvalidOrder",
            "no drink",
            id="no-drink",
        ),
        pytest.param(
            lambda o: as_customer("customer-1", o, {}, action="DROP TABLE orders;"),
            "InvalidOrder",
            "no drink",
            id="unknown-action-no-drink",
        ),
        pytest.param(
            lambda o: as_customer("mallory", o, CAPPUCCINO),
            "Forbidden",
            "another customer",
            id="another-customers-order",
        ),
        pytest.param(
            lambda o: as_customer("customer-1", o, {}, action="complete"),
            "Forbidden",
            "admin",
            id="customer-completes",
        ),
        pytest.param(
            lambda o: as_customer("customer-1", o, {}, action="cancel"),
            "Forbidden",
            "admin",
            id="customer-cancels",
        ),
        pytest.param(
            lambda o: {
                "action": "",
                "body": {"userId": "mallory", **CAPPUCCINO},
                "orderId": o,
                "baristaUserId": "b",
            },
            "OrderNotAccepted",
            "not waiting",
            id="drink-for-another-user",
        ),
    ],
)
def test_a_hostile_request_is_refused_by_name_and_the_order_stays_as_it_was(
    cloud, waiting, request_of, error, cause_names
):
    order_id, unchanged = waiting

    answer = cloud.order_manager(request_of(order_id))

    assert (answer["status"], answer["error"]) == ("FAILED", error)
    assert cause_names in answer["cause"]
    assert len(answer["cause"]) < 500
    unchanged()


@pytest.mark.parametrize("action", ["complete", "cancel", "make", "unmake"])
@pytest.mark.parametrize(
    ("order_id", "error"),
    [
        pytest.param("nope-" + uuid.uuid4().hex, "OrderNotFound", id="unknown"),
        pytest.param("long-" + "x" * 1100, "InvalidOrder", id="longer-than-a-key"),
        pytest.param("", "InvalidOrder", id="empty"),
    ],
)
def test_a_barista_action_on_an_order_that_cannot_exist_is_refused_and_creates_nothing(
    cloud, action, order_id, error
):
    cloud.settle()
    orders_before, events_before = (
        len(cloud.table("shop-data-orders").scan()["Items"]),
        len(logged_events(cloud)),
    )

    answer = manage(cloud, action, order_id)

    assert (answer["status"], answer["error"]) == ("FAILED", error)
    cloud.settle()
    assert len(cloud.table("shop-data-orders").scan()["Items"]) == orders_before
    assert len(logged_events(cloud)) == events_before


def test_an_unknown_action_from_the_orders_customer_places_the_drink_as_the_spec_says(cloud):
    order_id = new_id("unknown-action")
    park(cloud, order_id)

    answer = cloud.order_manager(as_customer("customer-1", order_id, LATTE, action="rm -rf /"))

    assert answer["status"] == "SUCCEEDED"
    item = eventually(
        lambda: (order(cloud, order_id) or {}).get("orderNumber") and order(cloud, order_id), "numbered"
    )
    assert json.loads(item["drinkOrder"]) == {**LATTE, "userId": "customer-1"}


def test_a_customer_cannot_claim_another_users_order_by_naming_them_in_the_body(cloud):
    order_id = new_id("own-order")
    park(cloud, order_id, "customer-2")

    answer = cloud.order_manager(as_customer("customer-2", order_id, {**LATTE, "userId": "mallory"}))

    assert answer["status"] == "SUCCEEDED"
    item = eventually(
        lambda: (order(cloud, order_id) or {}).get("orderNumber") and order(cloud, order_id), "numbered"
    )
    assert json.loads(item["drinkOrder"])["userId"] == "customer-2"  # the caller, not the body (D14)


# ======================================================= 3. forged events on the bus


def test_a_forged_workflow_started_for_an_unknown_order_creates_no_order(cloud):
    order_id = new_id("forged-start")
    dead_before = dead_letters(cloud)

    cloud.put_event(
        "OrderProcessor.WorkflowStarted",
        {"orderId": order_id, "userId": "mallory", "TaskToken": "forged", "executionId": FORGED_RUN},
    )

    assert kinds(cloud, order_id) == ["OrderProcessor.WorkflowStarted"]
    assert order(cloud, order_id) is None
    assert new_dead_letters(cloud, dead_before) == {}  # well formed, only not backed by a run: a no-op


def test_a_forged_workflow_started_naming_a_real_run_of_another_order_creates_no_order(cloud):
    real = to_barista(cloud, new_id("real"))
    order_id = new_id("forged-start")

    cloud.put_event(
        "OrderProcessor.WorkflowStarted",
        {
            "orderId": order_id,
            "userId": "customer-1",
            "TaskToken": real["TaskToken"],
            "executionId": real["executionId"],
        },
    )

    cloud.settle()
    assert order(cloud, order_id) is None
    assert settled_item(cloud, real["SK"]) == real


def test_a_forged_workflow_started_for_a_placed_order_leaves_it_as_it_is(cloud):
    item = to_barista(cloud, new_id("placed"))

    cloud.put_event(
        "OrderProcessor.WorkflowStarted",
        {"orderId": item["SK"], "userId": "mallory", "TaskToken": "forged", "executionId": FORGED_RUN},
    )

    assert settled_item(cloud, item["SK"]) == item


@pytest.mark.parametrize(
    "forgery",
    [
        pytest.param({"executionId": FORGED_RUN}, id="another-run"),
        pytest.param({"TaskToken": "forged", "orderNumber": "999999"}, id="the-real-run-renumbered"),
        pytest.param({"userId": "mallory"}, id="another-customer"),
    ],
)
def test_a_forged_waiting_completion_changes_nothing_and_announces_nothing(cloud, forgery):
    item = to_barista(cloud, new_id("numbered"))
    sales_before = sales(cloud)
    detail = {
        "orderId": item["SK"],
        "userId": item["USERID"],
        "TaskToken": item["TaskToken"],
        "orderNumber": item["orderNumber"],
        "executionId": item["executionId"],
        **forgery,
    }

    cloud.put_event("OrderProcessor.WaitingCompletion", detail)

    assert settled_item(cloud, item["SK"]) == item
    assert kinds(cloud, item["SK"]).count("OrderManager.WaitingCompletion") == 1
    assert sales(cloud) == sales_before


def test_a_timeout_forged_for_another_run_leaves_the_order_open(cloud):
    item = park(cloud, new_id("open"))
    dead_before = dead_letters(cloud)

    cloud.put_event(
        "OrderProcessor.OrderTimeOut",
        {
            "orderId": item["SK"],
            "userId": item["USERID"],
            "executionId": FORGED_RUN,
            "cause": "Customer timedout",
        },
    )

    assert settled_item(cloud, item["SK"]) == item
    assert new_dead_letters(cloud, dead_before) == {}


@pytest.mark.parametrize(
    "forgery",
    [
        pytest.param({"cause": "Hacked"}, id="unknown-cause"),
        pytest.param({"cause": None}, id="no-cause"),
        pytest.param({"cause": "Customer timedout", "executionId": None}, id="no-run"),
    ],
)
def test_a_malformed_timeout_leaves_the_order_open_and_is_kept_for_an_operator(cloud, forgery):
    item = park(cloud, new_id("open"))
    dead_before = dead_letters(cloud)
    detail = {"orderId": item["SK"], "userId": item["USERID"], "executionId": item["executionId"], **forgery}

    cloud.put_event("OrderProcessor.OrderTimeOut", detail)

    assert settled_item(cloud, item["SK"]) == item
    # Refused after Lambda's retries, it waits in the function's dead-letter queue (its alarm fires).
    assert new_dead_letters(cloud, dead_before) == {dead_letter_queue_of(cloud, "order-timed-out"): 1}


def test_an_event_from_another_source_starts_nothing(cloud):
    order_id = new_id("other-source")

    cloud.client("events").put_events(
        Entries=[
            {
                "EventBusName": cloud.outputs["eventBusName"],
                "Source": "com.example.attacker",
                "DetailType": "Validator.NewOrder",
                "Detail": json.dumps({"orderId": order_id, "userId": "mallory"}),
            }
        ]
    )

    cloud.settle()
    assert runs_of_order(cloud, order_id) == []
    assert order(cloud, order_id) is None


# ======================================================= 4. duplicates and redeliveries


@pytest.mark.parametrize(
    ("stage", "second_user"),
    [
        pytest.param("parked", "customer-1", id="while-parked-same-user"),
        pytest.param("placed", "customer-1", id="after-the-drink-same-user"),
        pytest.param("placed", "mallory", id="after-the-drink-another-user"),
        pytest.param("completed", "mallory", id="after-completion-another-user"),
    ],
)
def test_a_repeated_new_order_ends_at_once_and_leaves_the_order_as_it_was(cloud, stage, second_user):
    order_id = new_id("repeat")
    item = park(cloud, order_id) if stage == "parked" else to_barista(cloud, order_id)
    if stage == "completed":
        assert manage(cloud, "complete", order_id)["status"] == "SUCCEEDED"
    before, events_before, sales_before = settled_item(cloud, order_id), kinds(cloud, order_id), sales(cloud)

    new_order(cloud, order_id, second_user)

    (second,) = ended(cloud, lambda: runs_of_order(cloud, order_id)[1:])
    first = runs_of_order(cloud, order_id)[0]
    assert second["status"] == "SUCCEEDED" and visited(cloud, second)[-1] == "Duplicate order"
    assert settled_item(cloud, order_id) == before
    assert kinds(cloud, order_id) == [*events_before, "Validator.NewOrder"]
    assert sales(cloud) == sales_before
    assert first["executionArn"] == item["executionId"]


def test_redelivered_processor_events_change_nothing_and_count_nothing_twice(cloud):
    order_id = new_id("redelivered")
    to_barista(cloud, order_id)
    cloud.settle()
    before, sales_before, dead_before = order(cloud, order_id), sales(cloud), dead_letters(cloud)
    logged = {e["detail-type"]: e["detail"] for e in logged_events(cloud, order_id)}

    for kind in (
        "OrderProcessor.WorkflowStarted",
        "OrderProcessor.WaitingCompletion",
        "OrderManager.WaitingCompletion",
    ):
        cloud.put_event(kind, logged[kind])

    assert settled_item(cloud, order_id) == before
    assert sales(cloud) == sales_before
    assert (
        kinds(cloud, order_id).count("OrderManager.WaitingCompletion") == 2
    )  # the redelivery, not a new sale
    assert new_dead_letters(cloud, dead_before) == {}


def test_a_redelivered_timeout_cannot_cancel_a_completed_order(cloud):
    item = to_barista(cloud, new_id("completed"))
    assert manage(cloud, "complete", item["SK"])["status"] == "SUCCEEDED"
    completed = settled_item(cloud, item["SK"])

    cloud.put_event(
        "OrderProcessor.OrderTimeOut",
        {
            "orderId": item["SK"],
            "userId": item["USERID"],
            "executionId": item["executionId"],
            "cause": "Barista timedout",
        },
    )

    assert settled_item(cloud, item["SK"]) == completed


def test_a_redelivered_completion_event_changes_nothing(cloud):
    item = to_barista(cloud, new_id("done"))
    assert manage(cloud, "complete", item["SK"])["status"] == "SUCCEEDED"
    cloud.settle()
    completed = order(cloud, item["SK"])
    (event,) = [
        e for e in logged_events(cloud, item["SK"]) if e["detail-type"] == "OrderManager.OrderCompleted"
    ]

    cloud.put_event("OrderManager.OrderCompleted", event["detail"])

    assert settled_item(cloud, item["SK"]) == completed


@pytest.mark.parametrize(
    ("first", "again", "error"),
    [
        pytest.param("complete", "complete", "OrderNotFound", id="complete-twice"),
        pytest.param("cancel", "complete", "OrderNotFound", id="complete-after-cancel"),
        pytest.param("complete", "make", "OrderNotFound", id="make-after-complete"),
    ],
)
def test_a_repeated_barista_action_is_refused_and_emits_nothing(cloud, first, again, error):
    item = to_barista(cloud, new_id("again"))
    assert manage(cloud, first, item["SK"])["status"] == "SUCCEEDED"
    before, events_before = settled_item(cloud, item["SK"]), kinds(cloud, item["SK"])

    answer = manage(cloud, again, item["SK"])

    assert (answer["status"], answer["error"]) == ("FAILED", error)
    assert settled_item(cloud, item["SK"]) == before
    assert kinds(cloud, item["SK"]) == events_before


def test_a_second_drink_for_a_placed_order_is_refused(cloud):
    item = to_barista(cloud, new_id("second-drink"))
    sales_before = sales(cloud)

    answer = place(cloud, item["SK"], drink=LATTE)

    assert (answer["status"], answer["error"]) == ("FAILED", "OrderNotAccepted")
    assert settled_item(cloud, item["SK"]) == item
    assert sales(cloud) == sales_before


# ======================================================= 5. races


def race(*calls: Callable[[], dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs the calls at the same moment, each on its own thread; their answers in call order."""
    start = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def run(position: int, call: Callable[[], dict[str, Any]]) -> None:
        start.wait()
        answers[position] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


@pytest.mark.parametrize("round_", range(4))
def test_complete_and_cancel_at_once_have_exactly_one_winner_and_one_terminal_event(cloud, round_):
    item = to_barista(cloud, new_id(f"race-{round_}"))

    answers = race(lambda: manage(cloud, "complete", item["SK"]), lambda: manage(cloud, "cancel", item["SK"]))

    winners = [a for a in answers if a["status"] == "SUCCEEDED"]
    losers = [a for a in answers if a["status"] == "FAILED"]
    assert len(winners) == 1 and [a["error"] for a in losers] == ["OrderNotFound"]
    state = settled_item(cloud, item["SK"])["ORDERSTATE"]
    assert state == ("COMPLETED" if answers[0] is winners[0] else "CANCELLED")
    (run,) = ended(cloud, lambda: runs_of_order(cloud, item["SK"]))
    assert run["status"] == "SUCCEEDED"
    events = kinds(cloud, item["SK"])
    terminal = [k for k in events if k in ("OrderManager.OrderCompleted", "OrderManager.OrderCancelled")]
    assert len(terminal) == 1 and events.count("OrderProcessor.orderFinished") == 1


@pytest.mark.parametrize("round_", range(3))
def test_drinks_submitted_at_once_have_exactly_one_winner_and_one_sale(cloud, round_):
    order_id = new_id(f"drinks-{round_}")
    park(cloud, order_id)
    sales_before = sales(cloud)
    drinks = (CAPPUCCINO, LATTE, ESPRESSO)

    answers = race(*(lambda d=drink: place(cloud, order_id, drink=d) for drink in drinks))

    (winner,) = [i for i, a in enumerate(answers) if a["status"] == "SUCCEEDED"]
    assert sorted(a["error"] for a in answers if a["status"] == "FAILED") == ["OrderNotAccepted"] * 2
    item = eventually(
        lambda: (order(cloud, order_id) or {}).get("orderNumber") and order(cloud, order_id), "numbered"
    )
    assert json.loads(item["drinkOrder"])["drink"] == drinks[winner]["drink"]
    assert kinds(cloud, order_id).count("OrderManager.WaitingCompletion") == 1
    assert sales(cloud) == sales_before + 1


def test_new_orders_for_one_id_at_once_leave_exactly_one_run_holding_it(cloud):
    order_id = new_id("together")

    race(*(lambda: new_order(cloud, order_id) for _ in range(5)))

    found = eventually(
        lambda: (lambda rs: rs if len(rs) == 5 and sum(r["status"] == "RUNNING" for r in rs) == 1 else None)(
            runs_of_order(cloud, order_id)
        ),
        "one run holding the order",
        limit=60,
    )
    (holder,) = [r for r in found if r["status"] == "RUNNING"]
    assert all(visited(cloud, r)[-1] == "Duplicate order" for r in found if r is not holder)
    assert settled_item(cloud, order_id)["executionId"] == holder["executionArn"]
    events = kinds(cloud, order_id)
    assert "OrderProcessor.ShopUnavailable" not in events and "OrderProcessor.OrderTimeOut" not in events


# ======================================================= 6. bursts above capacity


@pytest.fixture
def room_for_three(cloud):
    """The shop's capacity set to the orders running now plus three, restored afterwards."""
    sfn = cloud.client("stepfunctions")
    cloud.settle()
    running = len(
        sfn.list_executions(stateMachineArn=cloud.outputs["orderProcessorArn"], statusFilter="RUNNING")[
            "executions"
        ]
    )
    cloud.deploy({"capacity": running + 3})
    yield
    cloud.deploy({"capacity": LONG_WAITS["capacity"]})


def sorted_burst(cloud: Any, user: str, size: int, rejected: Callable[[int], bool]) -> list[dict[str, Any]]:
    def sorted_out() -> list[dict[str, Any]] | None:
        found = runs_of_user(cloud, user)
        done = sum(r["status"] != "RUNNING" for r in found)
        parked = all(
            order(cloud, json.loads(r["input"])["detail"]["orderId"])
            for r in found
            if r["status"] == "RUNNING"
        )
        return found if len(found) == size and rejected(done) and parked else None

    return eventually(sorted_out, "the burst to be sorted", limit=60)


def assert_turned_away(cloud: Any, run: dict[str, Any]) -> None:
    order_id = json.loads(run["input"])["detail"]["orderId"]
    assert run["status"] == "SUCCEEDED" and visited(cloud, run)[-1] == "Emit - Shop not ready"
    assert order(cloud, order_id) is None
    assert "OrderProcessor.ShopUnavailable" in kinds(cloud, order_id)


def test_a_rush_beyond_capacity_admits_exactly_the_free_slots_and_turns_the_rest_away(cloud, room_for_three):
    user = new_id("rush")

    for _ in range(8):
        new_order(cloud, new_id("rush"), user)
        cloud.settle()

    found = sorted_burst(cloud, user, 8, lambda done: done == 5)
    admitted = [r for r in found if r["status"] == "RUNNING"]
    assert [json.loads(r["input"])["detail"]["orderId"] for r in admitted] == [
        json.loads(r["input"])["detail"]["orderId"] for r in found[:3]
    ]
    for run in found[3:]:
        assert_turned_away(cloud, run)


def test_a_burst_arriving_at_once_never_admits_more_than_capacity(cloud, room_for_three):
    user = new_id("burst")

    race(*(lambda: new_order(cloud, new_id("burst"), user) for _ in range(8)))

    found = sorted_burst(cloud, user, 8, lambda done: done >= 5)
    admitted = [r for r in found if r["status"] == "RUNNING"]
    assert len(admitted) <= 3
    for run in found:
        if run["status"] != "RUNNING":
            assert_turned_away(cloud, run)
