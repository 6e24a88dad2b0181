"""IoT data plane: what the apps would receive on each topic (there is no MQTT broker here).

Gaps closed:
1. An account's ATS endpoint (``<prefix>-ats.iot.<region>.amazonaws.com``, what ``aws:iot/getEndpoint``
   answers the program) was not a host moto answers, so ``iot-data`` clients built on it got 404; it is
   routed to moto's IoT data plane now.
2. Every ``Publish`` is recorded in order with its topic and parsed payload (`published`), and handed to
   the listeners (`subscribe`) — how `serve` streams each topic to HTTP clients.

Not modelled: MQTT connections, subscriptions, retained messages, QoS delivery guarantees and the
identity pool's IoT policies (who may subscribe is not checked).
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ATS_HOST = r"https?://[a-z0-9]+-ats\.iot\.(.+)\.amazonaws\.com"
METERED_BYTES = 5 * 1024


@dataclass(frozen=True)
class Message:
    """One publish: its topic and its payload (parsed JSON when it is JSON, else text)."""

    sequence: int
    topic: str
    payload: Any


Listener = Callable[[Message], None]
_lock = threading.Lock()
_messages: list[Message] = []
_listeners: list[Listener] = []


def install() -> None:
    import moto.iotdata.urls as urls
    from moto import backend_index
    from moto.iotdata.models import IoTDataPlaneBackend

    if ATS_HOST not in urls.url_bases:
        urls.url_bases.append(ATS_HOST)
        backend_index.backend_url_patterns.append(("iotdata", re.compile(ATS_HOST)))
    original = IoTDataPlaneBackend.publish

    def publish(self: Any, topic: str, payload: bytes) -> None:
        original(self, topic, payload)
        _record(topic, payload)

    IoTDataPlaneBackend.publish = publish


def _record(topic: str, payload: bytes) -> None:
    text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else str(payload)
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = text
    with _lock:
        message = Message(len(_messages), topic, parsed)
        _messages.append(message)
        listeners = list(_listeners)
    for listener in listeners:
        listener(message)


def published(topic: str | None = None) -> list[Message]:
    """Every message published since the emulator started (of one topic), oldest first."""
    with _lock:
        return [m for m in _messages if topic is None or m.topic == topic]


def usage() -> dict[str, int]:
    """Publishes so far, and how IoT Core meters them: one message per started 5 KB of payload."""
    with _lock:
        sizes = [len(json.dumps(m.payload).encode()) for m in _messages]
    return {
        "messages": len(sizes),
        "billed_messages": sum(max(1, math.ceil(size / METERED_BYTES)) for size in sizes),
    }


def subscribe(listener: Listener) -> Callable[[], None]:
    """Call `listener` with every later message; returns the function that unsubscribes it."""
    with _lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def shutdown() -> None:
    """The emulator session ended: its messages go with it."""
    with _lock:
        _messages.clear()
