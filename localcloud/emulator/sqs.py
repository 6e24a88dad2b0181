"""SQS: moto's queues as they are, one cost removed, and the send used by the other services.

1. Costs that grew with volume (results unchanged), each quadratic in the queue's length:
   - SQS checked each received message's retention by rebuilding every queue attribute (which counts
     all messages); the retention period is now read on its own.
   - Every send rebuilt every attribute too, to read one (content-based deduplication): the three
     message counts, each a pass over all messages, are skipped while a message is sent. Measured: a
     500-event burst into the metrics queue spent a third of its time counting messages.

``send_message(queue_arn, body, attributes)`` is how Lambda destinations and EventBridge dead-letter
queues put a message into a queue (directly in the backend: AWS's own deliveries are no API calls).
Lambda's SQS event source mappings are polled by ``sqs_pollers``.

Tests: ``tests/localcloud/test_emulator_sqs.py``.
"""

from __future__ import annotations

import threading
import time
from typing import Any


def install() -> None:
    _patch_retention_cost()
    _patch_send_cost()


def send_message(queue_arn: str, body: str, attributes: dict[str, str] | None = None) -> None:
    """Put a message with string attributes into the queue named by ``queue_arn``."""
    from moto.sqs.models import sqs_backends

    _, _, _, region, account, name = queue_arn.split(":", 5)
    message_attributes = {
        key: {"DataType": "String", "StringValue": value} for key, value in (attributes or {}).items()
    }
    sqs_backends[account][region].send_message(
        queue_name=name, message_body=body, message_attributes=message_attributes or None
    )


def _patch_retention_cost() -> None:
    from moto.sqs.models import SQSBackend

    def within_retention(self: Any, queue_name: str, message: Any) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return retention + message.sent_timestamp / 1000 > time.time()

    SQSBackend.is_message_valid_based_on_retention_period = within_retention


_sending = threading.local()
MESSAGE_COUNTS = (
    "approximate_number_of_messages",
    "approximate_number_of_messages_delayed",
    "approximate_number_of_messages_not_visible",
)


def _patch_send_cost() -> None:
    from moto.sqs.models import Queue, SQSBackend

    for name in MESSAGE_COUNTS:
        counted = getattr(Queue, name)

        def count(self: Any, _counted: property = counted) -> int:
            if getattr(_sending, "active", False):
                return 0  # not read by a send; counting would scan every message
            return _counted.fget(self)

        setattr(Queue, name, property(count))

    original_send = SQSBackend.send_message

    def send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        _sending.active = True
        try:
            return original_send(self, *args, **kwargs)
        finally:
            _sending.active = False

    SQSBackend.send_message = send_message
