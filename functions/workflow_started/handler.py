"""WorkflowStarted: record a new order as CREATED, with the task token that resumes its workflow.

Only a RUNNING OrderProcessor run for this very order may record it, and only the first run for an order
id does. The same event again is a no-op; a second run for the id is stopped (SendTaskFailure
``DuplicateOrder``, which the OrderProcessor ends quietly); a run whose event cannot be recorded is
stopped with ``InvalidOrderEvent``. Neither holds a capacity slot until the customer timeout. A malformed
event no run backs is raised, so it ends in the function's dead-letter queue.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError
from order_item import (
    DUPLICATE_ORDER,
    INVALID_ORDER_EVENT,
    AlreadyRecorded,
    RunClaim,
    after_conflict,
    claim_of,
    claim_of_order,
    order_put,
    parse_workflow_started,
    run_problem,
)
from shop_common import MalformedEvent, required_env

logger = Logger()
orders = boto3.resource("dynamodb").Table(required_env("ORDER_TABLE_NAME"))
ORDER_PROCESSOR_ARN = required_env("ORDER_PROCESSOR_ARN")
sfn = boto3.client("stepfunctions")
_deserializer = TypeDeserializer()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    try:
        order = parse_workflow_started(event)
    except MalformedEvent as problem:
        logger.error(
            "Rejected a malformed WorkflowStarted event; no order written", extra={"problem": str(problem)}
        )
        claim = claim_of(event)
        if claim is not None and backed_by_a_run(claim):
            # Handled: its run ends now with a named error (and its alarm); a retry could not do better.
            stop_run(claim.task_token, INVALID_ORDER_EVENT, f"The order cannot be recorded: {problem}")
            return
        raise
    logger.append_keys(orderId=order.order_id, executionId=order.execution_id)
    if not backed_by_a_run(claim_of_order(order)):
        return
    try:
        orders.put_item(**order_put(order, now_ms=time.time_ns() // 1_000_000))
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        existing = {k: _deserializer.deserialize(v) for k, v in error.response.get("Item", {}).items()}
        outcome = after_conflict(existing, order)
        if isinstance(outcome, AlreadyRecorded):
            logger.info("The same run's event again; the order is already recorded")
            return
        logger.warning(
            "Order id already taken by another run; stopping this run", extra={"userId": order.user_id}
        )
        stop_run(outcome.task_token, DUPLICATE_ORDER, outcome.cause)
        return
    logger.info("Order created", extra={"userId": order.user_id})


def backed_by_a_run(claim: RunClaim) -> bool:
    """The event names a RUNNING OrderProcessor run started for this order; else it is forged or stale."""
    try:
        described = sfn.describe_execution(executionArn=claim.execution_id)
    except (sfn.exceptions.ExecutionDoesNotExist, sfn.exceptions.InvalidArn) as error:
        problem = f"no such execution ({error.response['Error']['Code']})"
    else:
        problem = run_problem(described, claim, ORDER_PROCESSOR_ARN)
    if problem is not None:
        logger.warning(
            "Event not backed by an OrderProcessor run; nothing written", extra={"problem": problem}
        )
    return problem is None


def stop_run(task_token: str, error: str, cause: str) -> None:
    try:
        sfn.send_task_failure(taskToken=task_token, error=error, cause=cause[:32768])
    except (
        sfn.exceptions.TaskTimedOut,
        sfn.exceptions.TaskDoesNotExist,
        sfn.exceptions.InvalidToken,
    ) as ended:
        logger.info("The run had already ended", extra={"error": ended.response["Error"]["Code"]})
