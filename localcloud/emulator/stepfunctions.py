"""Step Functions: moto 5.2.5's interpreter (``execute_state_machine``) with its gaps closed.

1. aws-sdk integration casing: ``arn:aws:states:::aws-sdk:<service>:<action>`` tasks receive AWS-cased
   parameters (``StateMachineArn``) that boto3 rejects, and return boto3-cased results with datetimes.
   Parameters are renamed from the botocore input shape, results from the output shape, and datetimes
   become ISO-8601 strings, so ``sfn:listExecutions`` and ``sfn:sendTaskSuccess`` work as on AWS.
2. ``StartExecution`` without a name: moto builds an ARN ending in ``:None`` and a second unnamed start
   fails; an unnamed start now gets a uuid name, as on AWS.
3. ``SendTaskFailure`` dropped ``cause``; it is now passed to the waiting task.
4. ``StartSyncExecution`` (how an EXPRESS workflow is called synchronously) is routed: the request
   host ``sync-states.<region>`` is mocked and the execution runs to its end inside the call. Input that
   is not JSON as AWS parses it (``NaN``/``Infinity`` included) is ``InvalidExecutionInput``.
5. Thread hygiene: executions run on daemon threads (``TMP_THREADS``) that outlive ``mock_aws`` and
   ``StopExecution`` only flagged them. Stopping an execution now wakes its callback waits and joins
   its thread; ``shutdown()`` (leaving ``emulator()``) stops every execution and joins all interpreter
   threads before the mock ends, so nothing writes into the next test's backend. Every execution is
   registered with ``core`` and marks itself parked while it waits for a task token, a heartbeat or a
   Wait state, which is what ``settle()`` waits for.
6. Task tokens answer as on AWS: a token whose task is over (SendTaskSuccess/SendTaskFailure already
   accepted once, its ``TimeoutSeconds``/``HeartbeatSeconds`` expired, its execution stopped or
   ended) is refused with ``TaskTimedOut``, the error AWS and moto's parser provider give for a task
   that no longer exists; moto accepted a second SendTaskSuccess while the execution ran on, and
   answered ``InvalidToken`` once it had ended. Accepting an outcome is atomic, so of two concurrent
   answers exactly one wins. A token no execution ever issued stays ``InvalidToken``. Each token is
   looked up in an index of the tokens issued (moto searched every execution of the account and
   region for it, so each answer cost more as a day went on).
7. Costs per execution (results unchanged): the interpreter re-parsed its definition for every
   execution, and for every create or update of a state machine, and built a boto3 client for every
   task; parsed programs (one per definition and process) and clients are now reused. The state data
   the interpreter copies at every step (input, results, each JSONPath it extracts) is copied as JSON
   (``json_copy``) rather than by ``copy.deepcopy``.
8. DynamoDB task errors are named as AWS names them: an optimised ``dynamodb:*`` task whose request
   DynamoDB refuses as invalid (``ValidationException``, e.g. a key over its size limit) fails with
   ``DynamoDB.AmazonDynamoDBException`` (the SDK's name for an error it does not model), not
   ``DynamoDB.ValidationException``; the cause still names ``Error Code: ValidationException``. A task
   whose own parameters cannot be evaluated (a JSONPath that is not in the input) fails with
   ``States.Runtime`` before calling DynamoDB, as on AWS; moto reported it as a DynamoDB error, which a
   Catch of DynamoDB errors then caught.
9. The clock: every timed wait of the interpreter (a task's ``TimeoutSeconds``, a task token, a
   heartbeat, a Wait state) counts on the session's clock (``clock``), so with a virtual clock a
   timeout fires when the clock is advanced past it and never because the machine was slow. A wait
   whose deadline is due no longer counts as parked.
10. A started execution is RUNNING from the moment others can see it. moto appended a new execution
   to its state machine before giving it a status, then built its worker and only then set RUNNING;
   a ``ListExecutions`` or ``DescribeExecution`` in that window (another order's capacity check, on a
   busy machine) read a status of None and failed with ``States.Runtime``, which ended that run
   FAILED. As on AWS, where ``StartExecution`` returns an execution that is already RUNNING, the
   status is now set when the execution is created.

Tests: ``tests/localcloud/test_emulator_stepfunctions.py``.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import functools
import re
import sys
import threading
import time
import types
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import jsonpath_ng

from localcloud.emulator import clock, core


def install() -> None:
    _patch_clock()
    _patch_aws_sdk_casing()
    _patch_unnamed_start_execution()
    _patch_send_task_failure_cause()
    _patch_start_sync_execution()
    _patch_execution_threads()
    _patch_task_tokens()
    _patch_interpreter_costs()
    _patch_json_copies()
    _patch_dynamodb_error_names()
    _patch_status_from_creation()


def shutdown(timeout: float = 10.0) -> None:
    """Stop every execution, wake its waits and join every interpreter thread."""
    from moto.stepfunctions.parser.utils import TMP_THREADS

    deadline = time.monotonic() + timeout
    while True:
        for worker in core.workers():
            _stop_worker(worker)
        alive = [thread for thread in list(TMP_THREADS) if thread.is_alive()]
        if not alive:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(alive)} Step Functions interpreter threads did not stop")
        for thread in alive:
            thread.join(timeout=0.05)
    TMP_THREADS.clear()
    core.forget_workers()
    _token_executions.clear()


def busy_executions() -> list[str]:
    """ARNs of the executions that are neither finished nor parked (for ``settle()``'s error)."""
    return [
        worker._evaluation_details.execution_details.arn
        for worker in core.workers()
        if not core.is_quiescent(worker)
    ]


# --------------------------------------------------------------------------- gap 1: aws-sdk casing


@functools.cache
def _service_model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


def _operation_model(service: str, action: str) -> Any:
    return _service_model(service).operation_model(action[:1].upper() + action[1:])


def _iso_timestamps(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        utc = value.astimezone(datetime.UTC)
        return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, dict):
        return {key: _iso_timestamps(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_iso_timestamps(item) for item in value]
    return value


def _patch_aws_sdk_casing() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk,
    )

    StateTaskServiceAwsSdk = state_task_service_aws_sdk.StateTaskServiceAwsSdk

    def normalise_parameters(self, parameters, boto_service_name=None, service_action_name=None):
        operation = _operation_model(
            self._get_boto_service_name(boto_service_name), service_action_name or self.resource.api_action
        )
        if operation.input_shape is not None:
            self._to_boto_request(parameters, operation.input_shape)

    def normalise_response(self, response, boto_service_name=None, service_action_name=None):
        if not isinstance(response, dict):
            return
        operation = _operation_model(
            self._get_boto_service_name(boto_service_name), service_action_name or self.resource.api_action
        )
        if operation.output_shape is not None:
            self._from_boto_response(response, operation.output_shape)
        converted = _iso_timestamps(response)
        response.clear()
        response.update(converted)

    StateTaskServiceAwsSdk._normalise_parameters = normalise_parameters
    StateTaskServiceAwsSdk._normalise_response = normalise_response


# --------------------------------------------------------------------------- gaps 2 and 3: start / failure


def _patch_unnamed_start_execution() -> None:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend.start_execution

    def start_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):
        return original(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    StepFunctionsParserBackend.start_execution = start_execution


def _patch_send_task_failure_cause() -> None:
    from moto.core.responses import EmptyResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def send_task_failure(self):
        self.stepfunction_backend.send_task_failure(
            self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
        )
        return EmptyResult()

    StepFunctionResponse.send_task_failure = send_task_failure


# --------------------------------------------------------------------------- gap 4: StartSyncExecution


def _start_sync_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):
    from moto.stepfunctions.exceptions import InvalidExecutionInput  # named in the answer, as AWS names it
    from moto.stepfunctions.parser.api import StateMachineType, StateMachineTypeNotSupported
    from moto.stepfunctions.parser.backend.execution import SyncExecution

    state_machine = self.describe_state_machine(state_machine_arn)
    if state_machine.type != "EXPRESS":
        raise StateMachineTypeNotSupported("This operation is not supported by this type of state machine")
    input_data = execution_input or "{}"
    try:
        core.strict_json(input_data)
    except ValueError as error:
        raise InvalidExecutionInput(str(error)) from error
    name = name or str(uuid.uuid4())
    clone = copy.deepcopy(
        state_machine, {id(state_machine.executions): [], id(state_machine.backend): state_machine.backend}
    )
    execution = SyncExecution(
        name=name,
        sm_type=StateMachineType.EXPRESS,
        role_arn=clone.roleArn,
        exec_arn=f"arn:{self.partition}:states:{self.region_name}:{self.account_id}:express:"
        f"{state_machine.name}:{name}:{uuid.uuid4()}",
        account_id=self.account_id,
        region_name=self.region_name,
        state_machine=clone,
        start_date=datetime.datetime.now(tz=datetime.UTC),
        cloud_watch_logging_session=None,
        input_data=input_data,
        trace_header=trace_header,
        activity_store={},
    )
    execution.start()
    return execution.to_start_sync_execution_output()


