"""Which IoT topic an event goes to, for each kind of app (pure): the staff's, the customer's own, or
everyone's config topic, and what the apps receive. The topic names are fixed: the hosted apps subscribe
to them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

ADMIN_TOPIC = "serverlesspresso-admin"
CONFIG_TOPIC = "serverlesspresso-config"
USER_TOPIC_PREFIX = "serverlesspresso-user-"
AUDIENCES = ("admin", "user", "config")
# A user id becomes part of a topic name: MQTT wildcards (+ #) and levels (/) would reach other topics.
SAFE_USER_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")
# What reaches no app (D15). A parked task's callback token answers that task for whoever holds it, and a
# run's execution id names it; no app needs either. The live QR code (`bucket.last_code`) is for the
# display, which reads it from `GET /qr-code` alone: on a topic, anyone who may read it could order from
# anywhere. The apps' identities may read every topic under `realtimeAccess: guests` (SYSTEM §8).
PRIVATE_FIELDS = frozenset({"TaskToken", "executionId", "executionArn"})
PRIVATE_BUCKET_FIELDS = frozenset({"last_code"})
# On the staff topic no customer is named: a customer's user id names that customer's topic. The display
# and barista apps read none of these (the barista reads `baristaUserId`, its own).
CUSTOMER_FIELDS = frozenset({"userId", "USERID"})


def topic_for(audience: str, detail: Mapping[str, Any]) -> str | None:
    """The topic of this event for `audience`; None when it has no such reader (no or unsafe userId)."""
    if audience == "admin":
        return ADMIN_TOPIC
    if audience == "config":
        return CONFIG_TOPIC
    if audience == "user":
        user_id = detail.get("userId")
        if isinstance(user_id, str) and SAFE_USER_ID.fullmatch(user_id):
            return USER_TOPIC_PREFIX + user_id
        return None
    raise ValueError(f"unknown audience {audience!r}; expected one of {', '.join(AUDIENCES)}")


def app_message(event: Mapping[str, Any], audience: str = "user") -> dict[str, Any]:
    """What the apps of `audience` receive: the event's type and its detail without the private fields,
    and on the staff topic without the customer's user id (also inside `drinkOrder`)."""
    detail = event.get("detail")
    if isinstance(detail, Mapping):
        hidden = PRIVATE_FIELDS | (CUSTOMER_FIELDS if audience == "admin" else frozenset())
        detail = {key: value for key, value in detail.items() if key not in hidden}
        if isinstance(detail.get("bucket"), Mapping):
            detail["bucket"] = {k: v for k, v in detail["bucket"].items() if k not in PRIVATE_BUCKET_FIELDS}
        if audience == "admin" and isinstance(detail.get("drinkOrder"), Mapping):
            detail["drinkOrder"] = {k: v for k, v in detail["drinkOrder"].items() if k not in CUSTOMER_FIELDS}
    return {"type": event.get("detail-type"), "detail": detail}
