"""SQS event source mappings, polled the way Lambda polls them (moto would invoke inside SendMessage).

One `MappingPoller` per mapping runs as many threads as Lambda runs batches of that mapping at once: the
mapping's maximum concurrency (``ScalingConfig.MaximumConcurrency``) when it has one, else 5, Lambda's
initial poller count. The function's reserved concurrency does NOT slow the pollers down, as on AWS: a
batch received while the function already runs as many invocations as it reserves is throttled. It is
not processed, its messages stay in flight until the queue's visibility timeout and their receive count
is spent, so a message throttled ``maxReceiveCount`` times reaches the dead-letter queue unprocessed (the
reason to give a mapping a maximum concurrency within the reserved concurrency). Each thread:

1. waits (up to 1 s, so shutdown is quick) for a visible message on moto's queue, then receives it with
   the queue's own visibility timeout — no empty receives, unlike Lambda's 20 s long polls;
2. once it holds a message, keeps receiving until it has the mapping's ``BatchSize`` or the mapping's
   ``MaximumBatchingWindowInSeconds`` has passed since the first message;
3. takes one of the function's concurrency slots, or counts the batch as throttled and backs off;
4. invokes the function synchronously with Lambda's SQS event (``Records`` with ``messageId``,
   ``receiptHandle``, ``body``, ``attributes``, ``messageAttributes``, ``md5OfBody``, ``eventSource``,
   ``eventSourceARN``, ``awsRegion``);
5. deletes what succeeded: the whole batch when the function returned normally; with
   ``ReportBatchItemFailures``, all but the records named in ``batchItemFailures`` (a malformed or
   unknown identifier fails the whole batch, as on AWS); nothing when the function raised.

Failed messages become visible again after the queue's visibility timeout, and moto moves a message to
the queue's dead-letter queue once it has been received ``maxReceiveCount`` times (RedrivePolicy is
honoured by moto's ReceiveMessage; `tests/localcloud/test_pollers.py` proves it). The mapping's settings
are re-read for every batch, so a redeploy that changes them applies without restarting the poller.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import boto3
from moto.core import DEFAULT_ACCOUNT_ID

from localcloud.emulator import core
from localcloud.emulator.awslambda import function_config

LOG = logging.getLogger(__name__)
DEFAULT_CONCURRENCY = 5
RECEIVE_WAIT_SECONDS = 1
THROTTLE_BACKOFF_SECONDS = 0.2


class ConcurrencySlots:
    """Invocations of each function in flight, against its reserved concurrency (None: no limit)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}

    def take(self, function_arn: str, limit: int | None) -> bool:
        with self._lock:
            running = self._running.get(function_arn, 0)
            if limit is not None and running >= limit:
                return False
            self._running[function_arn] = running + 1
            return True

    def release(self, function_arn: str) -> None:
        with self._lock:
            self._running[function_arn] -= 1


