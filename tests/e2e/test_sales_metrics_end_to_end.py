"""SYSTEM.md §10 scenario 17: the 500-event load test through bus, rule, queue and consumer."""

from __future__ import annotations

from collections import Counter

from localcloud import simulator

LOAD_TEST_DRINKS = ("Latte", "Cappuccino", "Espresso")


def aggregates(cloud) -> Counter:
    return simulator._aggregates(cloud)


def metrics_poller(cloud):
    queue = cloud.outputs["metricsQueueUrl"].rsplit("/", 1)[-1]
    (poller,) = [p for p in cloud.pollers.by_uuid.values() if p.queue_name == queue]
    return poller


def test_load_test_counts_exactly_500_sales_each_time_without_put_metric_data(local_cloud):
    local_cloud.settle()
    metric_calls_before = local_cloud.usage["cloudwatch"]["put_metric_data_calls"]

    for _ in range(2):
        before = aggregates(local_cloud)
        local_cloud.invoke("metrics-load-test", {})
        local_cloud.settle(timeout=120)
        after = aggregates(local_cloud)
        assert after["TotalSales"] - before["TotalSales"] == 500
        assert sum(after[drink] - before[drink] for drink in LOAD_TEST_DRINKS) == 500

    assert local_cloud.usage["cloudwatch"]["put_metric_data_calls"] == metric_calls_before


def test_the_consumer_runs_at_most_its_reserved_concurrency_and_is_never_throttled(local_cloud):
    local_cloud.invoke("metrics-load-test", {"firstOrderId": 5000})
    local_cloud.settle(timeout=120)

    poller = metrics_poller(local_cloud)
    reserved = local_cloud.state.named("metrics-consumer", "aws:lambda/function:Function").inputs[
        "reservedConcurrentExecutions"
    ]
    assert poller.concurrency == reserved == 2
    assert 1 <= poller.peak_concurrency <= reserved
    assert poller.records_throttled == 0
    assert poller.records_failed == 0
