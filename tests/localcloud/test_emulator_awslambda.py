"""Each Lambda gap closed by localcloud.emulator.awslambda, shown with a tiny inline function."""

from __future__ import annotations

import json

import boto3

from localcloud import emulator
from tests.localcloud.emulator_helpers import (
    create_function,
    create_machine,
    create_queue,
    invoke_task,
    received_bodies,
    run,
)

# --- gap 1: Lambda runs the real handler in-process -----------------------------------------------


def test_lambda_invoke_task_gets_the_handler_result_computed_with_the_function_environment(aws):
    function_arn = create_function("echo", "echo")
    machine_arn = create_machine(
        {"StartAt": "Echo", "States": {"Echo": invoke_task(function_arn, OutputPath="$.Payload", End=True)}}
    )

    result = run(machine_arn, {"orderId": "7"})

    assert result["status"] == "SUCCEEDED", result.get("cause")
    assert json.loads(result["output"]) == {
        "got": {"orderId": "7"},
        "flavour": "mocha",
        "function": "echo",
        "time_left": True,
    }


def test_handler_error_is_caught_by_its_error_type_in_the_workflow(aws):
    function_arn = create_function("fail", "fail")
    machine_arn = create_machine(
        {
            "StartAt": "Fail",
            "States": {
                "Fail": invoke_task(
                    function_arn,
                    Catch=[{"ErrorEquals": ["ValueError"], "ResultPath": "$.error", "Next": "Handled"}],
                    End=True,
                ),
                "Handled": {"Type": "Pass", "End": True},
            },
        }
    )

    result = run(machine_arn)

    assert result["status"] == "SUCCEEDED"
    assert json.loads(json.loads(result["output"])["error"]["Cause"])["errorMessage"] == "no mocha"


def test_handler_error_is_retried_as_a_task_failure(aws):
    function_arn = create_function("fail", "fail")
    retry = [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "MaxAttempts": 1}]
    machine_arn = create_machine(
        {"StartAt": "Fail", "States": {"Fail": invoke_task(function_arn, Retry=retry, End=True)}}
    )

    result = run(machine_arn)

    assert (result["status"], result["error"]) == ("FAILED", "ValueError")
    assert emulator.runtime().usage["fail"].requests == 2


def test_boto3_invoke_reports_a_handler_error_like_lambda(aws):
    create_function("fail", "fail")

    response = boto3.client("lambda").invoke(FunctionName="fail", Payload=b"{}")

    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "no mocha")


# --- gap 2: asynchronous invocation ---------------------------------------------------------------


def test_event_invoke_runs_the_handler_after_the_call_returns_and_is_counted(aws):
    queue_url, _ = create_queue("output")
    create_function("record", "record", OUTPUT_QUEUE_URL=queue_url)

    response = boto3.client("lambda").invoke(
        FunctionName="record", InvocationType="Event", Payload=json.dumps({"n": 1})
    )
    emulator.settle()

    assert response["StatusCode"] == 202
    assert received_bodies(queue_url) == [{"n": 1}]
    usage = emulator.runtime().usage["record"]
    assert (usage.requests, usage.memory_mb) == (1, 128)
    assert usage.billed_duration_ms >= 1


def test_function_retry_setting_and_on_failure_destination_are_honoured(aws):
    destination_url, destination_arn = create_queue("failures")
    create_function("fail", "fail")
    awslambda = boto3.client("lambda")
    awslambda.put_function_event_invoke_config(
        FunctionName="fail",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": destination_arn}},
    )

    awslambda.invoke(FunctionName="fail", InvocationType="Event", Payload=json.dumps({"n": 5}))
    emulator.settle()

    assert emulator.runtime().usage["fail"].requests == 1
    [record] = received_bodies(destination_url)
    assert record["requestPayload"] == {"n": 5}
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responsePayload"]["errorMessage"] == "no mocha"