SLOTS = ConcurrencySlots()


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One message as Lambda hands it to a function."""
    attributes = message.get("MessageAttributes") or {}
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in attributes.items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def failed_message_ids(response: Any, batch_ids: list[str]) -> list[str] | None:
    """The ids to keep from a ReportBatchItemFailures response; None: the whole batch failed."""
    if response is None:
        return []
    if not isinstance(response, dict):
        return []
    failures = response.get("batchItemFailures")
    if failures is None:
        return []
    if not isinstance(failures, list):
        return None
    kept = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in batch_ids:
            return None
        kept.append(identifier)
    return kept


class MappingPoller:
    """The pollers of one event source mapping (see the module doc)."""

    def __init__(self, mapping_uuid: str, region: str, account: str = DEFAULT_ACCOUNT_ID):
        self.uuid = mapping_uuid
        self.region = region
        self.account = account
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._busy = 0
        self._invoking = 0
        self.peak_concurrency = 0
        self.batches = 0
        self.records_deleted = 0
        self.records_failed = 0
        self.records_throttled = 0
        self._sqs = boto3.session.Session(region_name=region).client("sqs", region_name=region)
        mapping = self._mapping()
        self.queue_arn = mapping.event_source_arn
        self.queue_name = self.queue_arn.split(":")[-1]
        self.queue_url = self._sqs.get_queue_url(QueueName=self.queue_name)["QueueUrl"]
        self.concurrency = self._concurrency()
        self._threads = [
            threading.Thread(target=self._run, name=f"localcloud-poller-{self.queue_name}-{i}", daemon=True)
            for i in range(self.concurrency)
        ]

    # ----------------------------------------------------------------------- emulator lookups

    def _lambda_backend(self) -> Any:
        from moto.awslambda.utils import get_backend

        return get_backend(self.account, self.region)

    def _mapping(self) -> Any:
        return self._lambda_backend().get_event_source_mapping(self.uuid)

    def _function(self) -> Any:
        return self._lambda_backend().get_function(self._mapping().function_arn)

    def _concurrency(self) -> int:
        """Batches this mapping runs at once: its maximum concurrency, else Lambda's initial pollers."""
        maximum = (self._mapping().scaling_config or {}).get("MaximumConcurrency")
        return int(maximum) if maximum else DEFAULT_CONCURRENCY

    def _queue(self) -> Any:
        from moto.sqs.models import sqs_backends

        return sqs_backends[self.account][self.region].get_queue(self.queue_name)

    def visible_messages(self) -> int:
        return len(self._queue().messages)

    # ----------------------------------------------------------------------- lifecycle

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=RECEIVE_WAIT_SECONDS + 30)

    def _wait_for_messages(self, seconds: float) -> bool:
        """Up to ``seconds`` for a visible message, outside any API call (so no empty receive is made or
        billed); False when none came or the poller is stopping."""
        queue = self._queue()
        with queue._messages_lock:  # moto's condition, notified on every send (and by ``stop``)
            queue._messages_lock.wait_for(
                lambda: self._stop.is_set() or queue.messages, timeout=max(0.0, seconds)
            )
            return not self._stop.is_set() and bool(queue.messages)

    def _wake(self) -> None:
        """Wake the threads waiting for a message, so a stop takes effect at once, not after the wait."""
        from moto.sqs.exceptions import QueueDoesNotExist

        try:
            queue = self._queue()
        except QueueDoesNotExist:  # nothing waits on a queue that is gone
            return
        with queue._messages_lock:
            queue._messages_lock.notify_all()

    def idle(self) -> bool:
        """No batch held or being processed, and nothing visible in the queue."""
        with self._lock:
            busy = self._busy
        return busy == 0 and self.visible_messages() == 0

    # ----------------------------------------------------------------------- polling

    def _receive(self, count: int, wait: int) -> list[dict[str, Any]]:
        return self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(10, count)),
            WaitTimeSeconds=wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                mapping = self._mapping()
                if not mapping.enabled:
                    self._stop.wait(0.2)
                    continue
                self._poll_once(mapping)
            except Exception:
                if self._stop.is_set():
                    return
                LOG.exception("poller of %s failed; retrying", self.queue_name)
                self._stop.wait(0.5)

    def _poll_once(self, mapping: Any) -> None:
        batch_size = int(mapping.batch_size or 10)
        window = float(mapping.max_batch_window or 0)
        # Wait for a visible message outside any API call (no empty receives billed), then take it.
        if not self._wait_for_messages(RECEIVE_WAIT_SECONDS):
            return
        with self._lock:
            self._busy += 1
        try:
            batch = self._receive(batch_size, 0)
            if not batch:
                return
            deadline = time.monotonic() + window
            while len(batch) < batch_size and time.monotonic() < deadline and not self._stop.is_set():
                # The window fills from messages sent meanwhile: wait for one, then take what is there.
                if self._wait_for_messages(deadline - time.monotonic()):
                    batch.extend(self._receive(batch_size - len(batch), 0))
            self._invoke(mapping, batch)
        finally:
            with self._lock:
                self._busy -= 1

    def _invoke(self, mapping: Any, batch: list[dict[str, Any]]) -> None:
        fn = self._function()
        reserved = fn.reserved_concurrency
        if not SLOTS.take(fn.function_arn, None if reserved is None else int(reserved)):
            # Throttled: the messages wait out their visibility timeout, their receive already counted.
            with self._lock:
                self.records_throttled += len(batch)
            self._stop.wait(THROTTLE_BACKOFF_SECONDS)
            return
        event = {"Records": [sqs_record(message, self.queue_arn, self.region) for message in batch]}
        with self._lock:
            self.batches += 1
            self._invoking += 1
            self.peak_concurrency = max(self.peak_concurrency, self._invoking)
        try:
            result = core.runtime().invoke(function_config(fn), event)
        finally:
            SLOTS.release(fn.function_arn)
            with self._lock:
                self._invoking -= 1
        ids = [message["MessageId"] for message in batch]
        if result.failed:
            kept: list[str] | None = None
        elif "ReportBatchItemFailures" in (mapping.function_response_types or []):
            kept = failed_message_ids(result.payload_json(), ids)
        else:
            kept = []
        if kept is None:
            kept = ids
        done = [message for message in batch if message["MessageId"] not in kept]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        with self._lock:
            self.records_deleted += len(done)
            self.records_failed += len(kept)


class Pollers:
    """Every SQS mapping of the emulator, each with its `MappingPoller`; `refresh` after each deploy."""

    def __init__(self, region: str, account: str = DEFAULT_ACCOUNT_ID):
        self.region = region
        self.account = account
        self.by_uuid: dict[str, MappingPoller] = {}

    def refresh(self) -> None:
        """Start pollers for mappings that have none; restart those whose concurrency changed."""
        from moto.awslambda.utils import get_backend

        backend = get_backend(self.account, self.region)
        for mapping in backend.list_event_source_mappings(event_source_arn=None, function_name=None):
            if ":sqs:" not in mapping.event_source_arn:
                continue
            poller = self.by_uuid.get(mapping.uuid)
            if poller is not None and poller.concurrency == poller._concurrency():
                continue
            if poller is not None:
                poller.stop()
            poller = MappingPoller(mapping.uuid, self.region, self.account)
            self.by_uuid[mapping.uuid] = poller
            poller.start()

    def idle(self) -> bool:
        return all(poller.idle() for poller in self.by_uuid.values())

    def stop(self) -> None:
        for poller in self.by_uuid.values():
            poller._stop.set()
        for poller in self.by_uuid.values():
            poller.stop()
