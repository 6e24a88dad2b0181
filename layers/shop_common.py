"""What every shop function shares, shipped to them as a Lambda layer (`components/python_layer.py`):
its settings from the environment, strict reading of the EventBridge events it is given, and who the
caller of an API is."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

ORDERS_PARTITION = "orders"
OPEN_STATE = "CREATED"
# DynamoDB key limits: orderId is the order table's sort key, userId the GSI-userId partition key.
MAX_ORDER_ID_BYTES = 1024
MAX_USER_ID_BYTES = 2048
MAX_TASK_TOKEN_BYTES = 2048
# The OrderProcessor run's execution ARN, carried in its events; the order table's writers compare it.
MAX_EXECUTION_ID_BYTES = 2048


class MalformedEvent(ValueError):
    """The event cannot be applied to an order; nothing must be written."""


def endpoint_url(host: str) -> str | None:
    """The endpoint of a client that AWS reaches at a per-account host (the IoT data endpoint):
    ``https://<host>``, unless the environment names one endpoint for every client (``AWS_ENDPOINT_URL``,
    an emulator's), which then wins here as it does for every other client."""
    return None if os.environ.get("AWS_ENDPOINT_URL") else f"https://{host}"


def required_env(name: str) -> str:
    """A setting the infrastructure must give the function; missing, the function refuses to start."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise RuntimeError(f"environment variable {name} is not set; the infrastructure must provide it")
    return value


def event_detail(event: Any, expected_detail_type: str) -> Mapping[str, Any]:
    if not isinstance(event, Mapping):
        raise MalformedEvent(f"the event must be a JSON object, got {type(event).__name__}")
    envelope = EventBridgeEvent(dict(event))
    try:
        detail_type, detail = envelope.detail_type, envelope.detail
    except KeyError as missing:
        raise MalformedEvent(f"the event has no {missing}") from None
    if detail_type != expected_detail_type:
        raise MalformedEvent(f"detail-type must be {expected_detail_type!r}, got {str(detail_type)[:80]!r}")
    if not isinstance(detail, Mapping):
        raise MalformedEvent(f"detail must be a JSON object, got {type(detail).__name__}")
    return detail


def text_field(detail: Mapping[str, Any], name: str, max_bytes: int) -> str:
    value = detail.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedEvent(f"detail.{name} must be a non-empty string")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise MalformedEvent(f"detail.{name} is not valid Unicode text") from None
    if size > max_bytes:
        raise MalformedEvent(f"detail.{name} is {size} bytes, the limit is {max_bytes}")
    return value


def readable_text(detail: Any, name: str, max_bytes: int) -> str | None:
    """``detail[name]`` when it is usable text, else None (for what to do with an event being rejected)."""
    if not isinstance(detail, Mapping):
        return None
    try:
        return text_field(detail, name, max_bytes)
    except MalformedEvent:
        return None


ADMIN_GROUP = "admin"


def is_admin(claims: Mapping[str, Any] | None) -> bool:
    """API Gateway hands Cognito's groups over as text: ``admin``, or several, e.g. ``[admin, staff]``."""
    groups = str((claims or {}).get("cognito:groups") or "")
    return ADMIN_GROUP in re.split(r"[^A-Za-z0-9_-]+", groups)
