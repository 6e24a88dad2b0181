"""The cost model: counts in, USD out, and the Standard-versus-Express comparison of the OrderManager."""

from __future__ import annotations

import copy
import datetime
import json

import pytest

from localcloud import costs
from localcloud.costs import PriceList, Usage, WorkflowRuns


def price_data(**overrides: tuple[float, float]) -> dict:
    """A price list of round numbers (1 USD per unit) with chosen ``key=(usd, per)`` overrides."""
    data = {
        "as_of": "2025-01-01",
        "region": "us-east-1",
        "currency": "USD",
        "source": "test",
        "caveat": "test prices",
        "prices": {
            key: {"service": key.split("_")[0], "usd": 1.0, "per": 1, "unit": "unit"}
            for key in costs.USAGE_KEYS
        },
    }
    for key, (usd, per) in overrides.items():
        data["prices"][key].update(usd=usd, per=per)
    return data


def test_shipped_price_file_prices_every_dimension_and_says_when_where_and_to_check_it():
    prices = PriceList.load()

    datetime.date.fromisoformat(prices.as_of)
    assert prices.region == "us-east-1"
    assert "check" in prices.caveat.lower()
    assert set(prices.prices) == set(costs.USAGE_KEYS)


def test_a_million_lambda_requests_cost_the_listed_price_per_million():
    prices = PriceList.from_dict(price_data(lambda_requests=(0.20, 1_000_000)))

    report = costs.price(Usage(lambda_requests=3_000_000), prices)

    assert report.total_usd == pytest.approx(0.60)


def test_each_service_is_priced_from_its_own_line():
    prices = PriceList.from_dict(
        price_data(dynamodb_write_units=(0.625, 1_000_000), dynamodb_read_units=(0.125, 1_000_000))
    )

    report = costs.price(Usage(dynamodb_write_units=2_000_000, dynamodb_read_units=4_000_000), prices)

    by_key = {line.key: line.usd for line in report.lines}
    assert by_key["dynamodb_write_units"] == pytest.approx(1.25)
    assert by_key["dynamodb_read_units"] == pytest.approx(0.50)
    assert report.by_service()["dynamodb"] == pytest.approx(1.75)


def test_cost_per_thousand_orders_divides_the_total_by_the_orders_in_thousands():
    prices = PriceList.from_dict(price_data(eventbridge_events=(1.0, 1_000)))
    report = costs.price(Usage(eventbridge_events=500), prices)

    assert report.per_thousand(250) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="at least one order"):
        report.per_thousand(0)


def test_a_price_list_without_a_dimension_is_refused_by_name():
    data = price_data()
    del data["prices"]["sqs_requests"]

    with pytest.raises(ValueError, match="sqs_requests"):
        PriceList.from_dict(data)


def test_a_price_list_without_a_date_is_refused():
    data = price_data()
    data["as_of"] = ""

    with pytest.raises(ValueError, match="as_of"):
        PriceList.from_dict(data)


def test_express_duration_is_billed_in_100ms_steps_at_64mb_at_least():
    # 1 ms -> 100 ms, 100 ms -> 100 ms, 101 ms -> 200 ms: 0.4 s at 64 MB (1/16 GB)
    assert costs.express_gb_seconds([1, 100, 101]) == pytest.approx(0.4 / 16)
    # 65 MB is billed as 128 MB
    assert costs.express_gb_seconds([100], memory_mb=65) == pytest.approx(0.1 / 8)


def test_lambda_gb_seconds_are_billed_milliseconds_times_configured_memory():
    assert costs.lambda_gb_seconds(billed_ms=2_000, memory_mb=512) == pytest.approx(1.0)


def test_order_manager_as_standard_prices_transitions_instead_of_express_requests_and_duration():
    prices = PriceList.from_dict(
        price_data(
            sfn_standard_transitions=(0.025, 1_000),
            sfn_express_requests=(1.0, 1_000_000),
            sfn_express_gb_seconds=(0.00001667, 1),
        )
    )
    usage = Usage(sfn_express_requests=4_000, sfn_express_gb_seconds=25.0, sfn_standard_transitions=10_000)
    order_manager = WorkflowRuns(requests=3_000, express_gb_seconds=20.0, state_transitions=19_000)

    standard = costs.as_standard(usage, order_manager)

    assert standard.sfn_express_requests == 1_000
    assert standard.sfn_express_gb_seconds == pytest.approx(5.0)
    assert standard.sfn_standard_transitions == 29_000
    saving = costs.price(standard, prices).total_usd - costs.price(usage, prices).total_usd
    assert saving == pytest.approx(19_000 * 0.025 / 1_000 - 3_000 / 1_000_000 - 20.0 * 0.00001667)


def test_standard_comparison_leaves_every_other_service_alone():
    usage = Usage(lambda_requests=7, sqs_requests=3, sfn_express_requests=2, sfn_express_gb_seconds=0.1)

    standard = costs.as_standard(
        usage, WorkflowRuns(requests=2, express_gb_seconds=0.1, state_transitions=12)
    )

    assert standard.lambda_requests == 7
    assert standard.sqs_requests == 3


def test_standard_comparison_refuses_runs_larger_than_the_usage_they_belong_to():
    with pytest.raises(ValueError, match="exceed"):
        costs.as_standard(Usage(sfn_express_requests=1), WorkflowRuns(2, 0.0, 10))


def test_usage_differences_isolate_one_day():
    before = Usage(lambda_requests=10, logs_ingested_gb=0.5)
    after = Usage(lambda_requests=25, logs_ingested_gb=0.75)

    day = after - before

    assert day.lambda_requests == 15
    assert day.logs_ingested_gb == pytest.approx(0.25)
    assert (before + day) == after


def test_price_file_round_trips_without_losing_entries(tmp_path):
    data = copy.deepcopy(json.loads(costs.PRICE_FILE.read_text()))
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data))

    assert PriceList.load(path).prices == PriceList.load().prices