def _patch_start_sync_execution() -> None:
    from moto import backend_index
    from moto.core.responses import ActionResult
    from moto.stepfunctions import urls
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend
    from moto.stepfunctions.responses import StepFunctionResponse

    sync_host = r"https?://sync-states\.(.+)\.amazonaws.com"
    if sync_host not in urls.url_bases:
        urls.url_bases.append(sync_host)
        backend_index.backend_url_patterns.append(("stepfunctions", re.compile(sync_host)))

    def start_sync_execution(self):
        output = self.stepfunction_backend.start_sync_execution(
            self._get_param("stateMachineArn"),
            self._get_param("name"),
            self._get_param("input", if_none="{}"),
            self._get_param("traceHeader"),
        )
        return ActionResult(dict(output))

    StepFunctionsParserBackend.start_sync_execution = _start_sync_execution
    StepFunctionResponse.start_sync_execution = start_sync_execution


# --------------------------------------------------------------------------- gap 9: the session's clock


def _patch_clock() -> None:
    """The interpreter's timed waits (a task's TimeoutSeconds, a callback, a heartbeat, a Wait state) are
    ``clock.ClockEvent`` waits, which count on the session's clock (real unless the session has a
    virtual one)."""
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state
    from moto.stepfunctions.parser.asl.eval import environment
    from moto.stepfunctions.parser.asl.eval.callback import callback

    with_clock_events = types.SimpleNamespace(**{**vars(threading), "Event": clock.ClockEvent})
    callback.Event = clock.ClockEvent
    environment.threading = with_clock_events
    execute_state.threading = with_clock_events


