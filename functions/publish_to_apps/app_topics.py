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
# What stays between a workflow and its functions: the callback token of a parked task, which answers
# that task for whoever holds it. The apps' guest identities may read every topic (SYSTEM §8), and no
# app needs it.
PRIVATE_FIELDS = frozenset({"TaskToken"})


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


def app_message(event: Mapping[str, Any]) -> dict[str, Any]:
    """What the apps receive: the event's type and its detail without the private fields."""
    detail = event.get("detail")
    if isinstance(detail, Mapping):
        detail = {key: value for key, value in detail.items() if key not in PRIVATE_FIELDS}
    return {"type": event.get("detail-type"), "detail": detail}
