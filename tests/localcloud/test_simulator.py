"""The conference-day plan (pure): deterministic per seed, unique ids, peaks above capacity, a closed shop."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from localcloud import costs, simulator
from localcloud.simulator import MenuDrink

MENU_ITEM = {
    "PK": "menu",
    "value": [
        {"drink": "Espresso", "icon": "e", "available": True, "modifiers": []},
        {
            "drink": "Latte",
            "icon": "l",
            "available": True,
            "modifiers": [{"Name": "Milk", "Options": ["Oat"]}],
        },
        {"drink": "Mocha", "icon": "m", "available": False, "modifiers": []},
    ],
}
MENU = simulator.menu_from_item(MENU_ITEM)


def plan(orders: int = 60, seed: int = 5, **kwargs) -> simulator.DayPlan:
    return simulator.plan_day(orders, seed=seed, menu=MENU, capacity=kwargs.pop("capacity", 20), **kwargs)


def test_menu_offers_only_available_drinks_with_their_options():
    menu = simulator.menu_from_item(MENU_ITEM)

    assert [MenuDrink("Espresso", "e"), MenuDrink("Latte", "l", frozenset({"Oat"}))] == menu


def test_same_seed_gives_the_same_day_and_another_seed_another():
    assert plan(seed=11) == plan(seed=11)
    assert plan(seed=11).customers != plan(seed=12).customers


def test_every_customer_arrives_once_with_a_unique_order_id():
    day = plan(orders=500)

    ids = [customer.order_id for customer in day.customers]
    assert len(ids) == 500
    assert len(set(ids)) == 500


def test_id_prefix_keeps_two_days_with_one_seed_apart():
    first = {c.order_id for c in plan(id_prefix="a-").customers}
    second = {c.order_id for c in plan(id_prefix="b-").customers}

    assert not first & second


def test_the_day_opens_with_a_peak_beyond_capacity_and_only_the_excess_is_turned_away():
    day = plan(orders=60, capacity=20)

    peak = day.waves[0]
    assert peak.kind == simulator.PEAK_WAVE
    assert len(peak.customers) > 20
    admissions = [customer.admission for customer in peak.customers]
    assert admissions[:20] == [simulator.ADMITTED] * 20
    assert set(admissions[20:]) == {simulator.FULL}


def test_other_waves_never_bring_more_than_capacity():
    day = plan(orders=400, capacity=6)

    for wave in day.waves:
        admitted = [c for c in wave.customers if c.admission == simulator.ADMITTED]
        assert len(admitted) <= 6


def test_closing_the_shop_turns_away_one_whole_wave_at_that_point_of_the_day():
    day = plan(orders=60, close_shop_at=0.5)

    closed = [wave for wave in day.waves if wave.kind == simulator.CLOSED_WAVE]
    assert len(closed) == 1
    assert {c.expected for c in closed[0].customers} == {simulator.REJECTED_CLOSED}
    before = sum(len(w.customers) for w in day.waves[: closed[0].index])
    assert before == pytest.approx(30, abs=simulator.DayShape().wave_sizes[1])


def test_a_day_without_closing_never_rejects_for_a_closed_shop():
    assert plan(orders=200).expected_outcomes()[simulator.REJECTED_CLOSED] == 0


def test_a_busy_day_has_every_kind_of_ending_and_invalid_drinks():
    day = plan(orders=300, close_shop_at=0.3)

    outcomes = day.expected_outcomes()
    assert set(outcomes) == set(simulator.OUTCOMES)
    assert day.invalid_attempts > 0


def test_invalid_drinks_are_off_the_menu_or_ask_for_an_option_the_drink_lacks():
    day = plan(orders=300)

    for customer in day.customers:
        body = customer.invalid_body
        if body is None:
            continue
        entry = next((d for d in MENU if d.drink == body["drink"]), None)
        assert entry is None or any(m not in entry.options for m in body["modifiers"])


def test_orders_that_reach_the_barista_are_exactly_the_planned_sales():
    day = plan(orders=300)

    reached = [c for c in day.customers if c.reaches_barista]
    assert sum(day.expected_sales().values()) == len(reached)
    assert day.expected_sales() == Counter(c.body["drink"] for c in reached)
    assert all(c.expected != simulator.CUSTOMER_TIMEOUT for c in reached)


def test_the_plan_refuses_an_empty_day_or_menu():
    with pytest.raises(ValueError, match="at least one order"):
        plan(orders=0)
    with pytest.raises(ValueError, match="menu"):
        simulator.plan_day(5, seed=1, menu=[], capacity=20)


def test_usage_snapshot_maps_onto_the_priced_dimensions():
    snapshot = {
        "lambda": {"a": {"requests": 3, "billed_duration_ms": 2000, "memory_mb": 512, "errors": 0}},
        "eventbridge": {"events_put": 7},
        "stepfunctions": {"standard_state_transitions": 11, "express_requests": 2, "express_billed_ms": 300},
        "sqs": {"requests": 5},
        "dynamodb": {"total_read_units": 4, "total_write_units": 6},
        "logs": {"ingested_bytes": costs.BYTES_PER_GB // 2},
        "cloudwatch": {"put_metric_data_calls": 0},
    }

    used = simulator.usage_of(snapshot)

    assert used.lambda_requests == 3
    assert used.lambda_gb_seconds == pytest.approx(1.0)
    assert used.sfn_express_gb_seconds == pytest.approx(0.3 / 16)
    assert used.logs_ingested_gb == pytest.approx(0.5)
    assert (used.eventbridge_events, used.sfn_standard_transitions, used.sqs_requests) == (7, 11, 5)
    assert (used.dynamodb_read_units, used.dynamodb_write_units) == (4, 6)


@pytest.mark.parametrize(
    "given",
    [{}, {"capacity": "5"}, {"qrTokensPerBucket": "3"}, {"serverlesspresso:qrTimeIntervalMinutes": "5"}],
)
def test_the_day_sets_its_qr_code_only_where_the_caller_did_not(given):
    added = simulator.day_qr_settings(given)

    set_by_caller = {key.rpartition(":")[2] for key in given}
    assert added == {k: v for k, v in simulator.DAY_QR_SETTINGS.items() if k not in set_by_caller}


def test_a_run_that_did_not_succeed_is_reported_with_its_error_cause_and_state():
    run = {"executionArn": "arn:run", "status": "FAILED", "error": "States.Runtime", "cause": "no status"}
    visited = ["Is it a valid order?", "Look up the order id", "ListExecutions"]

    report = simulator._failure_of(run, visited)

    assert "'States.Runtime'" in report and "'no status'" in report and "'ListExecutions'" in report
    assert simulator._failure_of({**run, "status": "SUCCEEDED"}, visited) == ""


def test_a_day_ends_with_a_few_orders_still_open_which_the_end_of_day_cancels():
    day = plan(50, seed=3)
    *_, last = day.waves
    assert last.kind == simulator.CLOSING_WAVE
    assert 2 <= len(last.customers) <= 4
    assert {c.expected for c in last.customers} == {simulator.CLOSED_AT_END}
    assert all(c.admission == simulator.ADMITTED and c.barista_actions == () for c in last.customers)
    assert sum(len(wave.customers) for wave in day.waves) == 50
    assert not any(wave.kind == simulator.CLOSING_WAVE for wave in plan(50, seed=3, end_of_day=False).waves)
    assert not any(wave.kind == simulator.CLOSING_WAVE for wave in plan(5, seed=3).waves)  # too small a day


def test_a_few_admitted_customers_try_a_second_order_and_the_rest_of_the_plan_is_unchanged():
    day = plan(200, seed=11)
    second = [c for c in day.customers if c.second_scan]
    assert second and all(c.admission == simulator.ADMITTED for c in second)
    assert day.second_scans == len(second) < len(day.customers) // 5
    alone = plan(200, seed=11, shape=simulator.DayShape(second_scan=0.0))
    assert [replace(c, second_scan=False) for c in day.customers] == alone.customers