# --------------------------------------------------------------------------- gap 5: threads and parking


def _interrupt_waits(env: Any) -> None:
    for endpoint in list(env.callback_pool_manager._pool.values()):
        endpoint.interrupt_all()


def _stop_worker(worker: Any) -> None:
    env = worker.env
    if env is None:
        return
    if env.is_running():
        env.set_stop(stop_date=datetime.datetime.now(tz=datetime.UTC), cause=None, error=None)
    _interrupt_waits(env)


def _patch_execution_threads() -> None:
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
    from moto.stepfunctions.parser.asl.eval.callback.callback import (
        CallbackEndpoint,
        CallbackPoolManager,
        HeartbeatEndpoint,
    )
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
    from moto.stepfunctions.parser.backend.execution import Execution
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.utils import TMP_THREADS

    def start(self):
        thread = threading.Thread(target=self._execution_logic, daemon=True, name="sfn-execution")
        TMP_THREADS.append(thread)
        self._localcloud_thread = thread
        core.register_worker(self)
        thread.start()

    ExecutionWorker.start = start

    original_add = CallbackPoolManager.add

    def add(self, callback_id):
        endpoint = original_add(self, callback_id)
        endpoint._localcloud_pool = self
        return endpoint

    CallbackPoolManager.add = add

    original_setup_heartbeat = CallbackEndpoint.setup_heartbeat_endpoint

    def setup_heartbeat_endpoint(self, heartbeat_seconds):
        heartbeat = original_setup_heartbeat(self, heartbeat_seconds)
        heartbeat._localcloud_pool = getattr(self, "_localcloud_pool", None)
        return heartbeat

    CallbackEndpoint.setup_heartbeat_endpoint = setup_heartbeat_endpoint

    # A parked wait stops counting as parked once its event is set or its deadline is due on the clock,
    # so settle() waits for what a timeout sets off.
    original_wait = CallbackEndpoint.wait

    def wait(self, timeout=None):
        session_clock = clock.current()
        deadline = session_clock.deadline(timeout) if timeout is not None else float("inf")

        def released():
            return self._notify_event.is_set() or session_clock.due(deadline)

        with core.parked_while(getattr(self, "_localcloud_pool", None), released):
            return original_wait(self, timeout)

    CallbackEndpoint.wait = wait

    original_clear_and_wait = HeartbeatEndpoint.clear_and_wait

    def clear_and_wait(self):
        session_clock = clock.current()
        deadline = session_clock.deadline(self._heartbeat_seconds)

        def released():
            return self._next_heartbeat_event.is_set() or session_clock.due(deadline)

        with core.parked_while(getattr(self, "_localcloud_pool", None), released):
            return original_clear_and_wait(self)

    HeartbeatEndpoint.clear_and_wait = clear_and_wait

    original_wait_interval = WaitFunction._wait_interval

    def wait_interval(self, env, wait_seconds):
        session_clock = clock.current()
        deadline = session_clock.deadline(wait_seconds)
        with core.parked_while(
            env.callback_pool_manager, lambda: not env.is_running() or session_clock.due(deadline)
        ):
            if not session_clock.virtual:  # moto's loop re-enters the wait after an unrelated wake-up
                return original_wait_interval(self, env, wait_seconds)
            while env.is_running() and not session_clock.due(deadline) and wait_seconds > 0:
                if env.program_state_event.wait(deadline - session_clock.now()):
                    break
            return None

    WaitFunction._wait_interval = wait_interval

    def stop(self, stop_date, error, cause):
        worker = self.exec_worker
        if worker is None or worker.env is None:
            return
        worker.env.set_stop(stop_date=stop_date, cause=cause, error=error)
        _interrupt_waits(worker.env)
        thread = getattr(worker, "_localcloud_thread", None)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    Execution.stop = stop

    # A woken callback wait ends in a timeout error; a stopped execution must stay ABORTED regardless.
    for name in ("set_error", "set_timed_out"):
        original_setter = getattr(Environment, name)

        def unless_stopped(self, *args, _original=original_setter, **kwargs):
            if not isinstance(self._program_state, ProgramStopped):
                _original(self, *args, **kwargs)

        setattr(Environment, name, unless_stopped)


