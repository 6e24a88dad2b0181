"""EventBridge: rule targets moto cannot deliver, delivered as AWS does.

1. Step Functions and Lambda rule targets raised ``NotImplementedError`` in moto and stopped the rule's
   other targets. They are delivered now, honouring ``Input``/``InputPath``/``InputTransformer``: a
   state machine gets StartExecution with the whole event as input; a Lambda function gets an
   asynchronous invoke with Lambda's async semantics (``awslambda.invoke_async``). An event the rule
   cannot hand over at all (missing function or state machine) goes to the target's SQS dead-letter
   queue. Disabled rules deliver nothing. SQS/Logs/bus targets stay moto's.
   Delivery is ASYNCHRONOUS on the shared worker (``core.deliveries()``), as on AWS: a function that
   answers a ``putEvents.waitForTaskToken`` must not run inside the ``PutEvents`` call. ``settle()``
   makes tests deterministic.
2. Cost that grew with volume (results unchanged): EventBridge re-parsed the same JSONPath expressions
   for every event delivered to a target; parsed expressions are now cached (``core.cached_jsonpath_parse``).

Tests: ``tests/localcloud/test_emulator_events.py``.
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
from typing import Any

from localcloud.emulator import awslambda, core, sqs


def install() -> None:
    _patch_event_targets()
    core.cached_jsonpath_parse()


def _delivered_here(target: dict[str, Any]) -> bool:
    return target["Arn"].split(":")[2] in ("states", "lambda")


def _full_event(event: dict[str, Any]) -> dict[str, Any]:
    """The event as AWS hands it to a target (moto keeps ``time`` as epoch seconds and adds extras)."""
    when = event.get("time")
    if isinstance(when, (int, float)):
        when = datetime.datetime.fromtimestamp(when, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    keys = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")
    return {key: (when if key == "time" else copy.deepcopy(event.get(key))) for key in keys}


def _target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        from jsonpath_ng.ext import parse

        matches = parse(target["InputPath"]).find(event)
        return matches[0].value if matches else None
    if "InputTransformer" in target:
        from moto.events.utils import EventTemplateParser

        transformer = target["InputTransformer"]
        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=event,
        )
    return event


def _deliver_to_target(target: dict[str, Any], payload: Any, rule_arn: str) -> None:
    """Hand the event to the target; what cannot be handed over goes to the target's dead-letter queue."""
    from moto.awslambda.utils import get_backend as lambda_backend
    from moto.stepfunctions.responses import get_backend as sfn_backend

    _, _, service, region, account, _ = target["Arn"].split(":", 5)
    try:
        if service == "lambda":
            fn = lambda_backend(account, region).get_function(target["Arn"])
        else:
            sfn_backend(account, region).start_execution(target["Arn"], None, json.dumps(payload))
    except Exception as error:
        dead_letter_arn = target.get("DeadLetterConfig", {}).get("Arn")
        if not dead_letter_arn:
            raise
        sqs.send_message(
            dead_letter_arn,
            json.dumps(payload),
            {"ERROR_CODE": type(error).__name__, "ERROR_MESSAGE": str(error), "RULE_ARN": rule_arn},
        )
        return
    if service == "lambda":
        awslambda.invoke_async(fn, payload)


def _patch_event_targets() -> None:
    from moto.events.models import Rule

    original = Rule.send_to_targets

    def send_to_targets(self, original_event, transform_input=True):
        if self.state == "DISABLED" or not self.event_pattern.matches_event(original_event):
            return
        event = _full_event(original_event)
        for target in self.targets:
            if _delivered_here(target):
                payload = _target_input(target, event)
                core.deliveries().submit(functools.partial(_deliver_to_target, target, payload, self.arn))
        native = [target for target in self.targets if not _delivered_here(target)]
        if native:
            moto_rule = copy.copy(self)
            moto_rule.targets = native
            original(moto_rule, original_event, transform_input)

    Rule.send_to_targets = send_to_targets
