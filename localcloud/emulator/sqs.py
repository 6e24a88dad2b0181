"""SQS: moto's queues as they are, one cost removed, and the send used by the other services.

1. Cost that grew with volume (results unchanged): SQS checked each received message's retention by
   rebuilding every queue attribute (which counts all messages), quadratic in the queue length; the
   retention period is now read on its own.

``send_message(queue_arn, body, attributes)`` is how Lambda destinations and EventBridge dead-letter
queues put a message into a queue (directly in the backend: AWS's own deliveries are no API calls).
Lambda's SQS event source mappings are polled by ``sqs_pollers``.

Tests: ``tests/localcloud/test_emulator_sqs.py``.
"""

from __future__ import annotations

import time
from typing import Any


def install() -> None:
    _patch_retention_cost()


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
