"""DynamoDB stream event source mappings, polled the way Lambda polls a stream.

Gap closed: moto delivers a table's stream records to a mapped function inside the table write, through
a code path that needs Docker (so the handler never runs), ignores ``FilterCriteria`` and then drains
the shard. That delivery is detached when a mapping is created, and one `StreamPoller` per mapping reads
the shard instead, in order, on its own thread:

- from ``TRIM_HORIZON`` (the oldest record) or ``LATEST`` (records written after the mapping);
- records that match none of the mapping's ``FilterCriteria`` patterns are dropped, as Lambda does;
- up to ``BatchSize`` records per invocation, shaped as Lambda shapes them (``eventID``, ``eventName``,
  ``dynamodb`` with ``ApproximateCreationDateTime`` in epoch seconds, ``eventSourceARN``, ...);
- a failed invocation retries the same batch (with ``ReportBatchItemFailures``, from the first failed
  record) up to ``MaximumRetryAttempts`` times, then sends the failure's description to the
  ``OnFailure`` destination (an SQS queue) and moves past the batch, as Lambda does.

Not modelled: retry back-off, ``MaximumRecordAgeInSeconds``, bisecting batches, parallelisation,
tumbling windows, shards splitting, and the 24-hour retention of the stream.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID

from localcloud.emulator import core, sqs
from localcloud.emulator.awslambda import function_config

LOG = logging.getLogger(__name__)
IDLE_WAIT_SECONDS = 0.02


def install() -> None:
    from moto.awslambda.models import LambdaBackend
    from moto.dynamodb.models import dynamodb_backends

    original = LambdaBackend.create_event_source_mapping

    def create_event_source_mapping(self: Any, spec: dict[str, Any]) -> Any:
        mapping = original(self, spec)
        if ":dynamodb:" in mapping.event_source_arn:
            table = dynamodb_backends[self.account_id][self.region_name].tables.get(
                _table_name(mapping.event_source_arn)
            )
            if table is not None:
                table.lambda_event_source_mappings.pop(mapping.function_arn, None)
        return mapping

    LambdaBackend.create_event_source_mapping = create_event_source_mapping


def _table_name(stream_arn: str) -> str:
    return stream_arn.split(":table/", 1)[1].split("/stream/", 1)[0]


def _epoch_seconds(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return value


def stream_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """One stream record as Lambda hands it to a function."""
    shaped = json.loads(json.dumps(record, default=str))
    shaped["dynamodb"]["ApproximateCreationDateTime"] = _epoch_seconds(
        record["dynamodb"].get("ApproximateCreationDateTime")
    )
    shaped.update({"eventVersion": "1.1", "awsRegion": region, "eventSourceARN": stream_arn})
    return shaped


def matches(mapping_filters: Any, record: dict[str, Any]) -> bool:
    """Whether a record passes the mapping's FilterCriteria (no filters: every record does)."""
    from moto.events.models import EventPattern

    filters = (mapping_filters or {}).get("Filters") or []
    return not filters or any(EventPattern.load(f["Pattern"]).matches_event(record) for f in filters)


