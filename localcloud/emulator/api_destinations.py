"""EventBridge API destinations: rule targets that call an HTTP endpoint, delivered as AWS delivers them.

moto stores connections (API-key auth, the key in a Secrets Manager secret) and API destinations, but it
calls the endpoint only with ``MOTO_EVENTS_INVOKE_HTTP=true``, synchronously inside ``PutEvents``, with an
empty body and no API-key header. Every rule target whose ARN is an API destination is taken out of
moto's hands here (so moto's own call never happens, whatever that variable says):

1. The request: the destination's method to its endpoint (each ``*`` filled from the target's
   ``HttpParameters.PathParameterValues``, its ``QueryStringParameters`` and the connection's appended),
   the event, or the target's ``Input``/``InputPath``/``InputTransformer`` result, as the JSON body;
   ``Content-Type: application/json; charset=utf-8``, the target's ``HeaderParameters``, the connection's
   invocation headers and the API-key header, read from the connection's secret at each call (so a
   rotated key is used at once); a 5 s timeout, as AWS.
2. Asynchronous, on the shared delivery worker (``core.deliveries()``): after ``PutEvents`` returned.
   Each retry is a new job, so other deliveries are not held up behind a failing endpoint.
3. Retries as AWS retries API destinations: on 401, 407, 409, 429, any 5xx and no answer at all
   (refused, timed out), up to the target's ``RetryPolicy.MaximumRetryAttempts`` and while the event is
   younger than ``MaximumEventAgeInSeconds``; at once, without back-off. Any other status fails at once.
   A failed event goes to the target's dead-letter queue (body: what would have been sent; attributes
   ``RULE_ARN``, ``TARGET_ARN``, ``ERROR_CODE``, ``ERROR_MESSAGE``, ``RETRY_ATTEMPTS``); without one, it is
   logged and dropped, as AWS drops it.

Not modelled: the destination's invocation rate limit, OAuth and Basic auth, the connection's body
parameters. Tests: ``tests/localcloud/test_emulator_api_destinations.py``.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from localcloud.emulator import core, sqs
from localcloud.emulator.events import _full_event, _target_input

LOG = logging.getLogger(__name__)
TIMEOUT_SECONDS = 5.0
RETRIED_STATUSES = frozenset({401, 407, 409, 429})
DEFAULT_RETRY_ATTEMPTS = 185
DEFAULT_MAX_EVENT_AGE_SECONDS = 86400


def install() -> None:
    """Wrap the rule delivery (after ``events``): API destination targets are delivered here."""
    from moto.events.models import Rule

    delivered_before = Rule.send_to_targets

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        calls = [target for target in self.targets if is_api_destination(target["Arn"])]
        if calls and self.state != "DISABLED" and self.event_pattern.matches_event(original_event):
            event = _full_event(original_event)
            for target in calls:
                call = Call(target, _target_input(target, event), self.arn)
                core.deliveries().submit(call.attempt)
        others = copy.copy(self)
        others.targets = [target for target in self.targets if not is_api_destination(target["Arn"])]
        delivered_before(others, original_event, transform_input)

    Rule.send_to_targets = send_to_targets


def is_api_destination(arn: str) -> bool:
    parts = arn.split(":", 5)
    return len(parts) == 6 and parts[2] == "events" and parts[5].startswith("api-destination/")


class Undeliverable(Exception):
    """The event cannot be sent at all (e.g. the destination is gone): straight to the dead-letter queue."""


@dataclass
class Call:
    """One event on its way to one API destination target, with the attempts made so far."""

    target: dict[str, Any]
    payload: Any
    rule_arn: str
    started: float = field(default_factory=time.monotonic)
    attempts: int = 0

    def attempt(self) -> None:
        self.attempts += 1
        try:
            status, problem = self._send()
        except Undeliverable as gone:
            self._dead_letter("RESOURCE_NOT_FOUND", str(gone))
            return
        if problem is None:
            return
        retry = self.target.get("RetryPolicy") or {}
        retried = status is None or status in RETRIED_STATUSES or status >= 500
        retries_left = self.attempts <= int(retry.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS))
        young = time.monotonic() - self.started < int(
            retry.get("MaximumEventAgeInSeconds", DEFAULT_MAX_EVENT_AGE_SECONDS)
        )
        if retried and retries_left and young:
            core.deliveries().submit(self.attempt)
            return
        self._dead_letter("CONNECTION_FAILED" if status is None else f"HTTP_STATUS_{status}", problem)

    def _send(self) -> tuple[int | None, str | None]:
        """(status, None) when the endpoint took the event; (status or None, what went wrong) otherwise."""
        import requests

        method, url, headers = self._request()
        body = self.payload if isinstance(self.payload, str) else json.dumps(self.payload)
        try:
            answer = requests.request(
                method, url, data=body.encode(), headers=headers, timeout=TIMEOUT_SECONDS
            )
        except requests.RequestException as error:
            return None, f"{type(error).__name__}: {error}"
        if 200 <= answer.status_code < 300:
            return answer.status_code, None
        return answer.status_code, f"{method} {url} answered {answer.status_code}: {answer.text[:200]}"

    def _request(self) -> tuple[str, str, dict[str, str]]:
        from moto.events.models import events_backends
        from moto.secretsmanager.models import secretsmanager_backends

        _, _, _, region, account, resource = self.target["Arn"].split(":", 5)
        backend = events_backends[account][region]
        destination = backend.destinations.get(resource.split("/")[1])
        if destination is None or destination.arn != self.target["Arn"]:
            raise Undeliverable(f"API destination {self.target['Arn']} does not exist")
        connection = backend.connections.get(destination.connection_arn.split(":", 5)[5].split("/")[1])
        if connection is None:
            raise Undeliverable(f"connection {destination.connection_arn} does not exist")
        stored = secretsmanager_backends[account][region].get_secret_value(connection.secret_arn, None, None)
        secret = json.loads(stored["SecretString"])
        parameters = self.target.get("HttpParameters") or {}
        from_connection = secret.get("invocation_http_parameters") or {}

        url = destination.invocation_endpoint
        for value in parameters.get("PathParameterValues") or []:
            url = url.replace("*", value, 1)
        query = {
            **(parameters.get("QueryStringParameters") or {}),
            **{p["key"]: p["value"] for p in from_connection.get("query_string_parameters") or []},
        }
        if query:
            url += ("&" if "?" in url else "?") + urlencode(query)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Amazon/EventBridge/ApiDestinations",
            **(parameters.get("HeaderParameters") or {}),
            **{p["key"]: p["value"] for p in from_connection.get("header_parameters") or []},
        }
        if secret.get("api_key_name"):
            headers[secret["api_key_name"]] = secret["api_key_value"]
        return destination.http_method, url, headers

    def _dead_letter(self, code: str, message: str) -> None:
        attributes = {
            "RULE_ARN": self.rule_arn,
            "TARGET_ARN": self.target["Arn"],
            "ERROR_CODE": code,
            "ERROR_MESSAGE": message[:1000],
            "RETRY_ATTEMPTS": str(self.attempts - 1),
        }
        dead_letter_arn = (self.target.get("DeadLetterConfig") or {}).get("Arn")
        if not dead_letter_arn:
            LOG.warning("API destination call dropped (no dead-letter queue): %s", message)
            return
        body = self.payload if isinstance(self.payload, str) else json.dumps(self.payload)
        sqs.send_message(dead_letter_arn, body, attributes)
