"""From an `Order Processed` event to the stored order and its `Order Dispatched` announcement (pure).

The order id is a UUID derived from the event's id: a redelivered event names the same order, so the
order is stored once and announced with the same id (SYSTEM §9, D12).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shop_common import MalformedEvent, event_detail, text_field

ORDER_PROCESSED = "Order Processed"
ORDER_DISPATCHED = "Order Dispatched"
MAX_TEXT_BYTES = 512
# Any fixed namespace works; this one keeps order ids apart from other uuid5 users.
ORDER_ID_NAMESPACE = uuid.UUID("6f1c1b8e-2f5e-4a53-9d8c-3a7e0f0c9b11")


@dataclass(frozen=True)
class Order:
    order_id: str
    category: str
    location: str
    value: Decimal

    def item(self) -> dict[str, Any]:
        """The OrderDetails item."""
        return {
            "orderId": self.order_id,
            "category": self.category,
            "location": self.location,
            "value": self.value,
        }

    def detail(self) -> dict[str, Any]:
        """The `Order Dispatched` detail: the item, with the value as a JSON number."""
        number = int(self.value) if self.value == self.value.to_integral_value() else float(self.value)
        return {
            "orderId": self.order_id,
            "category": self.category,
            "location": self.location,
            "value": number,
        }


def order_id_for(event_id: str) -> str:
    return str(uuid.uuid5(ORDER_ID_NAMESPACE, event_id))


def _value(details: Mapping[str, Any]) -> Decimal:
    value = details.get("value")
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise MalformedEvent("detail.OrderDetails.value must be a non-negative number")
    return Decimal(str(value))


def parse_processed_order(event: Any) -> Order:
    """The order an `Order Processed` event carries; `MalformedEvent` (nothing to write) if it has none."""
    detail = event_detail(event, ORDER_PROCESSED)
    details = detail.get("OrderDetails")
    if not isinstance(details, Mapping):
        raise MalformedEvent("detail.OrderDetails must be a JSON object")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise MalformedEvent("the event has no id")
    return Order(
        order_id=order_id_for(event_id),
        category=text_field(details, "category", MAX_TEXT_BYTES),
        location=text_field(details, "location", MAX_TEXT_BYTES),
        value=_value(details),
    )
