"""WorkflowStarted: an order parked at the customer wait becomes a CREATED item holding token #1, once.

Only a RUNNING OrderProcessor run started for the order may record it; the same event again changes
nothing; a second run for a taken order id is told to stop (DuplicateOrder) and the order is left alone.
"""

from __future__ import annotations

import inspect
import json
import time

import boto3
import pytest

DETAIL_TYPE = "OrderProcessor.WorkflowStarted"
REGION = "us-east-1"
PASS_THROUGH = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Pass", "End": True}}})


def _machine(name: str) -> str:
    return boto3.client("stepfunctions", region_name=REGION).create_state_machine(
        name=name, definition=PASS_THROUGH, roleArn="arn:aws:iam::123456789012:role/processor"
    )["stateMachineArn"]


@pytest.fixture
def processor_arn(mocked_aws):
    """An OrderProcessor in plain moto: its executions stay RUNNING, with their input, as parked runs do."""
    return _machine("order-processor")


def start_run(machine_arn: str, order_id: str = "1", user_id: str = "testuser") -> str:
    return boto3.client("stepfunctions", region_name=REGION).start_execution(
        stateMachineArn=machine_arn, input=json.dumps({"detail": {"orderId": order_id, "userId": user_id}})
    )["executionArn"]


@pytest.fixture
def workflow_started(order_table, processor_arn, load_function):
    return load_function(
        "workflow_started", {"ORDER_TABLE_NAME": order_table.name, "ORDER_PROCESSOR_ARN": processor_arn}
    )


@pytest.fixture
def stopped_runs(workflow_started, monkeypatch):
    """The runs the function told to stop: ``[(token, error, cause)]``."""
    sfn = inspect.unwrap(workflow_started).__globals__["sfn"]
    stopped = []

    def send_task_failure(taskToken, error, cause):
        stopped.append((taskToken, error, cause))
        return {}

    monkeypatch.setattr(sfn, "send_task_failure", send_task_failure)
    return stopped


def malformed_event_error(handler):
    return inspect.unwrap(handler).__globals__["MalformedEvent"]


def started_detail(execution_id: str, **overrides):
    detail = {
        "Message": "waiting for the customer",
        "TaskToken": "token-1",
        "orderId": "1",
        "userId": "testuser",
        "executionId": execution_id,
    }
    detail.update(overrides)
    return detail


def stored_orders(order_table):
    return order_table.scan()["Items"]


def stored(order_table, order_id="1"):
    return order_table.get_item(Key={"PK": "orders", "SK": order_id}).get("Item")


def test_started_workflow_creates_order_with_task_token_and_its_run(
    workflow_started, order_table, processor_arn, eventbridge_event, lambda_context, stopped_runs
):
    run = start_run(processor_arn)
    before_ms = time.time() * 1000

    workflow_started(eventbridge_event(DETAIL_TYPE, started_detail(run)), lambda_context)

    item = stored(order_table)
    assert item["USERID"] == "testuser"
    assert item["ORDERSTATE"] == "CREATED"
    assert item["TaskToken"] == "token-1"
    assert item["executionId"] == run
    assert item["robot"] is False
    assert "orderNumber" not in item
    assert before_ms - 1000 <= item["TS"] <= time.time() * 1000 + 1000
    assert stopped_runs == []


def test_created_order_is_listed_by_state_and_by_user(
    workflow_started, order_table, processor_arn, eventbridge_event, lambda_context
):
    run = start_run(processor_arn, order_id="7", user_id="u-7")
    workflow_started(
        eventbridge_event(DETAIL_TYPE, started_detail(run, orderId="7", userId="u-7")), lambda_context
    )

    by_state = order_table.query(
        IndexName="GSI-status",
        KeyConditionExpression="ORDERSTATE = :s",
        ExpressionAttributeValues={":s": "CREATED"},
    )["Items"]
    by_user = order_table.query(
        IndexName="GSI-userId", KeyConditionExpression="USERID = :u", ExpressionAttributeValues={":u": "u-7"}
    )["Items"]
    assert [item["SK"] for item in by_state] == ["7"]
    assert [item["SK"] for item in by_user] == ["7"]


