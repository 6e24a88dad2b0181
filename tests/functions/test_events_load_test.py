"""EventsLoadTest: synthetic orders on the bus, ten per call, nothing silently dropped."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import boto3
import pytest
from metrics_helpers import recording_api_calls, speed_up_bulk_delivery

from localcloud.emulator.lambda_runtime import load_module

FUNCTION_DIR = Path(__file__).resolve().parents[2] / "functions" / "events_load_test"
SOURCE = "awsserverlessda.serverlesspresso"


@pytest.fixture(scope="module")
def load_events():
    """The pure module of the function, imported without AWS."""
    return load_module(FUNCTION_DIR, "load_events")


@pytest.fixture
def bus(mocked_aws, monkeypatch):
    speed_up_bulk_delivery()
    boto3.client("events", region_name="us-east-1").create_event_bus(Name="presso-bus")
    return "presso-bus"


@pytest.fixture
def api_calls(monkeypatch):
    yield from recording_api_calls(monkeypatch)


@pytest.fixture
def load_test(bus, load_function):
    return load_function("events_load_test", {"EVENT_BUS_NAME": bus, "EVENT_SOURCE": SOURCE})


def test_sends_the_requested_orders_ten_per_call_and_reports_them(bus, load_test, event_tap, lambda_context):
    tap = event_tap(bus)

    summary = load_test({"count": 25, "firstOrderId": 1000, "seed": 7}, lambda_context)

    received = tap.of_type("OrderManager.WaitingCompletion")
    details = [event["detail"] for event in received]
    assert sorted(d["orderId"] for d in details) == [str(n) for n in range(1000, 1025)]
    assert summary["sent"] == len(received) == 25
    assert summary["calls"] == 3
    assert summary["perDrink"] == dict(Counter(d["drinkOrder"]["drink"] for d in details))
    for detail in details:
        assert detail["userId"] == detail["orderId"] == detail["drinkOrder"]["userId"]
        assert detail["drinkOrder"]["drink"] in {"Latte", "Cappuccino", "Espresso"}
        assert detail["drinkOrder"]["modifiers"] == []
        assert detail["state"] == "CREATED"
        assert isinstance(detail["orderNumber"], str)


def test_defaults_to_500_orders_numbered_from_1000_in_50_calls(bus, load_test, lambda_context, api_calls):
    summary = load_test({}, lambda_context)

    put_calls = [params for operation, params in api_calls.calls if operation == "PutEvents"]
    sent = [json.loads(entry["Detail"]) for params in put_calls for entry in params["Entries"]]
    assert len(put_calls) == summary["calls"] == 50
    assert [detail["orderId"] for detail in sent] == [str(n) for n in range(1000, 1500)]
    assert {entry["EventBusName"] for params in put_calls for entry in params["Entries"]} == {bus}
    assert summary["sent"] == 500
    assert summary["perDrink"] == dict(Counter(detail["drinkOrder"]["drink"] for detail in sent))


def test_the_same_seed_picks_the_same_drinks(load_events):
    request = load_events.parse_request({"count": 50, "seed": "repeatable"})

    first = load_events.order_details(request, now_ms=0)
    second = load_events.order_details(request, now_ms=0)

    assert [d["drinkOrder"]["drink"] for d in first] == [d["drinkOrder"]["drink"] for d in second]
    assert len({d["drinkOrder"]["drink"] for d in first}) > 1


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        ({"count": 0}, "count"),
        ({"count": 10_001}, "count"),
        ({"count": "500"}, "count"),
        ({"count": True}, "count"),
        ({"firstOrderId": -1}, "firstOrderId"),
        ({"firstOrderId": 1.5}, "firstOrderId"),
        ({"seed": [1]}, "seed"),
        ([1, 2], "object"),
    ],
)
def test_a_bad_payload_is_refused_before_anything_is_sent(
    bus, load_test, event_tap, lambda_context, load_events, payload, named
):
    tap = event_tap(bus)

    with pytest.raises(ValueError, match=named):
        load_test(payload, lambda_context)

    assert tap.received() == []


def test_unknown_keys_are_ignored_like_a_console_test_event(bus, load_test, lambda_context):
    assert load_test({"key1": "value1", "count": 3}, lambda_context)["sent"] == 3


class FlakyBus:
    """PutEvents double: rejects the listed order ids a given number of times."""

    def __init__(self, reject: dict[str, int]) -> None:
        self.reject = dict(reject)
        self.calls: list[list[str]] = []
        self.accepted: list[str] = []

    def __call__(self, entries):
        order_ids = [json.loads(entry["Detail"])["orderId"] for entry in entries]
        self.calls.append(order_ids)
        results = []
        for order_id in order_ids:
            if self.reject.get(order_id, 0) > 0:
                self.reject[order_id] -= 1
                results.append({"ErrorCode": "InternalFailure", "ErrorMessage": "try again"})
            else:
                self.accepted.append(order_id)
                results.append({"EventId": f"id-{order_id}"})
        failed = sum("ErrorCode" in result for result in results)
        return {"FailedEntryCount": failed, "Entries": results}


def entries_for(load_events, count: int):
    details = load_events.order_details(load_events.parse_request({"count": count, "seed": 1}), now_ms=0)
    return load_events.put_events_entries(details, "bus", SOURCE)


def test_rejected_entries_are_resent_alone_until_accepted(load_events):
    bus = FlakyBus(reject={"1003": 1, "1011": 2})

    report = load_events.deliver(entries_for(load_events, 15), bus, sleep=lambda _: None)

    assert report.failed == []
    assert report.sent == 15
    assert sorted(bus.accepted) == [str(n) for n in range(1000, 1015)]
    assert ["1003"] in bus.calls and bus.calls.count(["1011"]) == 2


def test_entries_still_rejected_after_the_retries_are_listed(load_events):
    bus = FlakyBus(reject={"1004": 99})

    report = load_events.deliver(entries_for(load_events, 12), bus, sleep=lambda _: None)

    assert [failure["orderId"] for failure in report.failed] == ["1004"]
    assert report.failed[0]["errorCode"] == "InternalFailure"
    assert report.sent == 11
    assert bus.calls.count(["1004"]) == len(load_events.RETRY_DELAYS_SECONDS)


def test_the_handler_fails_loudly_naming_the_rejected_orders(bus, load_test, lambda_context, monkeypatch):
    module_globals = load_test.__wrapped__.__globals__
    events_client = module_globals["events"]
    real_put_events = events_client.put_events
    rejected = '"orderId": "1002"'

    def put_events_rejecting_order_1002(**kwargs):
        entries = kwargs["Entries"]
        forwarded = [e for e in entries if rejected not in e["Detail"]]
        ok = iter(real_put_events(Entries=forwarded)["Entries"] if forwarded else [])
        results = [
            {"ErrorCode": "InternalFailure", "ErrorMessage": "x"} if rejected in e["Detail"] else next(ok)
            for e in entries
        ]
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}

    monkeypatch.setattr(events_client, "put_events", put_events_rejecting_order_1002)
    monkeypatch.setitem(module_globals["deliver"].__globals__, "RETRY_DELAYS_SECONDS", (0,))

    with pytest.raises(RuntimeError, match="1002"):
        load_test({"count": 5}, lambda_context)
