"""Each moto gap closed by localcloud.moto_gaps, shown with a tiny inline workflow or function."""

from __future__ import annotations

import io
import json
import threading
import zipfile

import boto3
import pytest

from localcloud import moto_gaps

ROLE_ARN = "arn:aws:iam::123456789012:role/test-role"
PARK_ON_TOKEN = {
    "Type": "Task",
    "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken",
    "Parameters": {
        "Entries": [{"Source": "test.parked", "DetailType": "Parked", "Detail": {"token.$": "$$.Task.Token"}}]
    },
    "End": True,
}


def create_machine(definition: dict, name: str = "machine", machine_type: str = "STANDARD") -> str:
    return boto3.client("stepfunctions").create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=ROLE_ARN, type=machine_type
    )["stateMachineArn"]


def history(execution_arn: str) -> list[dict]:
    return boto3.client("stepfunctions").get_execution_history(executionArn=execution_arn)["events"]


def task_outputs(execution_arn: str) -> list[dict]:
    return [
        json.loads(event["taskSucceededEventDetails"]["output"])
        for event in history(execution_arn)
        if "taskSucceededEventDetails" in event
    ]


def queue_arn_of(queue_url: str) -> str:
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]


def describe(execution_arn: str) -> dict:
    return boto3.client("stepfunctions").describe_execution(executionArn=execution_arn)


def run(machine_arn: str, payload: dict | None = None) -> dict:
    sfn = boto3.client("stepfunctions")
    execution_arn = sfn.start_execution(stateMachineArn=machine_arn, input=json.dumps(payload or {}))[
        "executionArn"
    ]
    moto_gaps.settle()
    return describe(execution_arn)


# --- gap 1: aws-sdk integration casing --------------------------------------------------------------


def test_list_executions_task_sees_its_own_running_execution(aws):
    machine_arn = create_machine(
        {
            "StartAt": "CountRunning",
            "States": {
                "CountRunning": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:sfn:listExecutions",
                    "Parameters": {"StateMachineArn.$": "$$.StateMachine.Id", "StatusFilter": "RUNNING"},
                    "End": True,
                }
            },
        }
    )
    result = run(machine_arn)

    assert result["status"] == "SUCCEEDED", result.get("cause")
    executions = json.loads(result["output"])["Executions"]
    assert [item["ExecutionArn"] for item in executions] == [result["executionArn"]]
    assert isinstance(executions[0]["StartDate"], str)


def test_send_task_success_task_resumes_a_parked_execution(aws):
    sfn = boto3.client("stepfunctions")
    parked_arn = create_machine({"StartAt": "Park", "States": {"Park": PARK_ON_TOKEN}}, name="parked")
    events = boto3.client("events")
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="tokens")["QueueUrl"]
    queue_arn = queue_arn_of(queue_url)
    events.put_rule(Name="parked", EventPattern=json.dumps({"source": ["test.parked"]}))
    events.put_targets(Rule="parked", Targets=[{"Id": "queue", "Arn": queue_arn}])
    parked = sfn.start_execution(stateMachineArn=parked_arn)["executionArn"]
    moto_gaps.settle()
    token = json.loads(sqs.receive_message(QueueUrl=queue_url)["Messages"][0]["Body"])["detail"]["token"]

    resumer_arn = create_machine(
        {
            "StartAt": "Resume",
            "States": {
                "Resume": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:sfn:sendTaskSuccess",
                    "Parameters": {"TaskToken.$": "$.token", "Output": '{"served": true}'},
                    "End": True,
                }
            },
        },
        name="resumer",
    )
    assert run(resumer_arn, {"token": token})["status"] == "SUCCEEDED"

    parked_result = describe(parked)
    assert parked_result["status"] == "SUCCEEDED"
    assert json.loads(parked_result["output"]) == {"served": True}


# --- gap 3: unnamed StartExecution ------------------------------------------------------------------


def test_two_unnamed_starts_give_two_distinct_executions(aws):
    sfn = boto3.client("stepfunctions")
    machine_arn = create_machine({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})

    first = sfn.start_execution(stateMachineArn=machine_arn)["executionArn"]
    second = sfn.start_execution(stateMachineArn=machine_arn)["executionArn"]
    moto_gaps.settle()

    assert first != second
    assert not first.endswith(":None")
    listed = {item["executionArn"] for item in sfn.list_executions(stateMachineArn=machine_arn)["executions"]}
    assert listed == {first, second}


# --- gap 7: thread hygiene ---------------------------------------------------------------------------