# --------------------------------------------------------------------------- gap 6: used task tokens

_token_lock = threading.Lock()
_token_executions: dict[str, Any] = {}  # task token -> the moto Execution that issued it


def _patch_task_tokens() -> None:
    from moto.stepfunctions.parser.api import (
        ExecutionStatus,
        InvalidToken,
        SendTaskFailureOutput,
        TaskDoesNotExist,
        TaskTimedOut,
    )
    from moto.stepfunctions.parser.asl.eval.callback.callback import (
        CallbackConsumerTimeout,
        CallbackEndpoint,
        CallbackNotifyConsumerError,
        CallbackOutcomeFailure,
        CallbackOutcomeSuccess,
        CallbackPoolManager,
    )
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    # The interpreter interrupts a task's endpoint once the task is over, whatever ended it (an
    # outcome, a timeout, a stop): from then on the token belongs to no task.
    original_interrupt_all = CallbackEndpoint.interrupt_all

    def interrupt_all(self):
        with _token_lock:
            if self.consumer_error is None:
                self.report(CallbackConsumerTimeout())
        original_interrupt_all(self)

    CallbackEndpoint.interrupt_all = interrupt_all

    def answerable(endpoint: Any) -> None:
        """Raise as moto's backend expects when the task of ``endpoint`` no longer takes answers."""
        if endpoint.consumer_error is not None:
            raise CallbackNotifyConsumerError(callback_consumer_error=endpoint.consumer_error)
        if endpoint.get_outcome() is not None:  # answered, and its task has not woken up yet
            raise CallbackNotifyConsumerError(callback_consumer_error=CallbackConsumerTimeout())

    def notify(self, callback_id, outcome):
        with _token_lock:
            endpoint = self._pool.get(callback_id)
            if endpoint is None:
                return False
            answerable(endpoint)
            endpoint.notify(outcome=outcome)
            return True

    def heartbeat(self, callback_id):
        with _token_lock:
            endpoint = self._pool.get(callback_id)
            if endpoint is None:
                return False
            answerable(endpoint)
            return endpoint.notify_heartbeat()

    CallbackPoolManager.notify = notify
    CallbackPoolManager.heartbeat = heartbeat

    # moto's TaskTimedOut and TaskDoesNotExist carry no error code unless given one (InvalidToken does).
    gone = "Task Timed Out: 'Provided task does not exist anymore'"

    # Which execution issued each token: the interpreter's environment tells its callback pool whose it
    # is, and the pool records each token it issues. Cleared with the session (``shutdown``).
    original_environment = ExecutionWorker._get_evaluation_environment

    def evaluation_environment(self):
        env = original_environment(self)
        communication = getattr(self, "_execution_communication", None)
        env.callback_pool_manager._localcloud_execution = getattr(communication, "execution", None)
        return env

    ExecutionWorker._get_evaluation_environment = evaluation_environment

    for name in ("add", "add_activity_task"):
        original_add = getattr(CallbackPoolManager, name)

        def add(self, callback_id, *args, _original=original_add, **kwargs):
            endpoint = _original(self, callback_id, *args, **kwargs)
            execution = getattr(self, "_localcloud_execution", None)
            if execution is not None:
                _token_executions[callback_id] = execution
            return endpoint

        setattr(CallbackPoolManager, name, add)

    def issuer(backend: Any, task_token: str) -> list[Any]:
        """The execution that issued ``task_token`` if this backend (account and region) holds it; every
        execution when the token is not in the index (the search moto made)."""
        execution = _token_executions.get(task_token)
        if execution is None:
            return backend._get_executions()
        _, _, _, region, account, _ = execution.exec_arn.split(":", 5)
        return [execution] if (region, account) == (backend.region_name, backend.account_id) else []

    def answer(backend: Any, task_token: str, send: Callable[[Any], bool]) -> None:
        """Find the execution that issued ``task_token`` (in ANY status: moto looked only at RUNNING
        ones for success and heartbeat, so an ended execution's token was ``InvalidToken``)."""
        for execution in issuer(backend, task_token):
            worker = getattr(execution, "exec_worker", None)
            env = getattr(worker, "env", None)
            if env is None or env.callback_pool_manager.get(task_token) is None:
                continue
            if execution.exec_status != ExecutionStatus.RUNNING:
                raise TaskTimedOut(gone, "TaskTimedOut")
            try:
                if send(env.callback_pool_manager):
                    return
            except CallbackNotifyConsumerError as consumer_error:
                if isinstance(consumer_error.callback_consumer_error, CallbackConsumerTimeout):
                    raise TaskTimedOut(gone, "TaskTimedOut") from None
                raise TaskDoesNotExist("Task does not exist", "TaskDoesNotExist") from None
        # As in moto, also for a heartbeat to a task without HeartbeatSeconds.
        raise InvalidToken()

    def send_task_success(self, task_token, outcome):
        success = CallbackOutcomeSuccess(callback_id=task_token, output=outcome)
        answer(self, task_token, lambda pool: pool.notify(callback_id=task_token, outcome=success))

    def send_task_failure(self, task_token, error=None, cause=None):
        failure = CallbackOutcomeFailure(callback_id=task_token, error=error, cause=cause)
        answer(self, task_token, lambda pool: pool.notify(callback_id=task_token, outcome=failure))
        return SendTaskFailureOutput()

    def send_task_heartbeat(self, task_token):
        answer(self, task_token, lambda pool: pool.heartbeat(callback_id=task_token))

    StepFunctionsParserBackend.send_task_success = send_task_success
    StepFunctionsParserBackend.send_task_failure = send_task_failure
    StepFunctionsParserBackend.send_task_heartbeat = send_task_heartbeat


