"""Is the customer's drink on the menu, available, and asked for with modifiers the menu offers?

Works on the OrderManager state as the ``lambda:invoke`` task passes it: ``menu.Item`` is the menu item
in DynamoDB-typed JSON (``{PK: "menu", value: [{drink, icon, available, modifiers: [{Name, Options}]}]}``)
and ``body`` is what the customer app sent. Never raises: every bad shape is an invalid order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

SHOWN_CHARS = 60  # values echoed into a reason are cut, so hostile input cannot bloat the error cause
# D13 sizes: orderId is the order table's sort key, body.userId is compared with USERID (a GSI key), and
# the body is stored as the order's drinkOrder text (a real one is about 150 bytes).
MAX_ORDER_ID_BYTES = 1024
MAX_USER_ID_BYTES = 2048
MAX_BODY_BYTES = 4096


@dataclass(frozen=True)
class Verdict:
    valid: bool
    reason: str

    def as_payload(self) -> dict[str, Any]:
        return {"valid": self.valid, "reason": self.reason}


class UnreadableMenu(ValueError):
    pass


def validate_request(state: Any) -> Verdict:
    if not isinstance(state, Mapping):
        return Verdict(False, "the request is not a JSON object")
    problem = size_problem(state)
    if problem is not None:
        return Verdict(False, problem)
    try:
        menu = menu_entries(state.get("menu"))
    except UnreadableMenu as problem:
        return Verdict(False, f"the menu cannot be read: {problem}")
    return check_order(menu, state.get("body"))


def utf8_size(text: str) -> int | None:
    """Bytes of ``text`` in UTF-8; None when it cannot be stored (a lone surrogate)."""
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return None


def size_problem(state: Mapping[str, Any]) -> str | None:
    """What about the request is too big (or not text) for the order table, if anything."""
    order_id = state.get("orderId")
    if not isinstance(order_id, str) or not order_id:
        return "the order id must be a non-empty string"
    size = utf8_size(order_id)
    if size is None or size > MAX_ORDER_ID_BYTES:
        return f"the order id must be valid text of at most {MAX_ORDER_ID_BYTES} bytes"
    body = state.get("body")
    if not isinstance(body, Mapping):
        return None  # check_order names the problem
    user_id = body.get("userId")
    if isinstance(user_id, str):
        size = utf8_size(user_id)
        if size is None or size > MAX_USER_ID_BYTES:
            return f"body.userId must be valid text of at most {MAX_USER_ID_BYTES} bytes"
    try:
        size = len(json.dumps(body, ensure_ascii=False).encode("utf-8"))
    except (TypeError, ValueError, UnicodeEncodeError):
        return "the order body cannot be stored as text"
    if size > MAX_BODY_BYTES:
        return f"the order body is {size} bytes; at most {MAX_BODY_BYTES} are accepted"
    return None


def menu_entries(menu_result: Any) -> list[Mapping[str, Any]]:
    """The entries of the menu item from a DynamoDB GetItem result (``{"Item": {...typed...}}``)."""
    if not isinstance(menu_result, Mapping) or not isinstance(menu_result.get("Item"), Mapping):
        raise UnreadableMenu("there is no menu item")
    deserializer = TypeDeserializer()
    try:
        item = {name: deserializer.deserialize(value) for name, value in menu_result["Item"].items()}
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, ArithmeticError, RecursionError):
        raise UnreadableMenu("the menu item is not valid DynamoDB JSON") from None
    entries = item.get("value")
    if not isinstance(entries, list):
        raise UnreadableMenu("the menu item has no list of drinks")
    return [entry for entry in entries if isinstance(entry, Mapping)]


def check_order(menu: list[Mapping[str, Any]], body: Any) -> Verdict:
    if not isinstance(body, Mapping):
        return Verdict(False, "the order body is not a JSON object")
    user_id = body.get("userId")
    if not isinstance(user_id, str) or not user_id:
        # The workflow's conditional write compares it with the order's owner: it must be there.
        return Verdict(False, "the order names no customer (body.userId)")
    drink = body.get("drink")
    if not isinstance(drink, str) or not drink:
        return Verdict(False, "the order names no drink")
    modifiers = body.get("modifiers", [])
    if not isinstance(modifiers, list):
        return Verdict(False, "modifiers must be a list")

    entry = next((entry for entry in menu if entry.get("drink") == drink), None)
    if entry is None:
        return Verdict(False, f"{shown(drink)} is not on the menu")
    if entry.get("available") is not True:
        return Verdict(False, f"{shown(drink)} is not available right now")

    offered = offered_options(entry)
    for modifier in modifiers:
        if not isinstance(modifier, str) or modifier not in offered:
            return Verdict(False, f"{shown(modifier)} is not an option for {shown(drink)}")
    return Verdict(True, f"{shown(drink)} is on the menu")


def offered_options(entry: Mapping[str, Any]) -> set[str]:
    groups = entry.get("modifiers")
    if not isinstance(groups, list):
        return set()
    return {
        option
        for group in groups
        if isinstance(group, Mapping) and isinstance(group.get("Options"), list)
        for option in group["Options"]
        if isinstance(option, str)
    }


def shown(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return repr(text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…")
