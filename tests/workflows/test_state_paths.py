"""What each order outcome costs the STANDARD OrderProcessor, read from its definition: the walk, and the
budget of billed state transitions per outcome (tests/workflows/test_order_processor.py checks that real
runs in moto enter exactly these states)."""

from __future__ import annotations

import itertools
import json

import pytest

from tests.workflows.state_paths import (
    ORDER_PROCESSOR_FILE,
    ORDER_PROCESSOR_OUTCOMES,
    PathError,
    order_processor_path,
    path,
    standard_cost_usd,
    transitions,
)

TOY = {
    "StartAt": "Read",
    "States": {
        "Read": {
            "Type": "Task",
            "Catch": [{"ErrorEquals": ["Boom"], "Next": "Broken"}],
            "Next": "Open?",
        },
        "Open?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.open", "BooleanEquals": False, "Next": "Closed"}],
            "Default": "Serve",
        },
        "Serve": {"Type": "Task", "End": True},
        "Closed": {"Type": "Pass", "Next": "Done"},
        "Done": {"Type": "Succeed"},
        "Broken": {"Type": "Fail"},
    },
}


def test_the_ordinary_way_follows_next_and_choice_defaults_to_the_end() -> None:
    assert path(TOY) == ["Read", "Open?", "Serve"]


def test_a_choice_rule_and_a_caught_error_are_exits_the_outcome_names() -> None:
    assert path(TOY, {"Open?": "Closed"}) == ["Read", "Open?", "Closed", "Done"]
    assert path(TOY, {"Read": "Boom"}) == ["Read", "Broken"]


def test_every_state_entered_is_one_transition_choice_pass_succeed_and_fail_included() -> None:
    assert transitions(TOY, {"Open?": "Closed"}) == 4
    assert transitions(TOY, {"Read": "Boom"}) == 2


@pytest.mark.parametrize(
    "exits",
    [
        pytest.param({"Open?": "Broken"}, id="not-a-target-of-that-choice"),
        pytest.param({"Read": "Other"}, id="error-nobody-catches"),
        pytest.param({"Gone": "Serve"}, id="no-such-state"),
        pytest.param({"Read": "Boom", "Open?": "Closed"}, id="exit-off-the-path"),
    ],
)
def test_an_outcome_that_is_not_a_path_of_the_definition_is_refused(exits: dict) -> None:
    with pytest.raises(PathError):
        path(TOY, exits)


def test_a_choice_without_default_needs_the_outcome_to_say_which_rule_matches() -> None:
    definition = {"StartAt": "Open?", "States": {**TOY["States"], "Open?": {**TOY["States"]["Open?"]}}}
    del definition["States"]["Open?"]["Default"]

    with pytest.raises(PathError, match="Default"):
        path(definition)
    assert path(definition, {"Open?": "Closed"}) == ["Open?", "Closed", "Done"]


def test_a_loop_is_refused_rather_than_counted_forever() -> None:
    definition = {
        "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}},
    }

    with pytest.raises(PathError, match="loops"):
        path(definition)


# Billed transitions of one OrderProcessor run per outcome (a completed order cost 12 before the cost review:
# one Choice per read, a Pass to set each timeout's cause, a no-op join before orderFinished).
TRANSITION_BUDGET = {
    "completed": 10,
    "cancelled": 10,
    "customer timeout": 8,
    "barista timeout": 10,
    "shop closed": 5,
    "no capacity": 7,
    "duplicate NewOrder": 5,
    "duplicate started at the same time": 8,
    "cancelled before the drink (end of day)": 8,
    "not an order": 2,
}


def test_the_budget_names_every_outcome() -> None:
    assert set(TRANSITION_BUDGET) == set(ORDER_PROCESSOR_OUTCOMES)


@pytest.mark.parametrize(("outcome", "budget"), TRANSITION_BUDGET.items())
def test_each_order_outcome_costs_exactly_its_budget_of_transitions(outcome: str, budget: int) -> None:
    assert len(order_processor_path(outcome)) == budget


def test_no_order_path_passes_a_pass_state_or_two_choices_in_a_row() -> None:
    states = json.loads(ORDER_PROCESSOR_FILE.read_text())["States"]
    for outcome in ORDER_PROCESSOR_OUTCOMES:
        kinds = [states[name]["Type"] for name in order_processor_path(outcome)]
        assert "Pass" not in kinds, outcome
        assert ("Choice", "Choice") not in itertools.pairwise(kinds), outcome


def test_a_thousand_completed_orders_cost_a_quarter_dollar_of_standard_transitions() -> None:
    assert standard_cost_usd(len(order_processor_path("completed")), 1000) == pytest.approx(0.25)
