"""What the Producer API accepts: a location, a category and a numeric value, each checked where it enters.

A refused request is answered 400 with the reason and nothing is published (SYSTEM §9, D13).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ORDER_NOTIFICATION = "Order Notification"
MAX_LOCATION_CHARS = 64
MAX_CATEGORY_CHARS = 128
# A plain non-negative decimal ("300", "12.50"): no sign, exponent, NaN or infinity, at most 15 digits.
NUMBER = re.compile(r"(?P<whole>\d{1,15})(\.(?P<fraction>\d{1,15}))?")
MAX_DIGITS = 15


class InvalidOrder(ValueError):
    """The request cannot become an order; the message says which parameter and why."""


@dataclass(frozen=True)
class OrderRequest:
    location: str
    category: str
    value: int | float

    def detail(self) -> dict[str, Any]:
        return {"category": self.category, "location": self.location, "value": self.value}


def _text(query: Mapping[str, str], name: str, max_chars: int) -> str:
    value = query.get(name)
    if value is None or value == "":
        raise InvalidOrder(f"query parameter {name!r} is required")
    if len(value) > max_chars or value.strip() != value or not value.isprintable():
        raise InvalidOrder(
            f"{name} must be printable text of at most {max_chars} characters, without padding"
        )
    return value


def _number(query: Mapping[str, str]) -> int | float:
    text = query.get("value")
    if text is None or text == "":
        raise InvalidOrder("query parameter 'value' is required")
    match = NUMBER.fullmatch(text)
    if match is None or len(match["whole"]) + len(match["fraction"] or "") > MAX_DIGITS:
        raise InvalidOrder(f"value must be a non-negative number such as 300 or 12.50, got {text[:20]!r}")
    return float(text) if match["fraction"] else int(text)


def parse_order(query: Mapping[str, str] | None) -> OrderRequest:
    """The order a request asks for; `InvalidOrder` naming the first parameter that is missing or wrong."""
    query = query or {}
    return OrderRequest(
        location=_text(query, "location", MAX_LOCATION_CHARS),
        category=_text(query, "category", MAX_CATEGORY_CHARS),
        value=_number(query),
    )
