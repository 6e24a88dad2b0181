"""Counting rules of the metrics consumer: which event is a sale, for which day, under which keys.

Pure functions only; the handler and the ledger do the AWS calls.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SALE_DETAIL_TYPE = "OrderManager.WaitingCompletion"

AGGREGATE_PK = "Aggregate"
TOTAL_SALES = "TotalSales"
SALE_MARKER_PK = "Sale"
MAX_RUN_ID_BYTES = 2048

# CloudWatch identity of the counts. EMF keeps dimension values and metric values as members of one JSON
# object, so a metric cannot share its name with its own dimension (`Drink` / `Drink=...`).
METRIC_NAME = "DrinkOrders"
DRINK_DIMENSION = "Drink"
TOTAL_ORDERS = "Total Orders"

SINK_DYNAMODB = "dynamodb"
SINK_CLOUDWATCH = "cloudwatch"
KNOWN_SINKS = frozenset({SINK_DYNAMODB, SINK_CLOUDWATCH})

MAX_DRINK_BYTES = 256  # keeps "<day>#<drink>" far below the 1 KB sort-key limit
# A drink with one of these names would land on the total's key or the total's dimension value.
RESERVED_DRINK_NAMES = frozenset({TOTAL_SALES, TOTAL_ORDERS})


class MalformedEvent(ValueError):
    """The message is not an EventBridge event at all (not JSON, no id, no readable time)."""


@dataclass(frozen=True)
class Sale:
    """One drink sold, attributed to the UTC day of the event.

    ``sale_id`` is what makes it one sale: the OrderProcessor run that took the order (``executionId``), so
    a repeated announcement of the order is still one sale; an event without a run (the load test's
    synthetic sales) is a sale of its own, by event id, so an SQS redelivery is still one sale.
    """

    sale_id: str
    event_id: str
    day: str
    drink: str


@dataclass(frozen=True)
class NotASale:
    """A well-formed event that carries nothing to count; it is acknowledged, never retried."""

    event_id: str
    reason: str


def parse_sinks(text: str) -> frozenset[str]:
    """``"dynamodb,cloudwatch"`` → the set of sinks; at least one, only known names."""
    sinks = frozenset(part.strip().lower() for part in text.split(",") if part.strip())
    unknown = sinks - KNOWN_SINKS
    if unknown or not sinks:
        raise ValueError(
            f"METRICS_SINKS={text!r}: expected a comma list of at least one of {sorted(KNOWN_SINKS)}"
            + (f", unknown {sorted(unknown)}" if unknown else "")
        )
    return sinks


def parse_body(body: str) -> dict[str, Any]:
    """The SQS message body as an EventBridge event object."""
    try:
        event = json.loads(body)
    except (TypeError, json.JSONDecodeError) as error:
        raise MalformedEvent(f"message body is not JSON: {error}") from error
    if not isinstance(event, dict):
        raise MalformedEvent(f"message body is JSON {type(event).__name__}, not an event object")
    return event


def utc_day(event_time: Any) -> str:
    """``YYYY-MM-DD`` of an EventBridge ``time`` (ISO 8601, usually ``...Z``), in UTC."""
    if not isinstance(event_time, str):
        raise MalformedEvent(f"event time {event_time!r} is not a timestamp string")
    try:
        moment = datetime.fromisoformat(event_time)
    except ValueError as error:
        raise MalformedEvent(f"event time {event_time!r} is not ISO 8601") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date().isoformat()


def drink_of(detail: Any) -> str | None:
    """``detail.drinkOrder.drink`` when it names a countable drink, else None.

    ``drinkOrder`` is accepted as an object or as its JSON text (the order table stores it as text).
    """
    if not isinstance(detail, Mapping):
        return None
    drink_order = detail.get("drinkOrder")
    if isinstance(drink_order, str):
        try:
            drink_order = json.loads(drink_order)
        except json.JSONDecodeError:
            return None
    if not isinstance(drink_order, Mapping):
        return None
    drink = drink_order.get("drink")
    if not isinstance(drink, str):
        return None
    drink = drink.strip()
    if not drink or len(drink.encode()) > MAX_DRINK_BYTES or drink in RESERVED_DRINK_NAMES:
        return None
    return drink


def sale_id_of(event_id: str, detail: Any) -> str:
    run = detail.get("executionId") if isinstance(detail, Mapping) else None
    if isinstance(run, str) and run:
        try:
            if len(run.encode("utf-8")) <= MAX_RUN_ID_BYTES:
                return f"run#{run}"
        except UnicodeEncodeError:
            pass
    return f"event#{event_id}"


def read_sale(event: Mapping[str, Any]) -> Sale | NotASale:
    """Classify one EventBridge event. Raises MalformedEvent when it cannot be an event at all."""
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise MalformedEvent("event has no id, so it cannot be counted exactly once")
    day = utc_day(event.get("time"))
    if event.get("detail-type") != SALE_DETAIL_TYPE:
        return NotASale(event_id, f"detail-type {event.get('detail-type')!r} is not {SALE_DETAIL_TYPE}")
    drink = drink_of(event.get("detail"))
    if drink is None:
        return NotASale(event_id, "no usable detail.drinkOrder.drink")
    return Sale(sale_id=sale_id_of(event_id, event.get("detail")), event_id=event_id, day=day, drink=drink)


def aggregate_keys(sale: Sale) -> list[dict[str, str]]:
    """The two daily aggregate items a sale increments: the day's total and the day's drink."""
    return [
        {"PK": AGGREGATE_PK, "SK": f"{sale.day}#{TOTAL_SALES}"},
        {"PK": AGGREGATE_PK, "SK": f"{sale.day}#{sale.drink}"},
    ]


def marker_key(sale_id: str) -> dict[str, str]:
    """The item that records that a sale has been counted."""
    return {"PK": SALE_MARKER_PK, "SK": sale_id}


def metric_dimensions(sale: Sale) -> tuple[str, str]:
    """The ``Drink`` values a sale counts 1 for: its drink and the total."""
    return (sale.drink, TOTAL_ORDERS)
