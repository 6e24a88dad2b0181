"""ValidateOrder: only drinks on the menu, available, with modifiers the menu offers, pass the menu check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from boto3.dynamodb.types import TypeSerializer

from components.data_stores import MENU
from localcloud.emulator.lambda_runtime import load_handler

FUNCTION_DIR = Path(__file__).resolve().parents[2] / "functions" / "validate_order"
# The pure check, reached through the handler module that imports it (as the Lambda runtime would).
validate_request = load_handler(FUNCTION_DIR, "handler.validate_request")

MILK = {"Name": "Milk", "Options": ["Whole", "Oat"]}
SIZE = {"Name": "Size", "Options": ["Small", "Large"]}


def seed_menu():
    return [{"drink": drink, "icon": icon, "available": True, "modifiers": []} for drink, icon in MENU]


def menu_result(entries):
    """The menu as the OrderManager's ``get menu`` task stores it at ``$.menu``: a typed GetItem result."""
    serializer = TypeSerializer()
    item = {"PK": "menu", "value": entries}
    return {"Item": {name: serializer.serialize(value) for name, value in item.items()}}


def order_state(body=None, entries=None, **overrides):
    state = {
        "action": "",
        "body": {
            "userId": "1",
            "drink": "Cappuccino",
            "modifiers": [],
            "icon": "barista-icons_cappuccino-alternative",
        }
        if body is None
        else body,
        "orderId": "1",
        "baristaUserId": "3",
        "menu": menu_result(seed_menu() if entries is None else entries),
    }
    state.update(overrides)
    return state


def with_drink(drink, modifiers=()):
    return {"userId": "1", "drink": drink, "modifiers": list(modifiers), "icon": "x"}


@pytest.mark.parametrize("drink", [drink for drink, _ in MENU])
def test_every_seed_drink_is_a_valid_order(drink):
    verdict = validate_request(order_state(with_drink(drink)))

    assert verdict.valid is True


def test_milkshake_is_not_on_the_menu():
    verdict = validate_request(order_state(with_drink("milkshake")))

    assert verdict.valid is False
    assert "milkshake" in verdict.reason
    assert "not on the menu" in verdict.reason


@pytest.mark.parametrize(
    "drink",
    [
        pytest.param("cappuccino", id="other-case"),
        pytest.param("Cappuccino ", id="trailing-space"),
        pytest.param("Cappuccino' OR '1'='1", id="injection-text"),
    ],
)
def test_drink_must_match_a_menu_entry_exactly(drink):
    assert validate_request(order_state(with_drink(drink))).valid is False


def test_drink_marked_unavailable_is_refused():
    menu = seed_menu()
    menu[1]["available"] = False

    verdict = validate_request(order_state(with_drink("Cappuccino"), entries=menu))

    assert verdict.valid is False
    assert "not available" in verdict.reason


@pytest.mark.parametrize("availability", [None, "true", 1])
def test_drink_without_a_true_availability_flag_is_refused(availability):
    menu = seed_menu()
    if availability is None:
        del menu[1]["available"]
    else:
        menu[1]["available"] = availability

    assert validate_request(order_state(with_drink("Cappuccino"), entries=menu)).valid is False


def test_any_modifier_is_refused_on_the_seed_menu():
    verdict = validate_request(order_state(with_drink("Latte", ["Oat"])))

    assert verdict.valid is False
    assert "Oat" in verdict.reason


def test_modifiers_offered_for_the_drink_are_accepted():
    menu = seed_menu()
    menu[2]["modifiers"] = [MILK, SIZE]

    assert validate_request(order_state(with_drink("Latte", ["Oat", "Large"]), entries=menu)).valid is True


def test_modifier_offered_only_for_another_drink_is_refused():
    menu = seed_menu()
    menu[2]["modifiers"] = [MILK]

    verdict = validate_request(order_state(with_drink("Espresso", ["Oat"]), entries=menu))

    assert verdict.valid is False
    assert "Oat" in verdict.reason


