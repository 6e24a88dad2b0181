"""SQS: moto's queues as they are, one cost removed, and the send used by the other services.

1. Costs that grew with volume (results unchanged), each quadratic in the queue's length:
   - SQS checked each received message's retention by rebuilding every queue attribute (which counts
     all messages); the retention period is now read on its own.
   - Every send rebuilt every attribute too, to read one (content-based deduplication): the three
     message counts, each a pass over all messages, are skipped while a message is sent. Measured: a
     500-event burst into the metrics queue spent a third of its time counting messages.

2. Every message operation is atomic. moto let a receive walk a queue's in-flight set while another
   thread's delete or receive changed it ("Set changed size during iteration"); the receive failed
   after marking messages received, so they stayed invisible until their visibility timeout, and a
   poller's batch came late. Sends, receives, deletes, visibility changes and purges of a backend now
   run one at a time, as SQS applies them; a long-polling receive waits outside that lock.

3. Costs per message (results unchanged):
   - A receipt handle (185 lowercase letters, new on every receive) was drawn one ``random.choice`` at
     a time; the same alphabet and length now come from moto's random source in one ``choices`` call.
   - A delete walked the whole queue twice (once to find the handle, once to drop the message),
     building each message's list of handles on the way; it walks it once now, and refuses an unknown
     handle and ignores a handle already deleted as before.
   - Listing the visible messages read the clock twice per message; it reads it once per listing.

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
    _patch_atomic_messages()
    _patch_message_costs()


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


ATOMIC_OPERATIONS = (
    "send_message",
    "send_message_batch",
    "delete_message",
    "delete_message_batch",
    "change_message_visibility",
    "change_message_visibility_batch",
    "purge_queue",
)
_message_lock = threading.RLock()  # one for all queues: the operations are short and never wait inside


def _patch_atomic_messages() -> None:
    from moto.sqs.models import SQSBackend

    for name in ATOMIC_OPERATIONS:
        original = getattr(SQSBackend, name)

        def atomic(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with _message_lock:
                return _original(self, *args, **kwargs)

        setattr(SQSBackend, name, atomic)

    original_receive = SQSBackend.receive_message

    def receive_message(
        self: Any,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> Any:
        # moto's long poll waits inside the receive; here each attempt is atomic and the wait between
        # attempts holds no lock, so senders are never kept out by a waiting receiver.
        deadline = time.time() + (wait_seconds_timeout or 0)
        while True:
            with _message_lock:
                messages = original_receive(
                    self, queue_name, count, 0, visibility_timeout, message_attribute_names
                )
            if messages or time.time() >= deadline:
                return messages
            self.get_queue(queue_name).wait_for_messages(min(1.0, max(0.0, deadline - time.time())))

    SQSBackend.receive_message = receive_message


RECEIPT_HANDLE_LENGTH = 185


def _patch_message_costs() -> None:
    import string

    from moto.moto_api._internal import mock_random
    from moto.sqs import models
    from moto.sqs.exceptions import ReceiptHandleIsInvalid

    def generate_receipt_handle() -> str:
        return "".join(mock_random.choices(string.ascii_lowercase, k=RECEIPT_HANDLE_LENGTH))

    def messages(self: Any) -> list[Any]:
        now = models.unix_time_millis()
        return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]

    def delete_message(self: Any, receipt_handle: str) -> None:
        if receipt_handle in self.deleted_messages:
            return  # deleted before: SQS accepts the same delete again
        kept, deleted = [], []
        for message in self._messages:
            if message.receipt_handle == receipt_handle or receipt_handle in message._old_receipt_handles:
                deleted.append(message)
            else:
                kept.append(message)
        if not deleted:
            raise ReceiptHandleIsInvalid()
        for message in deleted:
            self.pending_messages.discard(message)
            self.deleted_messages.update(message.all_receipt_handles)
        self._messages = kept

    models.generate_receipt_handle = generate_receipt_handle
    models.Queue.messages = property(messages)
    models.Queue.delete_message = delete_message
