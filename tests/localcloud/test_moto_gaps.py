"""Each moto gap closed by localcloud.moto_gaps, shown with a tiny inline workflow or function."""

from __future__ import annotations

import json
import threading

import boto3

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


def test_settle_waits_for_an_execution_to_reach_its_callback(aws):
    machine_arn = create_machine(
        {
            "StartAt": "Slow",
            "States": {
                "Slow": {"Type": "Wait", "Seconds": 0, "Next": "Park"},
                "Park": PARK_ON_TOKEN,
            },
        }
    )
    execution_arn = boto3.client("stepfunctions").start_execution(stateMachineArn=machine_arn)["executionArn"]
    moto_gaps.settle()

    entered = [event["type"] for event in history(execution_arn)]
    assert "TaskStarted" in entered