def test_modifier_group_name_is_not_an_option():
    menu = seed_menu()
    menu[2]["modifiers"] = [MILK]

    assert validate_request(order_state(with_drink("Latte", ["Milk"]), entries=menu)).valid is False


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("Cappuccino", id="body-string"),
        pytest.param(["Cappuccino"], id="body-list"),
        pytest.param({"userId": "1", "modifiers": []}, id="drink-absent"),
        pytest.param(with_drink(""), id="drink-empty"),
        pytest.param({**with_drink("x"), "drink": ["Cappuccino"]}, id="drink-list"),
        pytest.param({**with_drink("x"), "drink": {"S": "Cappuccino"}}, id="drink-object"),
        pytest.param({**with_drink("Cappuccino"), "modifiers": "Oat"}, id="modifiers-string"),
        pytest.param({**with_drink("Cappuccino"), "modifiers": [{"Name": "Milk"}]}, id="modifier-object"),
    ],
)
def test_badly_shaped_order_is_invalid_with_a_reason(body):
    verdict = validate_request(order_state(body))

    assert verdict.valid is False
    assert verdict.reason


@pytest.mark.parametrize("user_id", [None, "", 7], ids=["absent", "empty", "number"])
def test_order_without_a_customer_is_invalid(user_id):
    body = with_drink("Cappuccino")
    if user_id is None:
        del body["userId"]
    else:
        body["userId"] = user_id

    verdict = validate_request(order_state(body))

    assert verdict.valid is False
    assert "userId" in verdict.reason


def test_hostile_drink_name_is_refused_without_echoing_it_whole():
    hostile = "<script>" + "A" * 100_000 + "\ud800\u0000"

    verdict = validate_request(order_state(with_drink(hostile)))

    assert verdict.valid is False
    assert len(verdict.reason) < 200


@pytest.mark.parametrize(
    "menu",
    [
        pytest.param(None, id="no-menu"),
        pytest.param({}, id="menu-item-absent"),
        pytest.param({"Item": {"PK": {"S": "menu"}}}, id="no-drink-list"),
        pytest.param({"Item": {"PK": "menu", "value": []}}, id="untyped-json"),
        pytest.param({"Item": {"PK": {"S": "menu"}, "value": {"L": [{"Q": "x"}]}}}, id="unknown-type"),
        pytest.param({"Item": {"PK": {"S": "menu"}, "value": {"N": "not-a-number"}}}, id="bad-number"),
    ],
)
def test_unreadable_menu_refuses_the_order(menu):
    verdict = validate_request(order_state(menu=menu))

    assert verdict.valid is False
    assert "menu" in verdict.reason


@pytest.mark.parametrize("state", [None, [], "order", 42])
def test_request_that_is_not_an_object_is_invalid(state):
    assert validate_request(state).valid is False


def test_handler_answers_the_order_manager_with_valid_and_reason(lambda_context):
    handler = load_handler(FUNCTION_DIR)

    accepted = handler(order_state(), lambda_context)
    refused = handler(order_state(with_drink("milkshake")), lambda_context)

    assert accepted["valid"] is True
    assert refused["valid"] is False
    assert set(accepted) == set(refused) == {"valid", "reason"}
    assert json.loads(json.dumps(refused)) == refused


def test_handler_answers_garbage_instead_of_failing(lambda_context):
    handler = load_handler(FUNCTION_DIR)

    assert handler(["not", "a", "state"], lambda_context)["valid"] is False


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        pytest.param({"orderId": "x" * 1025}, "order id", id="orderId-longer-than-a-key"),
        pytest.param({"orderId": "\ud800"}, "order id", id="orderId-lone-surrogate"),
        pytest.param({"orderId": 12}, "order id", id="orderId-number"),
        pytest.param(
            {"body": with_drink("Cappuccino") | {"userId": "u" * 2049}}, "userId", id="userId-too-long"
        ),
        pytest.param({"body": with_drink("Cappuccino") | {"icon": "x" * 5000}}, "bytes", id="body-too-big"),
        pytest.param(
            {"body": with_drink("Cappuccino") | {"notes": ["é"] * 3000}}, "bytes", id="unicode-bloat"
        ),
    ],
)
def test_a_request_too_big_or_not_text_for_the_order_table_is_invalid(overrides, named):
    verdict = validate_request(order_state(**overrides))

    assert verdict.valid is False
    assert named in verdict.reason


def test_a_body_just_within_the_limits_is_still_checked_against_the_menu():
    body = with_drink("Cappuccino") | {"icon": "x" * 3500}

    assert validate_request(order_state(body)).valid is True
