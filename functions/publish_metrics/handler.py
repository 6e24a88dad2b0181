"""PublishMetrics: count drink sales from the metrics queue, one SQS record at a time.

Outcome per record (the event source mapping uses ReportBatchItemFailures):
- a sale not seen before → daily aggregates and/or CloudWatch counts; acknowledged. Its EMF lines are
  printed as soon as it is committed, so a timeout later in the batch loses none of them;
- a sale counted before (an SQS redelivery, the same event twice on the bus, the order announced again by
  its run) → acknowledged, not counted;
- an event without a usable drink → logged, acknowledged (a poison message never loops);
- a body that is not an EventBridge event (not JSON, no id, unreadable time) → reported as failed, so it
  reaches the dead-letter queue after the queue's receive limit and its alarm shows the misrouting;
- an AWS error → reported as failed; only that record is retried.
"""

from __future__ import annotations

from typing import Any

import boto3
from aggregates import (
    DRINK_DIMENSION,
    METRIC_NAME,
    SINK_CLOUDWATCH,
    SINK_DYNAMODB,
    MalformedEvent,
    NotASale,
    Sale,
    metric_dimensions,
    parse_body,
    parse_sinks,
    read_sale,
)
from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from ledger import SalesLedger
from shop_common import required_env

SINKS = parse_sinks(required_env("METRICS_SINKS"))
NAMESPACE = required_env("POWERTOOLS_METRICS_NAMESPACE") if SINK_CLOUDWATCH in SINKS else None
LEDGER = SalesLedger(
    boto3.client("dynamodb"),
    required_env("METRICS_TABLE_NAME"),
    write_aggregates=SINK_DYNAMODB in SINKS,
)

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS)


def count_record(record: SQSRecord) -> None:
    try:
        outcome = read_sale(parse_body(record.body))
    except MalformedEvent as error:
        logger.error(
            "Message is not an event; left for the dead-letter queue",
            extra={"message_id": record.message_id, "error": str(error), "body": record.body[:500]},
        )
        raise
    if isinstance(outcome, NotASale):
        logger.warning(
            "Event not counted",
            extra={"message_id": record.message_id, "event_id": outcome.event_id, "reason": outcome.reason},
        )
        return
    if LEDGER.record_once(outcome):
        if SINK_CLOUDWATCH in SINKS:
            publish_sale(outcome)
    else:
        logger.info(
            "Sale already counted",
            extra={"message_id": record.message_id, "event_id": outcome.event_id, "sale_id": outcome.sale_id},
        )


def publish_sale(sale: Sale) -> None:
    """One EMF document per ``Drink`` value the sale counts for, printed now; no ``service`` dimension,
    so the metric identity is exactly namespace + metric name + ``Drink``."""
    for drink in metric_dimensions(sale):
        metrics = EphemeralMetrics(namespace=NAMESPACE, service="")
        metrics.add_dimension(name=DRINK_DIMENSION, value=drink)
        metrics.add_metric(name=METRIC_NAME, unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=count_record, processor=processor, context=context
    )
