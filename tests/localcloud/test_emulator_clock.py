"""The virtual clock (localcloud.emulator.clock): workflow timeouts fire when virtual time reaches them,
exactly, and never because real time passed."""

from __future__ import annotations

import json
import threading
import time

import boto3
import pytest

from localcloud import emulator
from localcloud.emulator.clock import ClockEvent, VirtualClock
from tests.localcloud.emulator_helpers import (
    create_machine,
    describe,
    history,
    next_token,
    park_on_token,
    tokens_tap,
)


@pytest.fixture
def clock():
    virtual = VirtualClock()
    with emulator.emulator(session_clock=virtual):
        yield virtual


def parked(timeout: int, **extra) -> dict:
    return park_on_token(TimeoutSeconds=timeout, **extra)


def start(definition: dict, name: str = "machine") -> str:
    sfn = boto3.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=create_machine(definition, name=name))["executionArn"]
    emulator.settle()
    return arn


def entered(execution_arn: str) -> list[str]:
    return [
        e["stateEnteredEventDetails"]["name"]
        for e in history(execution_arn)
        if "stateEnteredEventDetails" in e
    ]


def outcome(execution_arn: str) -> tuple[str, str | None]:
    described = describe(execution_arn)
    return described["status"], described.get("error")


ONE_TIMEOUT = {"StartAt": "Wait for the customer", "States": {"Wait for the customer": parked(5)}}


# --- the clock itself ------------------------------------------------------------------------------


def test_a_wait_ends_when_its_event_is_set_and_times_out_only_at_its_deadline():
    virtual = VirtualClock()
    answered, expired = ClockEvent(), ClockEvent()
    results: dict[str, bool] = {}

    def wait(name: str, event: ClockEvent) -> None:
        results[name] = virtual.wait(event, 5)

    threads = [
        threading.Thread(target=wait, args=item) for item in (("answered", answered), ("expired", expired))
    ]
    for thread in threads:
        thread.start()
    while virtual.next_deadline() is None or len(virtual._waits) < 2:
        time.sleep(0.001)
    virtual.move_to(4.999)
    answered.set()
    threads[0].join(5)
    assert results == {"answered": True}
    virtual.move_to(5)
    threads[1].join(5)
    assert results == {"answered": True, "expired": False}
    assert virtual.next_deadline() is None


def test_the_clock_never_goes_back():
    virtual = VirtualClock()
    virtual.move_to(3)
    with pytest.raises(ValueError, match="cannot go back"):
        virtual.move_to(2)


def test_advance_needs_a_virtual_clock(aws):
    with pytest.raises(RuntimeError, match="virtual clock"):
        emulator.advance(1)


# --- TimeoutSeconds in the interpreter -------------------------------------------------------------


def test_a_task_token_wait_times_out_exactly_at_timeout_seconds(clock):
    execution = start(ONE_TIMEOUT)
    emulator.advance(4.999)
    assert outcome(execution) == ("RUNNING", None)
    emulator.advance(0.001)
    assert outcome(execution) == ("FAILED", "States.Timeout")
    assert clock.now() == 5


def test_an_answer_one_instant_before_the_deadline_wins(clock):
    queue_url = tokens_tap()
    execution = start(ONE_TIMEOUT)
    token = next_token(queue_url)
    emulator.advance(4.999)

    boto3.client("stepfunctions").send_task_success(taskToken=token, output='{"drink": "latte"}')
    emulator.settle()
    emulator.advance(10)
    assert outcome(execution) == ("SUCCEEDED", None)
    assert json.loads(describe(execution)["output"]) == {"drink": "latte"}


def test_real_time_does_not_fire_a_virtual_timeout(clock):
    execution = start({"StartAt": "Wait", "States": {"Wait": parked(1)}})
    time.sleep(1.3)  # more than TimeoutSeconds of real time
    emulator.settle()
    assert outcome(execution) == ("RUNNING", None)
    emulator.advance(1)
    assert outcome(execution) == ("FAILED", "States.Timeout")


def test_one_advance_fires_chained_timeouts_in_order_each_counted_from_when_the_last_fired(clock):
    first = parked(3, Catch=[{"ErrorEquals": ["States.Timeout"], "Next": "Barista"}], Next="Done")
    del first["End"]
    definition = {
        "StartAt": "Customer",
        "States": {
            "Customer": first,
            "Barista": parked(6, Next="Done", End=None),
            "Done": {"Type": "Succeed"},
        },
    }
    del definition["States"]["Barista"]["End"]
    execution = start(definition)
    emulator.advance(8.999)  # the customer's timeout at 3, the barista's would be at 3 + 6
    assert outcome(execution) == ("RUNNING", None)
    assert entered(execution) == ["Customer", "Barista"]
    emulator.advance(0.001)
    assert outcome(execution) == ("FAILED", "States.Timeout")


def test_a_wait_state_waits_its_seconds_of_virtual_time(clock):
    definition = {
        "StartAt": "Pause",
        "States": {"Pause": {"Type": "Wait", "Seconds": 600, "Next": "Done"}, "Done": {"Type": "Succeed"}},
    }
    execution = start(definition)
    emulator.advance(599)
    assert outcome(execution) == ("RUNNING", None)
    emulator.advance(1)
    assert outcome(execution) == ("SUCCEEDED", None)


def test_a_heartbeat_resets_the_heartbeat_deadline(clock):
    queue_url = tokens_tap()
    execution = start({"StartAt": "Wait", "States": {"Wait": parked(100, HeartbeatSeconds=2)}})
    token = next_token(queue_url)
    emulator.advance(1.5)
    boto3.client("stepfunctions").send_task_heartbeat(taskToken=token)
    emulator.settle()
    emulator.advance(1.9)  # 3.4: past the first heartbeat deadline (2), before the new one (3.5)
    assert outcome(execution) == ("RUNNING", None)
    emulator.advance(0.1)
    assert outcome(execution) == ("FAILED", "States.Timeout")  # moto names a missed heartbeat so
