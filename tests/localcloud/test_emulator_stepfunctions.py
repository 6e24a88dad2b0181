"""Each Step Functions gap closed by localcloud.emulator.stepfunctions, shown with a tiny inline workflow."""

from __future__ import annotations

import json
import threading
import time

import boto3
import pytest

from localcloud import emulator
from tests.localcloud.emulator_helpers import (
    PARK_ON_TOKEN,
    PASS_ONLY,
    create_function,
    create_machine,
    create_queue,
    describe,
    history,
    invoke_task,
    next_token,
    park_on_token,
    queue_arn_of,
    received_bodies,
    run,
    tokens_tap,
)

# --- gap 1: aws-sdk integration casing ------------------------------------------------------------


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
    emulator.settle()
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


# --- gap 2: unnamed StartExecution ----------------------------------------------------------------


def test_two_unnamed_starts_give_two_distinct_executions(aws):
    sfn = boto3.client("stepfunctions")
    machine_arn = create_machine(PASS_ONLY)

    first = sfn.start_execution(stateMachineArn=machine_arn)["executionArn"]
    second = sfn.start_execution(stateMachineArn=machine_arn)["executionArn"]
    emulator.settle()

    assert first != second
    assert not first.endswith(":None")
    listed = {item["executionArn"] for item in sfn.list_executions(stateMachineArn=machine_arn)["executions"]}
    assert listed == {first, second}


# --- gap 3: SendTaskFailure keeps its cause -------------------------------------------------------


def test_send_task_failure_cause_reaches_the_failed_execution(aws):
    sfn = boto3.client("stepfunctions")
    queue_url, queue_arn = create_queue("tokens")
    events = boto3.client("events")
    events.put_rule(Name="parked", EventPattern=json.dumps({"source": ["test.parked"]}))
    events.put_targets(Rule="parked", Targets=[{"Id": "queue", "Arn": queue_arn}])
    machine_arn = create_machine({"StartAt": "Park", "States": {"Park": PARK_ON_TOKEN}})
    execution_arn = sfn.start_execution(stateMachineArn=machine_arn)["executionArn"]
    emulator.settle()
    token = received_bodies(queue_url)[0]["detail"]["token"]

    sfn.send_task_failure(taskToken=token, error="OrderNotAccepted", cause="the barista said no")
    emulator.settle()

    result = describe(execution_arn)
    assert (result["status"], result["error"], result["cause"]) == (
        "FAILED",
        "OrderNotAccepted",
        "the barista said no",
    )


# --- gap 4: StartSyncExecution --------------------------------------------------------------------


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


@pytest.mark.parametrize("bad", ["{not json", '{"drink": "Latte",}', '{"n": NaN}', '{"n": -Infinity}'])
def test_start_sync_execution_refuses_input_aws_cannot_parse_as_invalid_execution_input(aws, bad):
    machine_arn = create_machine(
        {"StartAt": "Answer", "States": {"Answer": {"Type": "Pass", "End": True}}}, machine_type="EXPRESS"
    )
    states = boto3.client("stepfunctions")

    with pytest.raises(states.exceptions.InvalidExecutionInput) as refused:
        states.start_sync_execution(stateMachineArn=machine_arn, input=bad)

    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# --- gap 5: thread hygiene and parking ------------------------------------------------------------


def test_leaving_the_emulator_stops_parked_executions_and_joins_their_threads():
    from moto.stepfunctions.parser.utils import TMP_THREADS

    with emulator.emulator():
        machine_arn = create_machine({"StartAt": "Park", "States": {"Park": PARK_ON_TOKEN}})
        sfn = boto3.client("stepfunctions")
        for _ in range(3):
            sfn.start_execution(stateMachineArn=machine_arn)
        emulator.settle()
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
    emulator.settle()

    sfn.stop_execution(executionArn=execution_arn)

    assert describe(execution_arn)["status"] == "ABORTED"


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
    emulator.settle()

    started = [event for event in history(execution_arn) if event["type"] == "TaskStarted"]
    assert [event["taskStartedEventDetails"]["resourceType"] for event in started] == ["lambda", "events"]


def test_settle_watches_only_the_executions_that_have_not_ended(aws):
    # settle() reads the workers every few milliseconds; a day's ended executions must not pile up there.
    from localcloud.emulator import core

    done = create_machine(PASS_ONLY, "done")
    parked = create_machine({"StartAt": "Park", "States": {"Park": PARK_ON_TOKEN}}, "parked")
    for _ in range(5):
        assert run(done)["status"] == "SUCCEEDED"
    execution_arn = boto3.client("stepfunctions").start_execution(stateMachineArn=parked)["executionArn"]
    emulator.settle()

    assert [worker._evaluation_details.execution_details.arn for worker in core.workers()] == [execution_arn]