# --------------------------------------------------------------------------- gap 7: costs per execution


def components(program: Any) -> Iterator[Any]:
    """Every object of the interpreter's parse tree under ``program``, each once."""
    seen: set[int] = set()
    stack = [program]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, (list, tuple, set, frozenset)):
            stack.extend(node)
        elif type(node).__module__.startswith(_PARSE_TREE_MODULES):
            yield node
            stack.extend(vars(node).values() if hasattr(node, "__dict__") else ())


_PARSE_TREE_MODULES = "moto.stepfunctions.parser.asl.component"


def shared_program(program: Any) -> Any:
    """``program`` made safe to run by many executions at once: every component's heap key drawn."""
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    for component in components(program):
        if isinstance(component, EvalComponent):
            component.heap_key  # noqa: B018 (drawn now, once, instead of by the first run to retry)
    return program


def _patch_interpreter_costs() -> None:
    """The Step Functions interpreter, cheaper per execution with behaviour unchanged.

    Measured on 2 cores: an OrderManager run spent ~75 % of its time re-parsing its definition with
    ANTLR, and every task built a new boto3 client. This keeps one parsed program per definition, which
    every execution of it runs, and one boto3 client per (region, service) (boto3 clients are
    thread-safe; moto intercepts them whichever mock is active).

    A parsed program holds no state of a run: the interpreter keeps that in the execution's environment
    (its frames, their heaps, the context object), which is why one Map state's iterations already run
    the same parsed states at once. The one thing a component sets after it is built is its heap key,
    drawn the first time a retrier reads its attempt count; two runs drawing it at once could each keep
    a different key and lose the count. ``shared_program`` draws every key before the program is shared.
    (Before, each execution unpickled its own copy: 2.8 ms a run, 6 % of a simulated day.)
    """
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.utils import boto_client, json_path
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    lock = threading.Lock()
    programs: dict[str, Any] = {}

    def parsed(definition: str) -> Any:
        with lock:
            program = programs.get(definition)
        if program is None:
            program = shared_program(AmazonStateLanguageParser.parse(definition)[0])
            with lock:
                program = programs.setdefault(definition, program)
        return program

    def evaluation_entrypoint(self: Any) -> Any:
        return parsed(self._evaluation_details.state_machine_details.definition)

    ExecutionWorker._get_evaluation_entrypoint = evaluation_entrypoint

    # Creating or updating a state machine parsed its definition too (to validate it): the same
    # definition, created again in every test and every deploy, is now parsed once per process; one
    # that fails to parse is not cached, so it is refused every time, as before.
    original_validate = StepFunctionsParserBackend._validate_definition

    def validate_definition(definition: str) -> None:
        with lock:
            known = definition in programs
        if not known:
            original_validate(definition)
            with contextlib.suppress(Exception):  # valid to moto but not executable: fails at the start
                parsed(definition)

    StepFunctionsParserBackend._validate_definition = staticmethod(validate_definition)

    # The interpreter imported JSONPath's parsers by name; point those names at the cached ones.
    json_path.parse = core.cached_jsonpath_parse()
    result_path.parse = functools.lru_cache(maxsize=4096)(jsonpath_ng.parse)

    original_client_for = boto_client.boto_client_for
    clients: dict[tuple[str, str], Any] = {}

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        with lock:
            if (region, service) not in clients:
                clients[region, service] = original_client_for(region, service, state_credentials)
            return clients[region, service]

    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions") and getattr(module, "boto_client_for", None) is (
            original_client_for
        ):
            module.boto_client_for = client_for


