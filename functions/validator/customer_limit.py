"""How many orders one customer may have open at once (the config item's `maxOrdersPerUser`), enforced at
the scan (pure rules).

A customer's open orders are claims in one counting-table item, `PK = "open#<sub>"`: a string set of
``<orderId>|<scanned at, ms>``. A scan adds its claim in the same transaction that takes the QR token, on
condition the set holds fewer than the limit, so two scans at once cannot both pass and a refused scan
takes no token. Before that, claims that no longer hold an order open are removed (idempotent): the order
is no longer `CREATED`, or it was never stored and its run has certainly ended (shop closed, no capacity,
duplicate) because the customer's wait has passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_LIMIT = 1  # the config item's seed value
OPEN_STATE = "CREATED"


@dataclass(frozen=True)
class Claim:
    order_id: str
    scanned_ms: int

    @property
    def entry(self) -> str:
        return f"{self.order_id}|{self.scanned_ms}"

    @classmethod
    def parse(cls, entry: str) -> Claim | None:
        order_id, _, scanned = entry.rpartition("|")
        return cls(order_id, int(scanned)) if order_id and scanned.isdigit() else None


def claims_key(user_id: str) -> str:
    return f"open#{user_id}"


def limit_of(config_item: Mapping[str, Any] | None) -> int:
    """`maxOrdersPerUser` of the config item; the seed's 1 when it is missing or not a whole number ≥ 1."""
    value = (config_item or {}).get("maxOrdersPerUser")
    try:
        limit = int(value)
    except (TypeError, ValueError):
        return DEFAULT_LIMIT
    return limit if limit >= 1 and limit == value else DEFAULT_LIMIT


def stale(
    entries: Iterable[str], orders: Mapping[str, Mapping[str, Any]], now_ms: int, grace_ms: int
) -> list[str]:
    """The claims that hold nothing open: the order ended, or it was never stored within `grace_ms`."""
    gone = []
    for entry in entries:
        claim = Claim.parse(entry)
        if claim is None:
            gone.append(entry)
            continue
        order = orders.get(claim.order_id)
        if order is None:
            if now_ms - claim.scanned_ms > grace_ms:
                gone.append(entry)
        elif order.get("ORDERSTATE") != OPEN_STATE:
            gone.append(entry)
    return gone


def refusal(limit: int) -> str:
    orders = "order" if limit == 1 else "orders"
    return f"You already have {limit} open {orders}: collect or cancel one before ordering again"
