"""A 50-order conference day through the real program: every invariant of the simulator holds."""

from __future__ import annotations

from localcloud import simulator


def test_a_fifty_order_day_keeps_every_invariant(local_cloud):
    menu = simulator.menu_from_item(
        local_cloud.table("shop-data-config").get_item(Key={"PK": "menu"})["Item"]
    )
    plan = simulator.plan_day(50, seed=2026, menu=menu, capacity=20, close_shop_at=0.5, id_prefix="day-")

    result = simulator.run_day(local_cloud, plan)

    assert result.problems == [], "\n".join(result.problems)  # every problem, not a truncated diff
    assert result.counts == plan.expected_outcomes()
    assert result.total_sales == sum(plan.expected_sales().values())
    assert result.invalid_rejections == plan.invalid_attempts
    # Shop operations: a customer's second scan is refused; the day ends with orders open, then cancelled.
    assert result.second_orders_refused == plan.second_scans > 0
    assert result.counts[simulator.CLOSED_AT_END] == plan.expected_outcomes()[simulator.CLOSED_AT_END] > 0
    assert result.usage.sfn_express_requests > 0
    assert result.order_manager_runs.state_transitions > result.order_manager_runs.requests
    # Through the front door: every scan, order and barista action was an API request, and the apps heard.
    assert result.usage.apigateway_requests >= len(plan.customers) + result.order_manager_runs.requests
    assert result.usage.iot_messages == sum(result.messages.values())
    assert result.messages["serverlesspresso-admin"] > 0 and result.messages["serverlesspresso-user-*"] > 0
    assert result.messages["serverlesspresso-config"] >= 2  # the shop closed and reopened


def test_a_day_on_a_machine_slower_than_the_timeouts_ends_as_planned(local_cloud, monkeypatch):
    """Every customer takes longer in real time than the stack's 3 s customer timeout before ordering:
    on the virtual clock nobody times out who was not planned to."""
    import time

    menu = simulator.menu_from_item(
        local_cloud.table("shop-data-config").get_item(Key={"PK": "menu"})["Item"]
    )
    plan = simulator.plan_day(6, seed=7, menu=menu, capacity=20, id_prefix="slow-")
    assert any(c.body is not None for c in plan.customers)
    ordering = simulator.DayDriver.customer_step

    def slow_customer(self, customer):
        time.sleep(3.2)  # longer than customerTimeoutSeconds of the local stack
        return ordering(self, customer)

    monkeypatch.setattr(simulator.DayDriver, "customer_step", slow_customer)

    result = simulator.run_day(local_cloud, plan, workers=8)

    assert result.problems == [], "\n".join(result.problems)  # every problem, not a truncated diff
    assert result.counts == plan.expected_outcomes()
