"""What CloudWatch does with a function's output: store it in the log group and turn EMF into metrics.

`FunctionLogs` listens to every invocation of the in-process Lambda runtime. It writes the invocation's
captured stdout, between Lambda's START/END/REPORT lines, to the function's log group (the one its
logging config names, else ``/aws/lambda/<name>``), and every line that is an Embedded Metric Format
document becomes metric data in moto's CloudWatch — directly in the backend, not through PutMetricData,
so a handler's own PutMetricData calls stay countable on their own (`localcloud.usage`).
"""

from __future__ import annotations

import datetime
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from localcloud.emulator.lambda_runtime import FunctionConfig, InvocationResult


def emf_documents(output: str) -> Iterator[dict[str, Any]]:
    """Every EMF document (a JSON object whose ``_aws`` names CloudWatchMetrics) among the lines."""
    for line in output.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            document = json.loads(line)
        except ValueError:
            continue
        aws = document.get("_aws") if isinstance(document, dict) else None
        if isinstance(aws, dict) and aws.get("CloudWatchMetrics"):
            yield document


def metric_data(document: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(namespace, PutMetricData-shaped data) for one EMF document, as CloudWatch extracts it: each
    directive's metrics, once per dimension set, with values read from the document's members."""
    aws = document["_aws"]
    millis = aws.get("Timestamp")
    when = (
        datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.UTC)
        if isinstance(millis, (int, float))
        else datetime.datetime.now(tz=datetime.UTC)
    ).replace(tzinfo=None)  # moto keeps metric timestamps as naive UTC
    result = []
    for directive in aws["CloudWatchMetrics"]:
        data = []
        for definition in directive.get("Metrics", []):
            name = definition["Name"]
            if name not in document:
                continue
            raw = document[name]
            values = [float(v) for v in raw] if isinstance(raw, list) else [float(raw)]
            for dimension_set in directive.get("Dimensions") or [[]]:
                if not all(key in document for key in dimension_set):
                    continue
                dimensions = [{"Name": key, "Value": str(document[key])} for key in dimension_set]
                for value in values:
                    datum = {"MetricName": name, "Value": value, "Dimensions": dimensions, "Timestamp": when}
                    if definition.get("Unit"):
                        datum["Unit"] = definition["Unit"]
                    data.append(datum)
        if data:
            result.append((directive["Namespace"], data))
    return result


class FunctionLogs:
    """An invocation listener: log lines to the function's log group, EMF to CloudWatch metrics."""

    def __init__(self, region: str, account: str, log_group_of: Callable[[str], str | None]):
        self.region = region
        self.account = account
        self.log_group_of = log_group_of
        self.emf_documents = 0
        self.emf_values = 0
        self._lock = threading.Lock()

    def __call__(self, config: FunctionConfig, result: InvocationResult) -> None:
        from moto.cloudwatch.models import cloudwatch_backends
        from moto.logs.models import logs_backends

        group_name = self.log_group_of(config.name) or f"/aws/lambda/{config.name}"
        now = int(time.time() * 1000)
        lines = [f"START RequestId: {result.request_id} Version: $LATEST"]
        lines += [line for line in result.logs.splitlines() if line.strip()]
        lines.append(f"END RequestId: {result.request_id}")
        lines.append(
            f"REPORT RequestId: {result.request_id}\tDuration: {result.duration_ms:.2f} ms\t"
            f"Billed Duration: {result.billed_duration_ms} ms\tMemory Size: {config.memory_mb} MB"
        )
        logs = logs_backends[self.account][self.region]
        stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{config.name}"
        with self._lock:
            if group_name not in logs.groups:
                logs.create_log_group(group_name, {})
            if stream not in logs.groups[group_name].streams:
                logs.create_log_stream(group_name, stream)
            logs.put_log_events(group_name, stream, [{"timestamp": now, "message": line} for line in lines])
            cloudwatch = cloudwatch_backends[self.account][self.region]
            for document in emf_documents(result.logs):
                self.emf_documents += 1
                for namespace, data in metric_data(document):
                    self.emf_values += len(data)
                    cloudwatch.put_metric_data(namespace, data)
