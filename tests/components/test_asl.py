"""The placeholder renderer and the two definitions it fills: every placeholder filled, typed, lint-clean."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from statelint.linter import Linter

from components.asl import PlaceholderError, placeholders, render_definition

PLACEHOLDER_ONLY = re.compile(r"\$\{[A-Za-z]+\}")
ASL_DIR = Path(__file__).resolve().parents[2] / "asl"

PROCESSOR_SUBSTITUTIONS = {
    "OrderTableName": "order-table-7a8b",
    "ConfigTableName": "config-table-1a2b",
    "CountingTableName": "counting-table-3c4d",
    "EventBusName": "serverlesspresso-bus-5e6f",
    "EventSource": "awsserverlessda.serverlesspresso",
    "Capacity": 20,
    "CustomerTimeoutSeconds": 300,
    "BaristaTimeoutSeconds": 900,
}
MANAGER_SUBSTITUTIONS = {
    "OrderTableName": "order-table-7a8b",
    "ConfigTableName": "config-table-1a2b",
    "ValidateOrderFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:validate-order-9c0d",
    "EventBusName": "serverlesspresso-bus-5e6f",
    "EventSource": "awsserverlessda.serverlesspresso",
}


def _template(name: str) -> str:
    return (ASL_DIR / f"{name}.asl.json").read_text()


def _rendered(name: str, substitutions: dict) -> dict:
    return json.loads(render_definition(_template(name), substitutions))


def test_placeholders_lists_every_named_placeholder_but_no_jsonpath() -> None:
    template = json.dumps(
        {
            "a": "${TableName}",
            "b": ["x-${Capacity}-y", {"c.$": "$.detail.orderId", "d.$": "$$.Task.Token"}],
            "${KeyName}": 1,
        }
    )

    assert placeholders(template) == {"TableName", "Capacity", "KeyName"}


def test_whole_string_placeholder_takes_the_value_with_its_type() -> None:
    template = json.dumps({"TimeoutSeconds": "${Timeout}", "Enabled": "${Flag}", "Name": "${Name}"})

    rendered = json.loads(render_definition(template, {"Timeout": 300, "Flag": False, "Name": "orders"}))

    assert rendered == {"TimeoutSeconds": 300, "Enabled": False, "Name": "orders"}


def test_placeholder_inside_text_is_replaced_textually() -> None:
    template = json.dumps({"Variable": "$.isCapacityAvailable.Executions[${Capacity}]"})

    rendered = json.loads(render_definition(template, {"Capacity": 3}))

    assert rendered == {"Variable": "$.isCapacityAvailable.Executions[3]"}


def test_jsonpath_and_context_paths_are_left_alone() -> None:
    template = json.dumps({"TaskToken.$": "$$.Task.Token", "orderId.$": "$.detail.orderId", "Cost": "$5"})

    assert json.loads(render_definition(template, {})) == json.loads(template)


def test_unfilled_and_unknown_names_are_all_reported_together() -> None:
    template = json.dumps({"a": "${TableName}", "b": "${BusName}", "c": "${Source}"})

    with pytest.raises(PlaceholderError) as raised:
        render_definition(template, {"TableName": "t", "Capacity": 20, "Region": "us-east-1"})

    assert raised.value.missing == {"BusName", "Source"}
    assert raised.value.unknown == {"Capacity", "Region"}
    for name in ("BusName", "Source", "Capacity", "Region"):
        assert name in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_rendering_is_deterministic_and_readable() -> None:
    first = render_definition(_template("order_processor"), PROCESSOR_SUBSTITUTIONS)
    second = render_definition(_template("order_processor"), dict(reversed(PROCESSOR_SUBSTITUTIONS.items())))

    assert first == second
    assert "\n  " in first


@pytest.mark.parametrize(
    ("name", "expected"),
    [("order_processor", PROCESSOR_SUBSTITUTIONS), ("order_manager", MANAGER_SUBSTITUTIONS)],
)
def test_definition_declares_exactly_the_documented_placeholders(name: str, expected: dict) -> None:
    assert placeholders(_template(name)) == set(expected)


@pytest.mark.parametrize(
    ("name", "substitutions"),
    [("order_processor", PROCESSOR_SUBSTITUTIONS), ("order_manager", MANAGER_SUBSTITUTIONS)],
)
def test_rendered_definition_passes_statelint(name: str, substitutions: dict) -> None:
    problems = Linter.validate(_rendered(name, substitutions))

    assert problems == []


def test_order_processor_receives_capacity_and_timeouts_as_numbers() -> None:
    states = _rendered("order_processor", {**PROCESSOR_SUBSTITUTIONS, "Capacity": 7})["States"]

    assert states["Emit - Workflow Started TT"]["TimeoutSeconds"] == 300
    assert states["Emit - Awaiting Completion TT"]["TimeoutSeconds"] == 900
    assert states["ListExecutions"]["Parameters"]["MaxResults.$"] == "States.MathAdd(7, 1)"
    assert states["Is capacity available?"]["Choices"][0]["Variable"] == "$.isCapacityAvailable.Executions[7]"


def test_order_processor_counts_its_own_executions_without_naming_itself() -> None:
    parameters = _rendered("order_processor", PROCESSOR_SUBSTITUTIONS)["States"]["ListExecutions"][
        "Parameters"
    ]

    assert parameters["StateMachineArn.$"] == "$$.StateMachine.Id"
    assert parameters["StatusFilter"] == "RUNNING"


@pytest.mark.parametrize(
    ("name", "substitutions"),
    [("order_processor", PROCESSOR_SUBSTITUTIONS), ("order_manager", MANAGER_SUBSTITUTIONS)],
)
def test_every_aws_task_retries_transient_errors_without_blanket_task_failed(
    name: str, substitutions: dict
) -> None:
    states = _rendered(name, substitutions)["States"]
    tasks = {state_name: state for state_name, state in states.items() if state["Type"] == "Task"}

    assert tasks
    for state_name, state in tasks.items():
        retried = [error for retrier in state.get("Retry", []) for error in retrier["ErrorEquals"]]
        assert retried, f"{state_name} has no Retry"
        assert not {"States.ALL", "States.TaskFailed"} & set(retried), state_name
        assert all(retrier.get("BackoffRate", 1.0) > 1.0 for retrier in state["Retry"]), state_name


@pytest.mark.parametrize(
    ("name", "substitutions"),
    [("order_processor", PROCESSOR_SUBSTITUTIONS), ("order_manager", MANAGER_SUBSTITUTIONS)],
)
def test_no_task_retries_a_request_the_service_refused_as_invalid(name: str, substitutions: dict) -> None:
    states = _rendered(name, substitutions)["States"]

    for state_name, state in states.items():
        retried = {error for retrier in state.get("Retry", []) for error in retrier["ErrorEquals"]}
        assert not retried & {"DynamoDB.AmazonDynamoDBException", "DynamoDB.ValidationException"}, state_name


def test_timeout_catches_keep_the_order_details() -> None:
    states = _rendered("order_processor", PROCESSOR_SUBSTITUTIONS)["States"]

    for waiting in ("Emit - Workflow Started TT", "Emit - Awaiting Completion TT"):
        (catch,) = [c for c in states[waiting]["Catch"] if "States.Timeout" in c["ErrorEquals"]]
        assert catch["ErrorEquals"] == ["States.Timeout"]
        assert catch["ResultPath"] == "$.comment"


def _values_of(node: object, key: str) -> list:
    if isinstance(node, dict):
        found = [value for name, value in node.items() if name == key]
        return found + [hit for value in node.values() for hit in _values_of(value, key)]
    if isinstance(node, list):
        return [hit for item in node for hit in _values_of(item, key)]
    return []


@pytest.mark.parametrize("name", ["order_processor", "order_manager"])
@pytest.mark.parametrize("field", ["TableName", "EventBusName", "Source", "FunctionName"])
def test_physical_names_come_only_from_placeholders(name: str, field: str) -> None:
    for value in _values_of(json.loads(_template(name)), field):
        assert PLACEHOLDER_ONLY.fullmatch(value), f"{field} {value!r} in {name} is not a placeholder"


PROCESSOR_STATES = {
    "Is it a valid order?": "Choice",
    "Not a valid order": "Fail",
    "Look up the order id": "Task",
    "Trading day in UTC": "Pass",
    "Duplicate order": "Succeed",
    "Cancelled before the drink": "Succeed",
    "Order refused": "Fail",
    "DynamoDB Get Shop status": "Task",
    "Is the order new and the shop open?": "Choice",
    "ListExecutions": "Task",
    "Is capacity available?": "Choice",
    "Emit - Workflow Started TT": "Task",
    "Customer timedout": "Task",
    "Generate Order Number": "Task",
    "Emit - Awaiting Completion TT": "Task",
    "Barista timedout": "Task",
    "Emit - Shop not ready": "Task",
    "Emit - order finished": "Task",
}
MANAGER_STATES = {
    "Is the request well formed?": "Choice",
    "Read the body": "Pass",
    "Is the body an object?": "Choice",
    "Not a valid request": "Fail",
    "Who is calling?": "Choice",
    "Caller not allowed": "Fail",
    "Caller is the customer": "Pass",
    "Read refused order": "Task",
    "Whose order?": "Choice",
    "Not the caller's order": "Fail",
    "Decide Action": "Choice",
    "Complete Order": "Pass",
    "Cancel Order": "Pass",
    "DynamoDB Update Order Record": "Task",
    "Construct record": "Pass",
    "Emit Completed || Cancelled": "Task",
    "Resume Order Processor - Barista": "Task",
    "get menu": "Task",
    "Sanitize order": "Task",
    "Is Order Valid?": "Choice",
    "not a valid order": "Fail",
    "Update order": "Task",
    "Resume Order Processor - customer": "Task",
    "Unmake Order": "Pass",
    "DynamoDB Update Order": "Task",
    "Transform record": "Pass",
    "EventBridge Emit Making Order": "Task",
    "Order not open": "Fail",
    "Order not accepted": "Fail",
}


@pytest.mark.parametrize(
    ("name", "substitutions", "expected"),
    [
        ("order_processor", PROCESSOR_SUBSTITUTIONS, PROCESSOR_STATES),
        ("order_manager", MANAGER_SUBSTITUTIONS, MANAGER_STATES),
    ],
)
def test_state_names_and_kinds_are_those_operators_see_in_the_spec(
    name: str, substitutions: dict, expected: dict
) -> None:
    states = _rendered(name, substitutions)["States"]

    assert {state_name: state["Type"] for state_name, state in states.items()} == expected


def test_order_manager_failures_carry_the_documented_error_names() -> None:
    states = _rendered("order_manager", MANAGER_SUBSTITUTIONS)["States"]

    assert states["not a valid order"]["Error"] == "InvalidOrder"
    assert states["not a valid order"]["CausePath"] == "$.sanitise.Payload.reason"
    assert states["Order not open"]["Error"] == "OrderNotFound"
    assert states["Order not accepted"]["Error"] == "OrderNotAccepted"
    assert states["Resume Order Processor - customer"]["Resource"].endswith(":aws-sdk:sfn:sendTaskSuccess")
    assert states["Resume Order Processor - Barista"]["Resource"].endswith(":aws-sdk:sfn:sendTaskSuccess")
