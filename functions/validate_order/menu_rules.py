"""Is the customer's drink on the menu, available, and asked for with modifiers the menu offers?

Works on the OrderManager state as the ``lambda:invoke`` task passes it: ``menu.Item`` is the menu item
in DynamoDB-typed JSON (``{PK: "menu", value: [{drink, icon, available, modifiers: [{Name, Options}]}]}``)
and ``body`` is what the customer app sent. Never raises: every bad shape is an invalid order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

SHOWN_CHARS = 60  # values echoed into a reason are cut, so hostile input cannot bloat the error cause


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
    try:
        menu = menu_entries(state.get("menu"))
    except UnreadableMenu as problem:
        return Verdict(False, f"the menu cannot be read: {problem}")
    return check_order(menu, state.get("body"))


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