def test_robot_flag_is_kept_when_the_event_carries_it(
    workflow_started, order_table, processor_arn, eventbridge_event, lambda_context
):
    run = start_run(processor_arn)
    workflow_started(eventbridge_event(DETAIL_TYPE, started_detail(run, robot=True)), lambda_context)

    assert stored(order_table)["robot"] is True


def test_the_same_event_again_leaves_a_placed_order_exactly_as_it_is(
    workflow_started, order_table, processor_arn, eventbridge_event, lambda_context, stopped_runs
):
    run = start_run(processor_arn)
    event = eventbridge_event(DETAIL_TYPE, started_detail(run))
    workflow_started(event, lambda_context)
    order_table.update_item(
        Key={"PK": "orders", "SK": "1"},
        UpdateExpression="SET drinkOrder = :drink, orderNumber = :number, TaskToken = :token2",
        ExpressionAttributeValues={":drink": '{"drink": "Latte"}', ":number": "4", ":token2": "token-2"},
    )
    placed = stored(order_table)

    workflow_started(event, lambda_context)

    assert stored(order_table) == placed
    assert stopped_runs == []


@pytest.mark.parametrize("user_id", ["testuser", "someone-else"])
def test_a_second_run_for_a_taken_order_id_is_stopped_and_the_order_left_alone(
    workflow_started, order_table, processor_arn, eventbridge_event, lambda_context, stopped_runs, user_id
):
    first = start_run(processor_arn)
    workflow_started(eventbridge_event(DETAIL_TYPE, started_detail(first)), lambda_context)
    order_table.update_item(
        Key={"PK": "orders", "SK": "1"},
        UpdateExpression="SET drinkOrder = :drink, orderNumber = :number",
        ExpressionAttributeValues={":drink": '{"drink": "Latte"}', ":number": "4"},
    )
    placed = stored(order_table)
    second = start_run(processor_arn, user_id=user_id)

    workflow_started(
        eventbridge_event(DETAIL_TYPE, started_detail(second, userId=user_id, TaskToken="token-dup")),
        lambda_context,
    )

    assert stored(order_table) == placed
    [(token, error, cause)] = stopped_runs
    assert (token, error) == ("token-dup", "DuplicateOrder")
    assert "another run" in cause


def test_a_reused_id_of_a_finished_order_keeps_the_finished_order(
    workflow_started, order_table, processor_arn, eventbridge_event, lambda_context, stopped_runs
):
    finished = {"PK": "orders", "SK": "1", "USERID": "old", "ORDERSTATE": "COMPLETED", "orderNumber": "4"}
    order_table.put_item(Item=finished)
    run = start_run(processor_arn)

    workflow_started(
        eventbridge_event(DETAIL_TYPE, started_detail(run, TaskToken="token-new")), lambda_context
    )

    assert stored(order_table) == finished
    assert [(token, error) for token, error, _ in stopped_runs] == [("token-new", "DuplicateOrder")]


def _run_of_another_machine(processor_arn):
    return start_run(_machine("some-other-workflow"))


def _run_for_another_order(processor_arn):
    return start_run(processor_arn, order_id="2")


def _run_for_another_customer(processor_arn):
    return start_run(processor_arn, user_id="mallory")


def _finished_run(processor_arn):
    run = start_run(processor_arn)
    boto3.client("stepfunctions", region_name=REGION).stop_execution(executionArn=run)
    return run


def _unknown_run(processor_arn):
    return processor_arn.replace(":stateMachine:", ":execution:") + ":no-such-run"


def _not_an_arn(processor_arn):
    return "not-an-execution"


@pytest.mark.parametrize(
    "claimed_run",
    [
        _run_of_another_machine,
        _run_for_another_order,
        _run_for_another_customer,
        _finished_run,
        _unknown_run,
        _not_an_arn,
    ],
)
def test_an_event_no_running_order_run_backs_writes_nothing(
    workflow_started,
    order_table,
    processor_arn,
    eventbridge_event,
    lambda_context,
    stopped_runs,
    function_logs,
    claimed_run,
):
    run = claimed_run(processor_arn)

    workflow_started(eventbridge_event(DETAIL_TYPE, started_detail(run)), lambda_context)

    assert stored_orders(order_table) == []
    assert stopped_runs == []
    assert any("not backed" in message for message in function_logs.at("WARNING"))