def test_leaving_the_emulator_stops_parked_executions_and_joins_their_threads():
    from moto.stepfunctions.parser.utils import TMP_THREADS

    with moto_gaps.emulator():
        machine_arn = create_machine({"StartAt": "Park", "States": {"Park": PARK_ON_TOKEN}})
        sfn = boto3.client("stepfunctions")
        for _ in range(3):
            sfn.start_execution(stateMachineArn=machine_arn)
        moto_gaps.settle()
        running = sfn.list_executions(stateMachineArn=machine_arn, statusFilter="RUNNING")["executions"]
        assert len(running) == 3
        threads = [thread for thread in TMP_THREADS if thread.is_alive()]
        assert threads

    assert not any(thread.is_alive() for thread in threads)
    assert not [thread for thread in threading.enumerate() if thread.name == "localcloud-deliveries"]


def test_stop_execution_aborts_a_parked_execution_at_once(aws):
    sfn = boto3.client("stepfunctions")
    machine_arn = create_machine({"StartAt": "Park", "States": {"Park": PARK_ON_TOKEN}})
    execution_arn = sfn.start_execution(stateMachineArn=machine_arn)["executionArn"]
    moto_gaps.settle()

    sfn.stop_execution(executionArn=execution_arn)

    assert describe(execution_arn)["status"] == "ABORTED"


# --- gap 2: Lambda runs the real handler in-process ---------------------------------------------------

HANDLER_SOURCE = """
import io
import json
import os

import boto3


def echo(event, context):
    return {"got": event, "flavour": os.environ["FLAVOUR"], "function": context.function_name,
            "time_left": context.get_remaining_time_in_millis() > 0}


def fail(event, context):
    raise ValueError("no " + os.environ["FLAVOUR"])


def relay(event, context):
    boto3.client("events").put_events(
        Entries=[{"Source": "test.relay", "DetailType": "Relayed", "Detail": json.dumps(event["detail"])}]
    )


def record(event, context):
    boto3.client("sqs").send_message(QueueUrl=os.environ["OUTPUT_QUEUE_URL"], MessageBody=json.dumps(event))
    return "recorded"
"""


def code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER_SOURCE)
    return buffer.getvalue()


def lambda_role() -> str:
    iam = boto3.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    try:
        return iam.get_role(RoleName="function-role")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        return iam.create_role(RoleName="function-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
            "Arn"
        ]


def create_function(name: str, handler: str, **environment: str) -> str:
    return boto3.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=lambda_role(),
        Handler=f"app.{handler}",
        Code={"ZipFile": code_zip()},
        Environment={"Variables": {"FLAVOUR": "mocha", **environment}},
    )["FunctionArn"]


def create_queue(name: str) -> tuple[str, str]:
    queue_url = boto3.client("sqs").create_queue(QueueName=name)["QueueUrl"]
    return queue_url, queue_arn_of(queue_url)


def received_bodies(queue_url: str) -> list[dict]:
    messages = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in messages.get("Messages", [])]


def invoke_task(function_arn: str, **extra) -> dict:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
        **extra,
    }


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
    assert moto_gaps.runtime().usage["fail"].requests == 2


def test_boto3_invoke_reports_a_handler_error_like_lambda(aws):
    create_function("fail", "fail")

    response = boto3.client("lambda").invoke(FunctionName="fail", Payload=b"{}")

    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "no mocha")


def test_event_invoke_runs_the_handler_after_the_call_returns_and_is_counted(aws):
    queue_url, _ = create_queue("output")
    create_function("record", "record", OUTPUT_QUEUE_URL=queue_url)

    response = boto3.client("lambda").invoke(
        FunctionName="record", InvocationType="Event", Payload=json.dumps({"n": 1})
    )
    moto_gaps.settle()

    assert response["StatusCode"] == 202
    assert received_bodies(queue_url) == [{"n": 1}]
    usage = moto_gaps.runtime().usage["record"]
    assert (usage.requests, usage.memory_mb) == (1, 128)
    assert usage.billed_duration_ms >= 1


# --- gap 4: SendTaskFailure keeps its cause -----------------------------------------------------------


