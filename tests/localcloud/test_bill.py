"""The monthly bill: fixed charges read from what the program declares, the simulated day scaled to a
month of trading, and the workshop's month on the same profile."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from rich.console import Console

from localcloud import bill, cli, costs, program, simulator
from localcloud.bill import MonthPrices, Profile, SimulatedDay
from tests.conftest import every_project_stack

ALARM_TYPE = "aws:cloudwatch/metricAlarm:MetricAlarm"


@dataclass(frozen=True)
class Declared:
    """A resource as a program run records it (type, logical name, inputs), for hand-made programs."""

    type: str
    name: str
    inputs: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def prices() -> MonthPrices:
    return MonthPrices.load()


@pytest.fixture(scope="module")
def local(program_run) -> program.ProgramRun:
    return program_run("local")


def with_resources(run: program.ProgramRun, *extra: Any) -> program.ProgramRun:
    return program.ProgramRun(run.stack, [*run.resources, *extra], dict(run.outputs))


def fixed_usd(declared: Any, prices: MonthPrices, profile: Profile = bill.DEFAULT_PROFILE) -> float:
    return sum(charge.usd for charge in bill.fixed_charges(declared, prices, profile))


def quantity(charges: tuple[bill.Charge, ...], key: str) -> float:
    return sum(charge.quantity for charge in charges if charge.key == key)


# --------------------------------------------------------------------------- prices


def test_every_priced_dimension_has_a_price_with_its_unit_and_pricing_page(prices):
    used = {
        *costs.USAGE_KEYS,
        *bill.MONTH_USAGE_KEYS,
        *(key for rule in bill.FIXED_CHARGES.values() for key in rule.keys),
        *(item.price for item in bill.Workshop.load().items),
    }

    for key in used:
        assert prices[key].unit, key
        assert prices.sources[key].startswith("aws.amazon.com/"), key
    assert set(prices.month) == set(bill.MONTH_PRICE_KEYS)


def test_the_price_file_no_longer_calls_the_monthly_charges_unmodelled():
    not_modelled = json.loads(costs.PRICE_FILE.read_text())["not_modelled"].lower()

    for now_priced in ("dashboard", "custom metric", "log storage", "kms keys"):
        assert now_priced not in not_modelled
    assert "data transfer" in not_modelled and "free tier" in not_modelled


def test_a_price_file_without_a_month_price_or_a_source_is_refused_by_name():
    data = json.loads(costs.PRICE_FILE.read_text())
    without_alarms = copy.deepcopy(data)
    del without_alarms["month_prices"]["cloudwatch_alarm_metric_months"]
    without_source = copy.deepcopy(data)
    del without_source["prices"]["sqs_requests"]["source"]

    with pytest.raises(ValueError, match="cloudwatch_alarm_metric_months"):
        MonthPrices.from_dict(without_alarms)
    with pytest.raises(ValueError, match="sqs_requests needs a 'source'"):
        MonthPrices.from_dict(without_source)


# --------------------------------------------------------------------------- fixed charges


def test_no_resource_type_is_both_fixed_and_free():
    assert not set(bill.FIXED_CHARGES) & set(bill.NO_FIXED_CHARGE)


@pytest.mark.parametrize("stack", every_project_stack(), ids=repr)
def test_every_resource_type_of_every_project_stack_is_classified(program_run, prices, stack):
    run = program_run(stack)

    for type_ in {resource.type for resource in run.resources}:
        assert bill.classification(type_) in (bill.FIXED, "no fixed charge", "not a cloud resource")
    assert fixed_usd(run, prices) > 0  # every stack has alarms and a key


def test_a_resource_type_nobody_classified_stops_the_bill(local, prices):
    provisioned = Declared("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig", "warm")

    with pytest.raises(bill.Unclassified, match="provisionedConcurrencyConfig"):
        bill.fixed_charges(with_resources(local, provisioned), prices)


def test_adding_an_alarm_raises_the_bill_by_exactly_one_alarm_month(local, prices):
    alarm = local.of_type(ALARM_TYPE)[0]
    one_more = replace(alarm, name="one-more-alarm", urn=f"{alarm.urn}-one-more")

    raised = fixed_usd(with_resources(local, one_more), prices) - fixed_usd(local, prices)

    assert raised == pytest.approx(prices["cloudwatch_alarm_metric_months"].usd)
    assert raised == pytest.approx(0.10)


def test_an_alarm_on_a_period_under_a_minute_is_billed_at_the_high_resolution_price(local, prices):
    alarm = local.of_type(ALARM_TYPE)[0]
    fast = replace(alarm, name="fast-alarm", urn=f"{alarm.urn}-fast", inputs={**alarm.inputs, "period": 10})

    raised = fixed_usd(with_resources(local, fast), prices) - fixed_usd(local, prices)

    assert raised == pytest.approx(prices["cloudwatch_high_resolution_alarm_metric_months"].usd)


def test_the_shop_pays_each_month_for_its_alarms_dashboard_key_and_custom_metrics(local, prices):
    charges = bill.fixed_charges(local, prices)

    assert quantity(charges, "cloudwatch_alarm_metric_months") == len(local.of_type(ALARM_TYPE))
    assert quantity(charges, "cloudwatch_dashboard_months") == 1
    assert quantity(charges, "kms_key_months") == 1
    assert quantity(charges, "secretsmanager_secret_months") == 0


def test_custom_metrics_are_every_drink_on_the_seeded_menu_the_total_and_the_log_filter_metric(local):
    metrics = bill.custom_metrics(local)
    drinks = {dimensions[0][1] for namespace, name, dimensions in metrics if name == "DrinkOrders"}

    # The dashboard names only four; customers can order all six drinks of the menu.
    assert drinks == {"Espresso", "Cappuccino", "Latte", "Flat White", "Americano", "Coffee of the day"} | {
        "Total Orders"
    }
    assert {namespace for namespace, _, _ in metrics} == {"Serverlesspresso", "Serverlesspresso/Workflows"}
    assert len(metrics) == 8


def test_custom_metrics_are_charged_only_for_the_hours_the_shop_is_open(local, prices):
    profile = Profile(event_days=4, opening_hours=8)

    charged = quantity(bill.fixed_charges(local, prices, profile), "cloudwatch_custom_metric_months")

    assert charged == pytest.approx(8 * 32 / 730)


def test_a_provisioned_table_pays_for_its_capacity_every_hour_and_an_on_demand_one_does_not(prices):
    provisioned = Declared(
        "aws:dynamodb/table:Table",
        "metrics",
        {"billingMode": "PROVISIONED", "readCapacity": 5, "writeCapacity": 2},
    )
    on_demand = Declared("aws:dynamodb/table:Table", "orders", {"billingMode": "PAY_PER_REQUEST"})

    charges = bill.fixed_charges([provisioned, on_demand], prices)

    assert quantity(charges, "dynamodb_provisioned_read_unit_hours") == 5 * 730
    assert quantity(charges, "dynamodb_provisioned_write_unit_hours") == 2 * 730


def test_a_rotated_key_pays_one_more_key_month_for_each_of_its_first_two_rotations(prices):
    key = Declared("aws:kms/key:Key", "alarms-key", {"enableKeyRotation": True})

    def key_months(month_of_service: int) -> float:
        charges = bill.fixed_charges([key], prices, Profile(months_in_service=month_of_service))
        return quantity(charges, "kms_key_months")

    assert [key_months(month) for month in (1, 12, 14, 25, 40)] == [1, 1, 2, 3, 3]


def test_an_api_cache_the_price_list_does_not_hold_is_refused_not_left_out(prices):
    cached = Declared("aws:apigateway/stage:Stage", "prod", {"cacheClusterEnabled": True})

    with pytest.raises(bill.NotPriced, match="API cache"):
        bill.fixed_charges([cached], prices)


# --------------------------------------------------------------------------- the profile and usage


def test_the_day_is_scaled_per_customer_who_scanned_to_the_scans_of_the_month():
    # 5 scans made 10 Lambda requests and 4 API requests; the month has 2 days of 3 scans.
    profile = Profile(event_days=2, orders_per_day=3)

    month = bill.scaled_usage(costs.Usage(lambda_requests=10, apigateway_requests=4), 5, profile)

    assert month.lambda_requests == pytest.approx(12)
    assert month.apigateway_requests == pytest.approx(4.8)


def test_monthly_active_users_and_connection_minutes_follow_the_profile():
    profile = Profile(
        event_days=2,
        orders_per_day=3,
        opening_hours=2,
        staff=1,
        phone_minutes_per_order=10,
        orders_per_customer=2,
    )

    assert bill.monthly_active_users(profile) == 3 + 1  # 6 orders by 3 customers, and one staff account
    assert bill.connection_minutes(profile) == 1 * 2 * 60 * 2 + 6 * 10


def test_stored_logs_follow_each_groups_retention_and_never_expiring_logs_pile_up(prices):
    gb = costs.BYTES_PER_GB
    day = SimulatedDay(
        costs.Usage(logs_ingested_gb=1.0),
        scans=5,
        log_bytes_by_group={"kept-a-month": gb / 2, "kept": gb / 2},
    )
    profile = Profile(event_days=2, orders_per_day=3, months_in_service=3)
    retention = {"kept-a-month": bill.DAYS_PER_MONTH, "kept": None}

    charges = bill.usage_charges(day, prices, profile, retention)

    # Each group ingests 0.5 / 5 * 6 = 0.6 GB a month: one month kept, or 2.5 months piled up by month 3.
    assert quantity(charges, "logs_ingested_gb") == pytest.approx(1.2)
    assert quantity(charges, "logs_stored_gb_months") == pytest.approx(0.6 * 1 + 0.6 * 2.5)


def test_a_profile_out_of_range_is_refused_with_what_is_allowed():
    with pytest.raises(ValueError, match="event_days must be from 1 to 31, got 0"):
        Profile(event_days=0)
    with pytest.raises(ValueError, match="opening_hours must be from 1 to 24, got 25"):
        Profile(opening_hours=25)


def test_the_month_options_choose_the_profile_and_the_defaults_are_the_pop_up_month():
    default = cli.parser().parse_args(["simulate"])
    chosen = cli.parser().parse_args(["simulate", "--month-days", "6", "--month-orders", "300"])

    assert Profile.of_options(default.month_days, default.month_orders, default.month_hours) == Profile()
    custom = Profile.of_options(chosen.month_days, chosen.month_orders, chosen.month_hours)
    assert (custom.name, custom.event_days, custom.orders_per_day, custom.orders) == ("custom", 6, 300, 1800)


# --------------------------------------------------------------------------- the workshop's month


def test_the_workshop_inventory_names_a_source_for_every_count_and_says_where_the_documents_are_silent():
    data = json.loads(bill.WORKSHOP_FILE.read_text())
    workshop = bill.Workshop.load()

    assert all(item.source for item in workshop.items)
    assert {item.what for item in workshop.items if item.source.startswith("silent")} >= {"CloudWatch alarms"}
    assert data["log_retention_days"] is None and data["log_retention_source"].startswith("silent")


def test_the_workshop_month_is_the_same_profile_with_a_standard_order_manager_and_its_own_resources(
    local, prices
):
    day = SimulatedDay(
        costs.Usage(sfn_express_requests=10, sfn_express_gb_seconds=1.0, lambda_requests=20),
        scans=10,
        order_manager_runs=costs.WorkflowRuns(requests=10, express_gb_seconds=1.0, state_transitions=90),
    )
    profile = Profile(event_days=2, orders_per_day=50)

    ours, workshop = bill.months(day, local, prices, profile)

    assert workshop.profile == ours.profile == profile
    assert workshop.quantity("lambda_requests") == ours.quantity("lambda_requests") == 200
    assert workshop.quantity("sfn_standard_transitions") == 900  # 90 per 10 scans, 100 scans
    assert workshop.quantity("sfn_express_requests") == 0 and ours.quantity("sfn_express_requests") == 100
    # the same users, in the workshop's pool at a new pool's tier (Essentials), in ours at Lite
    assert workshop.quantity("cognito_monthly_active_users") == ours.quantity(
        "cognito_lite_monthly_active_users"
    )
    assert ours.quantity("cognito_monthly_active_users") == 0
    assert workshop.quantity("dynamodb_provisioned_read_unit_hours") == 5 * 730  # its metrics table
    assert workshop.quantity("cloudwatch_alarm_metric_months") == 0
    assert ours.quantity("cloudwatch_alarm_metric_months") == len(local.of_type(ALARM_TYPE))


def test_the_users_of_the_pool_are_priced_at_its_tier_and_an_unpriced_tier_is_refused(local, prices):
    [pool] = local.of_type("aws:cognito/userPool:UserPool")
    assert pool.inputs["userPoolTier"] == "LITE"  # every stack: the apps use nothing beyond Lite
    assert bill.monthly_active_users_price(local) == "cognito_lite_monthly_active_users"
    assert prices["cognito_lite_monthly_active_users"].usd < prices["cognito_monthly_active_users"].usd

    def with_tier(tier: str | None) -> program.ProgramRun:
        inputs = {key: value for key, value in pool.inputs.items() if key != "userPoolTier"}
        changed = replace(pool, inputs={**inputs, **({"userPoolTier": tier} if tier else {})})
        return program.ProgramRun(local.stack, [changed if r is pool else r for r in local.resources], {})

    assert bill.monthly_active_users_price(with_tier(None)) == "cognito_monthly_active_users"
    with pytest.raises(bill.NotPriced, match="PLUS"):
        bill.monthly_active_users_price(with_tier("PLUS"))


def test_the_workshop_keeps_its_logs_forever_while_the_stack_keeps_them_for_its_retention(local, prices):
    group = next(iter(bill.log_retention_days(local)))  # 1 day on the local stack
    day = SimulatedDay(
        costs.Usage(logs_ingested_gb=1.0), scans=1000, log_bytes_by_group={group: costs.BYTES_PER_GB}
    )

    ours, workshop = bill.months(day, local, prices, Profile())

    assert ours.quantity("logs_stored_gb_months") == pytest.approx(4 * 1 / bill.DAYS_PER_MONTH)
    assert workshop.quantity("logs_stored_gb_months") == pytest.approx(4 * 11.5)


# --------------------------------------------------------------------------- what `simulate` prints


def test_the_month_is_printed_after_the_day_with_fixed_and_usage_apart_and_the_workshop_beside_it(
    local, prices
):
    day = SimulatedDay(costs.Usage(lambda_requests=100), scans=50)
    months = bill.months(day, local, prices)
    result = simulator.DayResult(simulator.DayPlan(seed=1, capacity=20, waves=()))
    console = Console(record=True, width=200)

    simulator.render(console, result, months=months)
    printed = console.export_text()

    day_table, month_part = printed.split("This architecture, a month of pop-up", 1)
    assert "Modelled cost" in day_table
    for line in ("Fixed charges", "Usage charges", "CloudWatch alarms, standard resolution", "Cognito"):
        assert line in month_part
    assert "The workshop's design, a month of pop-up" in month_part
    assert f"{months[0].total_usd:.2f}" in month_part and f"{months[1].total_usd:.2f}" in month_part


def test_the_day_alone_still_renders_without_a_month():
    console = Console(record=True, width=200)

    simulator.render(console, simulator.DayResult(simulator.DayPlan(seed=1, capacity=20, waves=())))

    assert "Modelled cost" in console.export_text() and "a month of" not in console.export_text()