def test_a_run_whose_customer_id_cannot_be_stored_is_stopped_at_once(
    workflow_started, order_table, processor_arn, eventbridge_event, lambda_context, stopped_runs
):
    huge = "u" * 2049
    run = start_run(processor_arn, user_id=huge)

    workflow_started(eventbridge_event(DETAIL_TYPE, started_detail(run, userId=huge)), lambda_context)

    assert stored_orders(order_table) == []
    [(token, error, cause)] = stopped_runs
    assert (token, error) == ("token-1", "InvalidOrderEvent")
    assert "userId" in cause


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(
            {"detail-type": DETAIL_TYPE, "source": "awsserverlessda.serverlesspresso"}, id="no-detail"
        ),
        pytest.param(["not", "an", "event"], id="event-not-object"),
        pytest.param({"detail": started_detail("run")}, id="no-detail-type"),
    ],
)
def test_event_without_usable_envelope_is_rejected_and_nothing_written(
    workflow_started, order_table, lambda_context, function_logs, stopped_runs, event
):
    with pytest.raises(malformed_event_error(workflow_started)):
        workflow_started(event, lambda_context)

    assert stored_orders(order_table) == []
    assert any("malformed" in message for message in function_logs.at("ERROR"))
    assert stopped_runs == []


@pytest.mark.parametrize(
    "detail",
    [
        pytest.param("orderId=1", id="detail-is-a-string"),
        pytest.param(started_detail("run", orderId=None), id="orderId-missing"),
        pytest.param({k: v for k, v in started_detail("run").items() if k != "userId"}, id="userId-absent"),
        pytest.param(
            {k: v for k, v in started_detail("run").items() if k != "TaskToken"}, id="TaskToken-absent"
        ),
        pytest.param(
            {k: v for k, v in started_detail("run").items() if k != "executionId"}, id="executionId-absent"
        ),
        pytest.param(started_detail("run", orderId=1), id="orderId-number"),
        pytest.param(started_detail("run", userId={"S": "x"}), id="userId-object"),
        pytest.param(started_detail("run", orderId=""), id="orderId-empty"),
        pytest.param(started_detail("run", orderId="x" * 1025), id="orderId-longer-than-a-key"),
        pytest.param(started_detail("run", userId="\ud800"), id="userId-lone-surrogate"),
        pytest.param(started_detail("run", robot="yes"), id="robot-not-boolean"),
    ],
)
def test_malformed_detail_is_rejected_and_nothing_written(
    workflow_started, order_table, eventbridge_event, lambda_context, function_logs, detail
):
    with pytest.raises(malformed_event_error(workflow_started)):
        workflow_started(eventbridge_event(DETAIL_TYPE, detail), lambda_context)

    assert stored_orders(order_table) == []
    assert function_logs.at("ERROR")


def test_event_of_another_type_is_rejected(
    workflow_started, order_table, processor_arn, eventbridge_event, lambda_context
):
    run = start_run(processor_arn)
    with pytest.raises(malformed_event_error(workflow_started), match="detail-type"):
        workflow_started(
            eventbridge_event("OrderProcessor.WaitingCompletion", started_detail(run)), lambda_context
        )

    assert stored_orders(order_table) == []


@pytest.mark.parametrize("missing", ["ORDER_TABLE_NAME", "ORDER_PROCESSOR_ARN"])
def test_missing_setting_fails_at_import_naming_the_variable(mocked_aws, load_function, monkeypatch, missing):
    settings = {"ORDER_TABLE_NAME": "orders", "ORDER_PROCESSOR_ARN": "arn:aws:states:::stateMachine:p"}
    for name in settings:
        monkeypatch.delenv(name, raising=False)
    del settings[missing]

    with pytest.raises(RuntimeError, match=missing):
        load_function("workflow_started", settings)
