"""EventsLoadTest: put N synthetic `OrderManager.WaitingCompletion` orders on the bus (manual invoke).

Payload (all optional, other keys ignored): ``{"count": 500, "firstOrderId": 1000, "seed": 42}``.
Returns ``{"sent", "calls", "perDrink"}``; raises when the payload is bad or any event stays rejected.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from load_events import (
    DeliveryFailed,
    deliver,
    order_details,
    parse_request,
    per_drink,
    put_events_entries,
)
from shop_common import required_env

EVENT_BUS_NAME = required_env("EVENT_BUS_NAME")
EVENT_SOURCE = required_env("EVENT_SOURCE")
events = boto3.client("events")
logger = Logger()


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    request = parse_request(event)
    details = order_details(request, now_ms=int(time.time() * 1000))
    entries = put_events_entries(details, EVENT_BUS_NAME, EVENT_SOURCE)
    report = deliver(entries, lambda batch: events.put_events(Entries=batch))
    if report.failed:
        logger.error("Events rejected by EventBridge", extra={"failed": report.failed})
        raise DeliveryFailed(
            f"{len(report.failed)} of {len(entries)} events were rejected after retries "
            f"({report.sent} sent in {report.calls} calls): {report.failed}"
        )
    summary = {"sent": report.sent, "calls": report.calls, "perDrink": per_drink(details)}
    logger.info("Load test sent", extra=summary)
    return summary