# --- gap 6: a used or expired task token is refused ---------------------------------------------------


def wait_until(condition, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)
    return result


def start_parked(definition: dict, queue_url: str) -> tuple[str, str]:
    sfn = boto3.client("stepfunctions")
    execution_arn = sfn.start_execution(stateMachineArn=create_machine(definition))["executionArn"]
    emulator.settle()
    return execution_arn, next_token(queue_url)


def test_a_token_answered_once_is_refused_as_timed_out(aws):
    sfn = boto3.client("stepfunctions")
    queue_url = tokens_tap()
    execution_arn, token = start_parked({"StartAt": "Park", "States": {"Park": PARK_ON_TOKEN}}, queue_url)

    sfn.send_task_success(taskToken=token, output='{"served": true}')
    emulator.settle()

    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_success(taskToken=token, output='{"served": "twice"}')
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_failure(taskToken=token, error="Late")
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.send_task_success(taskToken="never-issued", output="{}")
    result = describe(execution_arn)
    assert (result["status"], json.loads(result["output"])) == ("SUCCEEDED", {"served": True})


def test_a_token_is_answered_without_searching_the_other_executions(aws, monkeypatch):
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    sfn = boto3.client("stepfunctions")
    queue_url = tokens_tap()
    done = create_machine(PASS_ONLY, "done")
    for _ in range(3):
        run(done)
    execution_arn, token = start_parked({"StartAt": "Park", "States": {"Park": PARK_ON_TOKEN}}, queue_url)

    def search(self, execution_status=None):
        raise AssertionError("the answer searched every execution for its token")

    monkeypatch.setattr(StepFunctionsParserBackend, "_get_executions", search)
    # Another region's endpoint does not know the token, as on AWS.
    with pytest.raises(sfn.exceptions.InvalidToken):
        boto3.client("stepfunctions", region_name="eu-west-1").send_task_success(taskToken=token, output="{}")
    sfn.send_task_success(taskToken=token, output='{"served": true}')
    emulator.settle()
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_success(taskToken=token, output="{}")
    monkeypatch.undo()

    assert describe(execution_arn)["status"] == "SUCCEEDED"


def test_a_used_token_is_refused_while_its_execution_waits_on_the_next_one(aws):
    sfn = boto3.client("stepfunctions")
    queue_url = tokens_tap()
    make = park_on_token(Next="Hand")
    del make["End"]
    definition = {"StartAt": "Make", "States": {"Make": make, "Hand": PARK_ON_TOKEN}}
    execution_arn, make_token = start_parked(definition, queue_url)
    sfn.send_task_success(taskToken=make_token, output="{}")
    emulator.settle()
    hand_token = next_token(queue_url)

    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_success(taskToken=make_token, output='{"made": "again"}')
    assert describe(execution_arn)["status"] == "RUNNING"

    sfn.send_task_success(taskToken=hand_token, output='{"handed": true}')
    emulator.settle()
    result = describe(execution_arn)
    assert (result["status"], json.loads(result["output"])) == ("SUCCEEDED", {"handed": True})


