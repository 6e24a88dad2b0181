"""Synthetic `OrderManager.WaitingCompletion` orders for the metrics load test, and their delivery."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DETAIL_TYPE = "OrderManager.WaitingCompletion"
DRINK_ICONS = {
    "Latte": "barista-icons_cafe-latte",
    "Cappuccino": "barista-icons_cappuccino-alternative",
    "Espresso": "barista-icons_espresso-alternative",
}
DEFAULT_COUNT = 500
MAX_COUNT = 10_000
DEFAULT_FIRST_ORDER_ID = 1000
ENTRIES_PER_CALL = 10  # the PutEvents limit
RETRY_DELAYS_SECONDS = (0.2, 1.0)  # bounded retries of failed entries, then fail loudly


class BadRequest(ValueError):
    """The invocation payload asks for something the load test cannot do."""


class DeliveryFailed(RuntimeError):
    """Some events were still rejected by EventBridge after the retries."""


@dataclass(frozen=True)
class LoadTestRequest:
    count: int = DEFAULT_COUNT
    first_order_id: int = DEFAULT_FIRST_ORDER_ID
    seed: int | str | None = None


@dataclass
class DeliveryReport:
    sent: int = 0
    calls: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)


def _whole_number(payload: Mapping[str, Any], key: str, default: int, low: int, high: int | None) -> int:
    value = payload.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{key} must be a whole number, got {value!r}")
    if value < low or (high is not None and value > high):
        allowed = f"{low}..{high}" if high is not None else f">= {low}"
        raise BadRequest(f"{key} must be in {allowed}, got {value}")
    return value


def parse_request(payload: Any) -> LoadTestRequest:
    """Read ``count`` (1..10000), ``firstOrderId`` (>= 0) and ``seed`` (int or string); ignore other keys."""
    if payload is None:
        payload = {}
    if not isinstance(payload, Mapping):
        raise BadRequest(f"payload must be a JSON object, got {type(payload).__name__}")
    seed = payload.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | str)):
        raise BadRequest(f"seed must be a whole number or a string, got {seed!r}")
    return LoadTestRequest(
        count=_whole_number(payload, "count", DEFAULT_COUNT, 1, MAX_COUNT),
        first_order_id=_whole_number(payload, "firstOrderId", DEFAULT_FIRST_ORDER_ID, 0, None),
        seed=seed,
    )


def order_details(request: LoadTestRequest, now_ms: int) -> list[dict[str, Any]]:
    """One event detail per synthetic order, shaped like the WaitingCompletion function's events."""
    chooser = random.Random(request.seed)
    drinks = sorted(DRINK_ICONS)
    details = []
    for position in range(request.count):
        order_id = str(request.first_order_id + position)
        drink = chooser.choice(drinks)
        details.append(
            {
                "orderId": order_id,
                "orderNumber": str(position + 1),
                "state": "CREATED",
                "drinkOrder": {
                    "userId": order_id,
                    "drink": drink,
                    "modifiers": [],
                    "icon": DRINK_ICONS[drink],
                },
                "userId": order_id,
                "robot": False,
                "TS": now_ms,
                "Message": "Synthetic order sent by the events load test",
            }
        )
    return details


def per_drink(details: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    return dict(sorted(Counter(detail["drinkOrder"]["drink"] for detail in details).items()))


def put_events_entries(
    details: Sequence[Mapping[str, Any]], bus_name: str, source: str
) -> list[dict[str, Any]]:
    return [
        {"EventBusName": bus_name, "Source": source, "DetailType": DETAIL_TYPE, "Detail": json.dumps(detail)}
        for detail in details
    ]


def deliver(
    entries: Sequence[dict[str, Any]],
    put_events: Callable[[list[dict[str, Any]]], Mapping[str, Any]],
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryReport:
    """Send ``entries`` ten at a time; resend only the rejected ones, a bounded number of times.

    ``put_events`` takes a list of entries and returns the PutEvents response.
    """
    report = DeliveryReport()
    for start in range(0, len(entries), ENTRIES_PER_CALL):
        pending = list(entries[start : start + ENTRIES_PER_CALL])
        rejected: list[dict[str, Any]] = []
        for delay in (*RETRY_DELAYS_SECONDS, None):
            response = put_events(pending)
            report.calls += 1
            outcomes = list(zip(pending, response.get("Entries", []), strict=True))
            pending = [entry for entry, result in outcomes if result.get("ErrorCode")]
            if response.get("FailedEntryCount", 0) and not pending:
                raise DeliveryFailed(
                    f"PutEvents reported {response['FailedEntryCount']} failures without details"
                )
            rejected = [
                {
                    **_identify(entry),
                    "errorCode": result["ErrorCode"],
                    "errorMessage": result.get("ErrorMessage"),
                }
                for entry, result in outcomes
                if result.get("ErrorCode")
            ]
            report.sent += len(outcomes) - len(pending)
            if not pending or delay is None:
                break
            sleep(delay)
        report.failed.extend(rejected)
    return report


def _identify(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {"orderId": json.loads(entry["Detail"]).get("orderId")}
