"""Lambda: the real Python handlers, run in-process by ``lambda_runtime`` (moto would need Docker).

1. Invoke runs the handler in-process for boto3 ``lambda.invoke`` (RequestResponse, Event, DryRun) and
   for the Step Functions ``lambda:invoke`` task, with the function's environment and layers; moto
   would need Docker or only echo the payload. Errors come back as ``FunctionError: Unhandled`` so
   Retry/Catch behave, with Lambda's log tail in ``x-amz-log-result``. The function's environment is
   an overlay seen only by the invoking thread (``lambda_runtime.isolate_environment``, installed
   here): the process environment is never written, so other threads never read a half-applied one.
2. Asynchronous invocation (``InvocationType=Event`` and EventBridge rule targets) runs on the shared
   delivery worker after the call returned, with Lambda's async semantics: on error, retry up to the
   function's ``MaximumRetryAttempts`` (default 2) at once (no back-off), then the function's SQS
   on-failure destination; a success goes to its SQS on-success destination.
3. An SQS event source mapping made moto invoke the function inside ``SendMessage`` (synchronously, the
   whole receive batch, no partial failures). SQS mappings are now left to ``sqs_pollers``, which polls
   like Lambda does (batch size, batching window, maximum concurrency, throttling beyond the reserved
   concurrency, ``batchItemFailures``).

Tests: ``tests/localcloud/test_emulator_awslambda.py``.
"""

from __future__ import annotations

import base64
import datetime
import functools
import json
import logging
from typing import Any

from localcloud.emulator import core, sqs
from localcloud.emulator.lambda_runtime import FunctionConfig, InvocationResult, isolate_environment

LOG = logging.getLogger(__name__)
DEFAULT_ASYNC_RETRIES = 2


def install() -> None:
    isolate_environment()
    _patch_lambda_invoke()
    _patch_sqs_event_source_mappings()


# --------------------------------------------------------------------------- gap 1: Lambda in-process


def function_config(fn: Any) -> FunctionConfig:
    """Describe a moto ``LambdaFunction`` for ``LambdaRuntime``."""
    return FunctionConfig(
        name=fn.function_name,
        arn=fn.function_arn,
        handler=fn.handler or "handler.handler",
        code_zip=fn.code_bytes,
        code_sha256=fn.code_sha_256,
        environment=dict(fn.environment_vars or {}),
        memory_mb=int(fn.memory_size),
        timeout_s=int(fn.timeout),
        region=fn.region,
        layer_zips=tuple(_layer_zip(fn, layer["Arn"]) for layer in fn.layers or ()),
    )


def _layer_zip(fn: Any, layer_version_arn: str) -> bytes:
    from moto.awslambda.utils import get_backend as lambda_backend

    layer = lambda_backend(fn.account_id, fn.region).layers_versions_by_arn(layer_version_arn)
    return layer.code_bytes if layer is not None else b""


def _parse_payload(body: Any) -> Any:
    if isinstance(body, bytes):
        body = body.decode()
    return json.loads(body) if body else {}


def _log_tail(fn: Any, result: InvocationResult) -> str:
    lines = (
        f"START RequestId: {result.request_id} Version: $LATEST\n"
        f"END RequestId: {result.request_id}\n"
        f"REPORT RequestId: {result.request_id}\tDuration: {result.duration_ms:.2f} ms\t"
        f"Billed Duration: {result.billed_duration_ms} ms\tMemory Size: {fn.memory_size} MB\n"
    )
    return base64.b64encode(lines.encode()).decode()


def _invoke(self, function_name, qualifier, body, headers, response_headers):
    fn = self.get_function(function_name, qualifier)
    payload = _parse_payload(body)
    invocation_type = headers.get("X-Amz-Invocation-Type") or "RequestResponse"
    if invocation_type == "DryRun":
        return b""
    if invocation_type == "Event":
        core.deliveries().submit(functools.partial(invoke_async, fn, payload))
        return b""
    result = core.runtime().invoke(function_config(fn), payload)
    if result.failed:
        response_headers["x-amz-function-error"] = result.function_error
    response_headers["x-amz-executed-version"] = "$LATEST"
    response_headers["x-amz-log-result"] = _log_tail(fn, result)
    response_headers["Content-Length"] = str(len(result.payload))
    return result.payload


def _patch_lambda_invoke() -> None:
    from moto.awslambda.models import LambdaBackend
    from moto.awslambda_simple.models import LambdaSimpleBackend

    LambdaBackend.invoke = _invoke
    LambdaSimpleBackend.invoke = _invoke


# --------------------------------------------------------------------------- gap 2: asynchronous invocation


def invoke_async(fn: Any, payload: Any) -> None:
    """Lambda's asynchronous invocation: retries on error, then the function's on-failure destination.

    As on AWS, a handler's failure is the function's business, not the caller's: an EventBridge rule's
    dead-letter queue only receives events the rule could not hand to Lambda at all.
    """
    settings = fn.event_invoke_config[-1].config if fn.event_invoke_config else {}
    attempts = 1 + int(settings.get("MaximumRetryAttempts", DEFAULT_ASYNC_RETRIES))
    config = function_config(fn)
    for _ in range(attempts):
        result = core.runtime().invoke(config, payload)
        if not result.failed:
            _send_to_destination(settings, "OnSuccess", fn, payload, result, attempts)
            return
    _send_to_destination(settings, "OnFailure", fn, payload, result, attempts)


def _send_to_destination(settings, outcome, fn, payload, result: InvocationResult, attempts: int) -> None:
    destination = settings.get("DestinationConfig", {}).get(outcome, {}).get("Destination")
    if not destination:
        return
    if ":sqs:" not in destination:
        LOG.warning("only SQS async-invoke destinations are emulated, not %s", destination)
        return
    record = {
        "version": "1.0",
        "timestamp": datetime.datetime.now(tz=datetime.UTC).isoformat(),
        "requestContext": {
            "requestId": result.request_id,
            "functionArn": f"{fn.function_arn}:$LATEST",
            "condition": "Success" if outcome == "OnSuccess" else "RetriesExhausted",
            "approximateInvokeCount": attempts if result.failed else 1,
        },
        "requestPayload": payload,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            **({"functionError": result.function_error} if result.failed else {}),
        },
        "responsePayload": result.payload_json(),
    }
    sqs.send_message(destination, json.dumps(record))


# --------------------------------------------------------------------------- gap 3: SQS mappings are polled


def _patch_sqs_event_source_mappings() -> None:
    from moto.awslambda.models import LambdaBackend
    from moto.sqs.models import sqs_backends

    original = LambdaBackend.create_event_source_mapping

    def create_event_source_mapping(self, spec):
        mapping = original(self, spec)
        for sqs_queue in sqs_backends[self.account_id][self.region_name].queues.values():
            if sqs_queue.queue_arn == mapping.event_source_arn:
                sqs_queue.lambda_event_source_mappings.pop(mapping.function_arn, None)
        return mapping

    LambdaBackend.create_event_source_mapping = create_event_source_mapping