def test_of_two_concurrent_answers_to_one_token_exactly_one_is_accepted(aws):
    queue_url = tokens_tap()
    execution_arn, token = start_parked({"StartAt": "Park", "States": {"Park": PARK_ON_TOKEN}}, queue_url)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def answer(output: str) -> None:
        client = boto3.client("stepfunctions")
        barrier.wait(10)
        try:
            client.send_task_success(taskToken=token, output=output)
            outcomes.append(output)
        except client.exceptions.TaskTimedOut:
            outcomes.append("refused")

    threads = [threading.Thread(target=answer, args=(json.dumps({"n": n}),)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    emulator.settle()

    [accepted] = [outcome for outcome in outcomes if outcome != "refused"]
    assert outcomes.count("refused") == 1
    assert describe(execution_arn)["output"] == accepted


def test_a_token_whose_task_timed_out_is_refused_while_the_execution_runs_on(aws):
    sfn = boto3.client("stepfunctions")
    queue_url = tokens_tap()
    waiting = park_on_token(TimeoutSeconds=1, Catch=[{"ErrorEquals": ["States.Timeout"], "Next": "Next"}])
    del waiting["End"]
    definition = {"StartAt": "Wait", "States": {"Wait": waiting, "Next": PARK_ON_TOKEN}}
    execution_arn, expired = start_parked(definition, queue_url)
    # the execution catches the timeout and parks on its next task
    wait_until(lambda: boto3.client("sqs").receive_message(QueueUrl=queue_url).get("Messages"))

    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_success(taskToken=expired, output="{}")
    assert describe(execution_arn)["status"] == "RUNNING"


def test_a_token_whose_task_timed_out_is_refused_after_the_execution_failed(aws):
    sfn = boto3.client("stepfunctions")
    queue_url = tokens_tap()
    definition = {"StartAt": "Wait", "States": {"Wait": park_on_token(TimeoutSeconds=1)}}
    execution_arn, expired = start_parked(definition, queue_url)
    # The 1 s timeout runs on real time here: wait for it to end the run rather than sleep past it (a
    # busy machine may wake the execution's thread later than the deadline).
    wait_until(lambda: describe(execution_arn)["status"] != "RUNNING")
    assert (describe(execution_arn)["status"], describe(execution_arn)["error"]) == (
        "FAILED",
        "States.Timeout",
    )

    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_success(taskToken=expired, output="{}")
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_heartbeat(taskToken=expired)


# --- gap 7: one parsed program per definition ---------------------------------------------------


def _eval_components_reachable_from(root):
    """Every interpreter component reachable from ``root`` by any reference (not the walk under test)."""
    import gc

    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    seen, stack, found = {id(root)}, [root], []
    while stack:
        node = stack.pop()
        if isinstance(node, EvalComponent):
            found.append(node)
        for referent in gc.get_referents(node):
            if id(referent) not in seen and not isinstance(referent, (type, str, int, float, bytes)):
                seen.add(id(referent))
                stack.append(referent)
    return found


def test_every_run_of_a_definition_gets_one_program_whose_heap_keys_are_drawn_before_it_is_shared(
    aws, monkeypatch
):
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    handed_out = []
    original = ExecutionWorker._get_evaluation_entrypoint

    def spy(self):
        program = original(self)
        components = _eval_components_reachable_from(program)
        handed_out.append((program, all("_EvalComponent__heap_key" in vars(c) for c in components)))
        return program

    monkeypatch.setattr(ExecutionWorker, "_get_evaluation_entrypoint", spy)
    # A retrier reads its heap key only when its task fails: the key must be drawn before any run.
    function_arn = create_function("fail", "fail")
    retry = [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "MaxAttempts": 1}]
    machine_arn = create_machine(
        {"StartAt": "Fail", "States": {"Fail": invoke_task(function_arn, Retry=retry, End=True)}}
    )

    assert run(machine_arn)["status"] == run(machine_arn)["status"] == "FAILED"

    (first, keys_drawn_before_the_first_run), (second, _) = handed_out
    assert second is first
    assert keys_drawn_before_the_first_run


def test_runs_of_one_program_at_once_each_keep_their_own_retry_count(aws):
    function_arn = create_function("fail", "fail")
    retry = [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1}]
    machine_arn = create_machine(
        {"StartAt": "Fail", "States": {"Fail": invoke_task(function_arn, Retry=retry, End=True)}}
    )
    sfn = boto3.client("stepfunctions")

    arns = [sfn.start_execution(stateMachineArn=machine_arn)["executionArn"] for _ in range(3)]
    emulator.settle()

    outcomes = [(describe(arn)["status"], describe(arn)["error"]) for arn in arns]
    assert outcomes == [("FAILED", "ValueError")] * 3
    assert emulator.runtime().usage["fail"].requests == 3 * 3  # each run: the first try and two retries


# --- gap 7b: state data copied as JSON -------------------------------------------------------------


def test_one_input_object_picked_twice_gives_two_independent_values(aws):
    machine_arn = create_machine(
        {
            "StartAt": "Pick",
            "States": {
                "Pick": {"Type": "Pass", "Parameters": {"a.$": "$.drink", "b.$": "$.drink"}, "Next": "Mark"},
                "Mark": {"Type": "Pass", "Result": "hot", "ResultPath": "$.a.served", "End": True},
            },
        },
        machine_type="EXPRESS",
    )
    drink = {"name": "latte", "modifiers": [{"milk": "oat"}]}

    answer = boto3.client("stepfunctions").start_sync_execution(
        stateMachineArn=machine_arn, input=json.dumps({"drink": drink})
    )

    assert answer["status"] == "SUCCEEDED", answer.get("cause")
    assert json.loads(answer["output"]) == {"a": {**drink, "served": "hot"}, "b": drink}