def test_send_task_failure_cause_reaches_the_failed_execution(aws):
    sfn = boto3.client("stepfunctions")
    queue_url, queue_arn = create_queue("tokens")
    events = boto3.client("events")
    events.put_rule(Name="parked", EventPattern=json.dumps({"source": ["test.parked"]}))
    events.put_targets(Rule="parked", Targets=[{"Id": "queue", "Arn": queue_arn}])
    machine_arn = create_machine({"StartAt": "Park", "States": {"Park": PARK_ON_TOKEN}})
    execution_arn = sfn.start_execution(stateMachineArn=machine_arn)["executionArn"]
    moto_gaps.settle()
    token = received_bodies(queue_url)[0]["detail"]["token"]

    sfn.send_task_failure(taskToken=token, error="OrderNotAccepted", cause="the barista said no")
    moto_gaps.settle()

    result = describe(execution_arn)
    assert (result["status"], result["error"], result["cause"]) == (
        "FAILED",
        "OrderNotAccepted",
        "the barista said no",
    )


# --- gap 5: StartSyncExecution ------------------------------------------------------------------------


def test_start_sync_execution_returns_the_output_of_an_express_workflow(aws):
    machine_arn = create_machine(
        {"StartAt": "Answer", "States": {"Answer": {"Type": "Pass", "Result": {"ok": True}, "End": True}}},
        machine_type="EXPRESS",
    )

    response = boto3.client("stepfunctions").start_sync_execution(stateMachineArn=machine_arn, input="{}")

    assert response["status"] == "SUCCEEDED"
    assert json.loads(response["output"]) == {"ok": True}
    assert response["executionArn"].split(":")[5] == "express"
    assert response["stopDate"] >= response["startDate"]


def test_start_sync_execution_reports_error_and_cause_of_a_failed_workflow(aws):
    machine_arn = create_machine(
        {
            "StartAt": "Reject",
            "States": {"Reject": {"Type": "Fail", "Error": "InvalidOrder", "Cause": "no such"}},
        },
        machine_type="EXPRESS",
    )

    response = boto3.client("stepfunctions").start_sync_execution(stateMachineArn=machine_arn)

    assert (response["status"], response["error"], response["cause"]) == ("FAILED", "InvalidOrder", "no such")
    assert "output" not in response


# --- gap 6: EventBridge delivers to Step Functions and Lambda targets --------------------------------


def put_event(detail: dict, detail_type: str = "Order.Placed") -> None:
    boto3.client("events").put_events(
        Entries=[{"Source": "test.shop", "DetailType": detail_type, "Detail": json.dumps(detail)}]
    )


def route(rule: str, *targets: dict, source: str = "test.shop") -> None:
    events = boto3.client("events")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))
    events.put_targets(Rule=rule, Targets=list(targets))