# --------------------------------------------------------------------------- gap 7b: copies of JSON data

_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def json_copy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """A deep copy of ``value`` that copies JSON data (dicts, lists, scalars) without ``copy.deepcopy``.

    The interpreter copies a state's input, its result and every JSONPath it extracts, for each state
    (e.g. ``frame.stack = copy.deepcopy(env.stack)``). These are JSON documents, and ``copy.deepcopy``
    pays for generality they never use (a memo of every object, ``__deepcopy__`` lookups): on a
    simulated day those copies were the largest single item of the interpreter's time. Anything else
    (a subclass of dict, a datetime, a failure event on the stack) is copied by ``copy.deepcopy``.

    One difference, on purpose: an object reached twice inside the value is copied twice, where
    ``deepcopy`` keeps the two references shared. State data is JSON, which has no shared references
    on AWS (each state gets its input deserialised), so two separate copies are what AWS gives.
    """
    cls = value.__class__
    if cls is dict:
        return {
            key: item if item.__class__ in _JSON_SCALARS else json_copy(item) for key, item in value.items()
        }
    if cls is list:
        return [item if item.__class__ in _JSON_SCALARS else json_copy(item) for item in value]
    if cls in _JSON_SCALARS:
        return value
    return copy.deepcopy(value, memo)


