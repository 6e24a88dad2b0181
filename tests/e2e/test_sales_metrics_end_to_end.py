"""SYSTEM.md §10 scenario 17: the 500-event load test through bus, rule, queue and consumer."""

from __future__ import annotations

from collections import Counter

from localcloud import simulator

LOAD_TEST_DRINKS = ("Latte", "Cappuccino", "Espresso")


def aggregates(cloud) -> Counter:
    return simulator._aggregates(cloud)


def test_load_test_counts_exactly_500_sales_without_put_metric_data(local_cloud):
    local_cloud.settle()
    before = aggregates(local_cloud)
    metric_calls_before = local_cloud.usage["cloudwatch"]["put_metric_data_calls"]

    local_cloud.invoke("metrics-load-test", {})
    local_cloud.settle(timeout=120)

    after = aggregates(local_cloud)
    assert after["TotalSales"] - before["TotalSales"] == 500
    assert sum(after[drink] - before[drink] for drink in LOAD_TEST_DRINKS) == 500
    assert local_cloud.usage["cloudwatch"]["put_metric_data_calls"] == metric_calls_before
    consumer = local_cloud.usage["pollers"]
    assert all(poller["peak_concurrency"] <= 1 for poller in consumer.values())