def test_rule_starts_the_target_workflow_with_the_whole_event_and_still_feeds_its_queue(aws):
    sfn = boto3.client("stepfunctions")
    machine_arn = create_machine({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
    queue_url, queue_arn = create_queue("audit")
    route(
        "orders",
        {"Id": "workflow", "Arn": machine_arn, "RoleArn": ROLE_ARN},
        {"Id": "audit", "Arn": queue_arn},
    )

    put_event({"orderId": "1"})
    moto_gaps.settle()

    [execution] = sfn.list_executions(stateMachineArn=machine_arn)["executions"]
    received = json.loads(describe(execution["executionArn"])["input"])
    assert received["detail-type"] == "Order.Placed"
    assert received["detail"] == {"orderId": "1"}
    assert {"version", "id", "source", "account", "time", "region", "resources"} <= set(received)
    assert [body["detail"] for body in received_bodies(queue_url)] == [{"orderId": "1"}]


def test_target_input_path_selects_what_the_workflow_receives(aws):
    machine_arn = create_machine({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
    route("orders", {"Id": "workflow", "Arn": machine_arn, "RoleArn": ROLE_ARN, "InputPath": "$.detail"})

    put_event({"orderId": "2"})
    moto_gaps.settle()

    [execution] = boto3.client("stepfunctions").list_executions(stateMachineArn=machine_arn)["executions"]
    assert json.loads(describe(execution["executionArn"])["input"]) == {"orderId": "2"}


def test_rule_invokes_the_target_function_asynchronously_with_the_event(aws):
    queue_url, _ = create_queue("output")
    function_arn = create_function("record", "record", OUTPUT_QUEUE_URL=queue_url)
    route("orders", {"Id": "function", "Arn": function_arn, "Input": json.dumps({"fixed": True})})

    put_event({"orderId": "3"})
    moto_gaps.settle()

    assert received_bodies(queue_url) == [{"fixed": True}]


def test_failing_target_function_is_retried_then_dead_lettered_by_the_function_not_the_rule(aws):
    rule_dlq_url, rule_dlq_arn = create_queue("rule-dlq")
    failures_url, failures_arn = create_queue("function-failures")
    function_arn = create_function("fail", "fail")
    boto3.client("lambda").put_function_event_invoke_config(
        FunctionName="fail", DestinationConfig={"OnFailure": {"Destination": failures_arn}}
    )
    route("orders", {"Id": "function", "Arn": function_arn, "DeadLetterConfig": {"Arn": rule_dlq_arn}})

    put_event({"orderId": "4"})
    moto_gaps.settle()

    assert moto_gaps.runtime().usage["fail"].requests == 1 + moto_gaps.DEFAULT_ASYNC_RETRIES
    [failure] = received_bodies(failures_url)
    assert failure["requestPayload"]["detail"] == {"orderId": "4"}
    assert received_bodies(rule_dlq_url) == []


def test_an_event_the_rule_cannot_hand_over_lands_in_the_rules_dead_letter_queue(aws):
    rule_dlq_url, rule_dlq_arn = create_queue("rule-dlq")
    missing = "arn:aws:lambda:us-east-1:123456789012:function:gone"
    route("orders", {"Id": "function", "Arn": missing, "DeadLetterConfig": {"Arn": rule_dlq_arn}})

    put_event({"orderId": "5"})
    moto_gaps.settle()

    [dead] = received_bodies(rule_dlq_url)
    assert dead["detail"] == {"orderId": "5"}


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
    moto_gaps.settle()

    assert moto_gaps.runtime().usage["fail"].requests == 1
    [record] = received_bodies(destination_url)
    assert record["requestPayload"] == {"n": 5}
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responsePayload"]["errorMessage"] == "no mocha"


def test_settle_waits_for_cascading_deliveries(aws):
    echo_arn = create_function("echo", "echo")
    machine_arn = create_machine(
        {"StartAt": "Echo", "States": {"Echo": invoke_task(echo_arn, Next="Park"), "Park": PARK_ON_TOKEN}}
    )
    route("orders", {"Id": "relay", "Arn": create_function("relay", "relay")})
    route("relayed", {"Id": "workflow", "Arn": machine_arn, "RoleArn": ROLE_ARN}, source="test.relay")

    put_event({"orderId": "6"})
    moto_gaps.settle()

    [execution] = boto3.client("stepfunctions").list_executions(stateMachineArn=machine_arn)["executions"]
    started = [event for event in history(execution["executionArn"]) if event["type"] == "TaskStarted"]
    assert [event["taskStartedEventDetails"]["resourceType"] for event in started] == ["lambda", "events"]


def test_settle_waits_until_a_running_execution_parks_on_its_callback(aws):
    function_arn = create_function("echo", "echo")
    machine_arn = create_machine(
        {
            "StartAt": "Echo",
            "States": {
                "Echo": invoke_task(function_arn, Next="Rest"),
                "Rest": {"Type": "Wait", "Seconds": 0, "Next": "Park"},
                "Park": PARK_ON_TOKEN,
            },
        }
    )
    execution_arn = boto3.client("stepfunctions").start_execution(stateMachineArn=machine_arn)["executionArn"]
    moto_gaps.settle()

    started = [event for event in history(execution_arn) if event["type"] == "TaskStarted"]
    assert [event["taskStartedEventDetails"]["resourceType"] for event in started] == ["lambda", "events"]


def _counter_table():
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName="aggregates",
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb


def _count(key: str) -> dict:
    return {
        "Update": {
            "TableName": "aggregates",
            "Key": {"PK": {"S": key}},
            "UpdateExpression": "SET val = if_not_exists(val, :zero) + :one",
            "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"}},
        }
    }


def _marker(key: str) -> dict:
    return {
        "Put": {
            "TableName": "aggregates",
            "Item": {"PK": {"S": key}},
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }


def test_a_cancelled_transaction_leaves_every_item_as_it_was(aws):
    dynamodb = _counter_table()
    dynamodb.transact_write_items(TransactItems=[_marker("event-1"), _count("total")])

    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[_count("total"), _count("latte"), _marker("event-1")])

    items = {i["PK"]["S"]: i for i in dynamodb.scan(TableName="aggregates")["Items"]}
    assert set(items) == {"event-1", "total"}
    assert items["total"]["val"] == {"N": "1"}


def test_a_committed_transaction_applies_every_item(aws):
    dynamodb = _counter_table()
    for event in ("event-1", "event-2"):
        dynamodb.transact_write_items(TransactItems=[_marker(event), _count("total"), _count("latte")])

    items = {i["PK"]["S"]: i for i in dynamodb.scan(TableName="aggregates")["Items"]}
    assert items["total"]["val"] == items["latte"]["val"] == {"N": "2"}