class StreamPoller:
    """The poller of one stream mapping (see the module doc)."""

    def __init__(self, mapping_uuid: str, region: str, account: str = DEFAULT_ACCOUNT_ID):
        self.uuid, self.region, self.account = mapping_uuid, region, account
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._busy = False
        self.batches = 0
        self.records_processed = 0
        self.records_dropped = 0
        self.batches_sent_to_destination = 0
        mapping = self._mapping()
        self.stream_arn = mapping.event_source_arn
        self.table_name = _table_name(self.stream_arn)
        self._position = (
            0 if (mapping.starting_position or "TRIM_HORIZON") == "TRIM_HORIZON" else len(self._items())
        )
        self._thread = threading.Thread(
            target=self._run, name=f"localcloud-stream-{self.table_name}", daemon=True
        )

    def _mapping(self) -> Any:
        from moto.awslambda.utils import get_backend

        return get_backend(self.account, self.region).get_event_source_mapping(self.uuid)

    def _items(self) -> list[Any]:
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends[self.account][self.region].tables.get(self.table_name)
        shard = getattr(table, "stream_shard", None) if table is not None else None
        return list(shard.items) if shard is not None else []

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def idle(self) -> bool:
        with self._lock:
            return not self._busy and self._position >= len(self._items())

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                mapping = self._mapping()
                items = self._items()
                if not mapping.enabled or self._position >= len(items):
                    self._stop.wait(IDLE_WAIT_SECONDS)
                    continue
                with self._lock:
                    self._busy = True
                try:
                    self._position = self._poll(mapping, items)
                finally:
                    with self._lock:
                        self._busy = False
            except Exception:
                if self._stop.is_set():
                    return
                LOG.exception("stream poller of %s failed; retrying", self.table_name)
                self._stop.wait(0.5)

    def _poll(self, mapping: Any, items: list[Any]) -> int:
        """Process the next batch; returns the position after it."""
        batch: list[dict[str, Any]] = []
        position = self._position
        batch_size = int(mapping.batch_size or 100)
        while position < len(items) and len(batch) < batch_size:
            record = stream_record(items[position].to_json(), self.stream_arn, self.region)
            position += 1
            if matches(mapping.filter_criteria, record):
                batch.append(record)
            else:
                with self._lock:
                    self.records_dropped += 1
        if not batch:
            return position
        retries = mapping.max_retry_attempts
        attempts = 0
        while not self._stop.is_set():
            failed_from = self._invoke(mapping, batch)
            if failed_from is None:
                with self._lock:
                    self.records_processed += len(batch)
                return position
            with self._lock:
                self.records_processed += failed_from
            batch = batch[failed_from:]
            attempts += 1
            if retries is not None and int(retries) >= 0 and attempts > int(retries):
                self._send_to_destination(mapping, batch, attempts)
                return position
        return self._position

    def _invoke(self, mapping: Any, batch: list[dict[str, Any]]) -> int | None:
        """None when the batch succeeded; else the index of the first record to retry."""
        from moto.awslambda.utils import get_backend

        fn = get_backend(self.account, self.region).get_function(mapping.function_arn)
        with self._lock:
            self.batches += 1
        result = core.runtime().invoke(function_config(fn), {"Records": batch})
        if result.failed:
            return 0
        if "ReportBatchItemFailures" not in (mapping.function_response_types or []):
            return None
        answer = result.payload_json()
        failures = answer.get("batchItemFailures") if isinstance(answer, dict) else None
        if not failures:
            return None
        sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
        identifiers = [f.get("itemIdentifier") for f in failures if isinstance(f, dict)]
        known = [sequence.index(i) for i in identifiers if i in sequence]
        return min(known) if known and len(known) == len(identifiers) else 0

    def _send_to_destination(self, mapping: Any, batch: list[dict[str, Any]], attempts: int) -> None:
        destination = ((mapping.destination_config or {}).get("OnFailure") or {}).get("Destination")
        with self._lock:
            self.batches_sent_to_destination += 1
        if not destination:
            LOG.warning(
                "stream batch of %s dropped after %d attempts (no destination)", self.table_name, attempts
            )
            return
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        description = {
            "requestContext": {
                "requestId": f"localcloud-{time.time_ns()}",
                "functionArn": mapping.function_arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": "shardId-00000001541626099285-f35f62ef",
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": first["ApproximateCreationDateTime"],
                "approximateArrivalOfLastRecord": last["ApproximateCreationDateTime"],
                "batchSize": len(batch),
                "streamArn": self.stream_arn,
            },
        }
        sqs.send_message(destination, json.dumps(description, default=str))


class StreamPollers:
    """Every DynamoDB stream mapping of the emulator with its `StreamPoller`; `refresh` after each deploy."""

    def __init__(self, region: str, account: str = DEFAULT_ACCOUNT_ID):
        self.region, self.account = region, account
        self.by_uuid: dict[str, StreamPoller] = {}

    def refresh(self) -> None:
        from moto.awslambda.utils import get_backend

        for mapping in get_backend(self.account, self.region).list_event_source_mappings(
            event_source_arn=None, function_name=None
        ):
            if ":dynamodb:" in mapping.event_source_arn and mapping.uuid not in self.by_uuid:
                poller = StreamPoller(mapping.uuid, self.region, self.account)
                self.by_uuid[mapping.uuid] = poller
                poller.start()

    def idle(self) -> bool:
        return all(poller.idle() for poller in self.by_uuid.values())

    def stop(self) -> None:
        for poller in self.by_uuid.values():
            poller.stop()