def _patch_json_copies() -> None:
    """Point the interpreter's ``copy.deepcopy`` at ``json_copy`` (only in its own modules)."""
    proxy = types.SimpleNamespace(**{name: getattr(copy, name) for name in copy.__all__})
    proxy.deepcopy = json_copy
    from moto.stepfunctions.parser.asl.parse import asl_parser  # noqa: F401  (imports every state's module)

    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser.asl") and getattr(module, "copy", None) is copy:
            module.copy = proxy


# --------------------------------------------------------------------------- gap 8: DynamoDB error names

UNMODELLED_DYNAMODB_ERRORS = frozenset({"ValidationException"})


def _patch_dynamodb_error_names() -> None:
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_dynamodb as service,
    )
    from moto.stepfunctions.parser.asl.utils.json_path import NoSuchJsonPathError

    task = service.StateTaskServiceDynamoDB
    original_cause = task._error_cause_from_client_error
    original_from_error = task._from_error

    def error_cause(client_error: Any) -> tuple[str, str]:
        error, cause = original_cause(client_error)
        if client_error.response["Error"]["Code"] in UNMODELLED_DYNAMODB_ERRORS:
            error = service._ERROR_NAME_AWS
        return error, cause

    def from_error(self: Any, env: Any, ex: Exception) -> Any:
        if isinstance(ex, FailureEventException):  # the state's own failure
            return ex.failure_event
        if isinstance(ex, NoSuchJsonPathError):  # its parameters name a path the input does not have
            return ExecutionState._from_error(self, env, RuntimeError(ex.message))
        return original_from_error(self, env, ex)

    task._error_cause_from_client_error = staticmethod(error_cause)
    task._from_error = from_error


# --------------------------------------------------------------------------- gap 10: status from creation


def _patch_status_from_creation() -> None:
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.backend.execution import Execution

    original_init = Execution.__init__

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.exec_status = ExecutionStatus.RUNNING  # moto's start() sets it again; nothing reads None

    Execution.__init__ = __init__
