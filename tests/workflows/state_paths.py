"""The states one outcome of a workflow passes, read from its definition (pure: no AWS).

A STANDARD execution is billed one state transition for every state it enters, Choice, Pass, Succeed and
Fail included, so the length of a path is what the outcome costs. :func:`path` walks a definition from
``StartAt``: a Task or Pass goes to its ``Next``, a Choice to its ``Default``, unless ``exits`` names the
way the outcome leaves that state: a Choice rule's target, or an error one of its ``Catch`` handlers takes.
The walk stops at ``End``, ``Succeed`` or ``Fail``. Whatever does not match the definition is an error,
so an outcome table cannot go stale silently when a state is renamed or removed.

Retries are not on a path: each retry of a task is one more billed transition, on top of these.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

TERMINAL_TYPES = frozenset({"Succeed", "Fail"})
WALKED_TYPES = frozenset({"Task", "Pass", "Choice", "Wait", "Succeed", "Fail"})
PRICE_PER_1000_TRANSITIONS_USD = 0.025
ORDER_PROCESSOR_FILE = Path(__file__).resolve().parents[2] / "asl" / "order_processor.asl.json"


class PathError(ValueError):
    """The outcome does not describe a path of the definition."""


def _rule_targets(state: Mapping[str, Any]) -> set[str]:
    return {rule["Next"] for rule in state.get("Choices", [])}


def _leave(name: str, state: Mapping[str, Any], exit_: str) -> str:
    """The state that ``exit_`` (a Choice rule's target or a caught error) leads to from ``name``."""
    for catcher in state.get("Catch", []):
        if exit_ in catcher["ErrorEquals"]:
            return catcher["Next"]
    if state["Type"] == "Choice" and exit_ in _rule_targets(state) | {state.get("Default")}:
        return exit_
    raise PathError(f"{name!r} cannot be left through {exit_!r}")


def path(definition: Mapping[str, Any], exits: Mapping[str, str] | None = None) -> list[str]:
    """The names of the states an execution enters, in order, when it leaves each state in ``exits``
    the way given there and every other state the ordinary way."""
    exits = dict(exits or {})
    states = definition["States"]
    unknown = set(exits) - set(states)
    if unknown:
        raise PathError(f"no such states: {', '.join(sorted(unknown))}")
    entered: list[str] = []
    name = definition["StartAt"]
    while True:
        if name in entered:
            raise PathError(f"the path loops back to {name!r}")
        state = states[name]
        if state["Type"] not in WALKED_TYPES:
            raise PathError(f"{name!r} is a {state['Type']}: its branches are not walked")
        entered.append(name)
        if name in exits:
            name = _leave(name, state, exits.pop(name))
        elif state["Type"] in TERMINAL_TYPES or state.get("End"):
            break
        elif state["Type"] == "Choice":
            if "Default" not in state:
                raise PathError(f"{name!r} has no Default: the outcome must say which rule matches")
            name = state["Default"]
        else:
            name = state["Next"]
    if exits:
        raise PathError(f"the path never reaches {', '.join(sorted(exits))}")
    return entered


def transitions(definition: Mapping[str, Any], exits: Mapping[str, str] | None = None) -> int:
    """Billed STANDARD state transitions of one execution of that outcome (retries not counted)."""
    return len(path(definition, exits))


def standard_cost_usd(transitions_per_run: int, runs: int) -> float:
    """What ``runs`` executions of ``transitions_per_run`` transitions each cost at the list price."""
    return transitions_per_run * runs * PRICE_PER_1000_TRANSITIONS_USD / 1000


# How each outcome of an order leaves the OrderProcessor (asl/order_processor.asl.json); every state not
# named here is left the ordinary way. Completing and cancelling resume the barista wait the same way (a
# cancel before the drink resumes the customer wait, and WaitingCompletion then ends the barista wait).
ORDER_PROCESSOR_OUTCOMES: dict[str, dict[str, str]] = {
    "completed": {},
    "cancelled": {},
    "customer timeout": {"Emit - Workflow Started TT": "States.Timeout"},
    "barista timeout": {"Emit - Awaiting Completion TT": "States.Timeout"},
    "shop closed": {"Is the order new and the shop open?": "Emit - Shop not ready"},
    "no capacity": {"Is capacity available?": "Emit - Shop not ready"},
    "duplicate NewOrder": {"Is the order new and the shop open?": "Duplicate order"},
    "duplicate started at the same time": {"Emit - Workflow Started TT": "DuplicateOrder"},
    "cancelled before the drink (end of day)": {"Emit - Workflow Started TT": "OrderCancelled"},
    "not an order": {"Is it a valid order?": "Not a valid order"},
}


def order_processor_path(outcome: str, *, console: bool = False) -> list[str]:
    """The states an OrderProcessor run of ``outcome`` (a key of ORDER_PROCESSOR_OUTCOMES) enters: for the
    Validator's event, or (`console`) for the console's test input, which names no trading day."""
    definition = json.loads(ORDER_PROCESSOR_FILE.read_text())
    choices = dict(ORDER_PROCESSOR_OUTCOMES[outcome])
    if console:
        choices.setdefault("Is it a valid order?", "Trading day in UTC")
    return path(definition, choices)