def test_json_copy_copies_json_data_and_hands_anything_else_to_deepcopy():
    import datetime

    from localcloud.emulator.stepfunctions import json_copy

    class Tagged(dict):
        pass

    stamp = datetime.datetime(2026, 12, 3, tzinfo=datetime.UTC)
    original = {"order": {"items": [{"n": 1}, [2, 3]], "ok": True, "none": None, "price": 2.5}, "at": stamp}
    original["tagged"] = Tagged(inner={"x": [1]})

    copied = json_copy(original)

    assert copied == original
    assert copied["order"]["items"][0] is not original["order"]["items"][0]
    assert copied["order"]["items"][1] is not original["order"]["items"][1]
    assert type(copied["tagged"]) is Tagged and copied["tagged"]["inner"] is not original["tagged"]["inner"]
    copied["order"]["items"][0]["n"] = 99
    assert original["order"]["items"][0]["n"] == 1


# --- gap 8: refused DynamoDB requests are named as AWS names them ---------------------------------


def test_a_dynamodb_task_whose_request_is_refused_fails_as_amazon_dynamodb_exception(aws):
    boto3.client("dynamodb").create_table(
        TableName="orders",
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    machine_arn = create_machine(
        {
            "StartAt": "Read",
            "States": {
                "Read": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::dynamodb:getItem",
                    "Parameters": {"TableName": "orders", "Key": {"PK": {"S.$": "$.id"}}},
                    "End": True,
                }
            },
        },
        machine_type="EXPRESS",
    )

    answer = boto3.client("stepfunctions").start_sync_execution(
        stateMachineArn=machine_arn, input=json.dumps({"id": ""})
    )

    assert (answer["status"], answer["error"]) == ("FAILED", "DynamoDB.AmazonDynamoDBException")
    assert "Error Code: ValidationException" in answer["cause"]


def test_a_dynamodb_task_whose_parameters_name_a_missing_path_fails_as_a_runtime_error(aws):
    machine_arn = create_machine(
        {
            "StartAt": "Read",
            "States": {
                "Read": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::dynamodb:getItem",
                    "Parameters": {"TableName": "orders", "Key": {"PK": {"S.$": "$.id"}}},
                    "Catch": [{"ErrorEquals": ["DynamoDB.AmazonDynamoDBException"], "Next": "Caught"}],
                    "End": True,
                },
                "Caught": {"Type": "Succeed"},
            },
        },
        machine_type="EXPRESS",
    )

    answer = boto3.client("stepfunctions").start_sync_execution(stateMachineArn=machine_arn, input="{}")

    assert (answer["status"], answer["error"]) == ("FAILED", "States.Runtime")
    assert "$.id" in answer["cause"]


# --- gap 10: an execution is RUNNING from the moment others can see it ----------------------------


def test_a_capacity_check_while_another_execution_is_being_started_counts_it_as_running(aws, monkeypatch):
    """Another order's StartExecution is held after moto appended the new execution but before it built
    its worker (the window a busy machine opens): a run's listExecutions sees it RUNNING and goes on."""
    from moto.stepfunctions.parser.backend.execution import Execution

    machine_arn = create_machine(
        {
            "StartAt": "ListExecutions",
            "States": {
                "ListExecutions": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:sfn:listExecutions",
                    "Parameters": {"StateMachineArn.$": "$$.StateMachine.Id", "StatusFilter": "RUNNING"},
                    "End": True,
                }
            },
        }
    )
    appended, release = threading.Event(), threading.Event()
    build_worker = Execution._get_start_execution_worker

    def held_for_the_check(self):
        if self.name == "being-started":
            appended.set()
            assert release.wait(10), "the test never let the start finish"
        return build_worker(self)

    monkeypatch.setattr(Execution, "_get_start_execution_worker", held_for_the_check)
    sfn = boto3.client("stepfunctions")
    starter = threading.Thread(
        target=sfn.start_execution, kwargs={"stateMachineArn": machine_arn, "name": "being-started"}
    )
    starter.start()
    try:
        assert appended.wait(10), "StartExecution never reached its worker"
        check = run(machine_arn)
        described = sfn.describe_execution(
            executionArn=machine_arn.replace(":stateMachine:", ":execution:") + ":being-started"
        )
    finally:
        release.set()
        starter.join(10)

    assert check["status"] == "SUCCEEDED", check.get("cause")
    listed = {item["Name"]: item["Status"] for item in json.loads(check["output"])["Executions"]}
    assert listed == {"being-started": "RUNNING", check["name"]: "RUNNING"}
    assert described["status"] == "RUNNING"
