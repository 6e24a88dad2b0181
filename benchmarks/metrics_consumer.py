"""Benchmark the PublishMetrics consumer in-process under moto: throughput and AWS calls per record.

    .venv/bin/python benchmarks/metrics_consumer.py [--records 1000] [--batch-size 10] [--sinks ...]

Prints figures only; it asserts nothing about speed. It runs in the project's emulator (moto with the
fixes of localcloud.emulator, whose volume fixes keep moto's own costs flat as the table fills; the
per-fifth rates show whether they do). The call counts per 1000 records are what AWS would see and bill.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import random
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
DRINKS = ("Latte", "Cappuccino", "Espresso")


def sale_event(drink: str, when: datetime) -> dict[str, Any]:
    order_id = str(uuid.uuid4())
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "OrderManager.WaitingCompletion",
        "source": "awsserverlessda.serverlesspresso",
        "account": "123456789012",
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [],
        "detail": {
            "orderId": order_id,
            "orderNumber": "1",
            "state": "CREATED",
            "drinkOrder": {"userId": order_id, "drink": drink, "modifiers": [], "icon": ""},
            "userId": order_id,
            "robot": False,
            "TS": int(when.timestamp() * 1000),
            "Message": "benchmark",
        },
    }


def sqs_batch(bodies: list[str]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": uuid.uuid4().hex,
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:metrics",
                "awsRegion": REGION,
            }
            for body in bodies
        ]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--sinks", default="dynamodb,cloudwatch")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        METRICS_TABLE_NAME="metrics-benchmark",
        METRICS_SINKS=args.sinks,
        POWERTOOLS_METRICS_NAMESPACE="ServerlesspressoBenchmark",
        POWERTOOLS_SERVICE_NAME="publish-metrics-benchmark",
        POWERTOOLS_LOG_LEVEL="WARNING",
    )
    for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(variable, None)
    sys.path.insert(0, str(REPO_ROOT))
    sys.path.append(str(REPO_ROOT / "layers"))  # the functions' shared layer, as /opt/python would be

    import boto3

    from localcloud import emulator
    from localcloud.emulator.lambda_runtime import LambdaContext, load_handler

    chooser = random.Random(args.seed)
    now = datetime.now(UTC)
    bodies = [json.dumps(sale_event(chooser.choice(DRINKS), now)) for _ in range(args.records)]
    calls: Counter[str] = Counter()

    def count_call(event_name: str, **_: Any) -> None:
        calls[event_name.split(".", 2)[2]] += 1  # before-call.<service>.<Operation>

    with emulator.emulator(REGION):
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName="metrics-benchmark",
            KeySchema=[
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        # Registered on the default session before the handler builds its clients, so they inherit it.
        boto3.setup_default_session(region_name=REGION)
        boto3.DEFAULT_SESSION.events.register("before-call", count_call)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            handler = load_handler(REPO_ROOT / "functions" / "publish_metrics")
            failures = 0
            fifths: list[float] = []
            fifth_size = max(1, args.records // 5)
            started = fifth_started = time.perf_counter()
            for start in range(0, args.records, args.batch_size):
                response = handler(
                    sqs_batch(bodies[start : start + args.batch_size]),
                    LambdaContext(
                        function_name="publish-metrics-benchmark",
                        invoked_function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:publish-metrics-benchmark",
                        memory_limit_in_mb=512,
                        timeout_s=30,
                    ),
                )
                failures += len(response["batchItemFailures"])
                done = min(start + args.batch_size, args.records)
                if done // fifth_size > len(fifths) and len(fifths) < 5:
                    fifths.append((done - len(fifths) * fifth_size) / (time.perf_counter() - fifth_started))
                    fifth_started = time.perf_counter()
            elapsed = time.perf_counter() - started

    emf_lines = sum(1 for line in printed.getvalue().splitlines() if line.startswith('{"_aws"'))
    per_thousand = {operation: count * 1000 / args.records for operation, count in sorted(calls.items())}
    print(f"date           {datetime.now(UTC):%Y-%m-%d %H:%M UTC}")
    nproc = len(os.sched_getaffinity(0))
    print(f"machine        nproc={nproc} python={platform.python_version()} {platform.machine()}")
    print(f"records        {args.records} in batches of {args.batch_size}, sinks={args.sinks}")
    print(f"failures       {failures}")
    print(f"throughput     {args.records / elapsed:.1f} records/s ({elapsed:.2f} s)")
    print("by fifth       " + ", ".join(f"{rate:.1f}" for rate in fifths) + " records/s")
    print(
        "AWS calls per 1000 records: "
        + (", ".join(f"{op} {n:g}" for op, n in per_thousand.items()) or "none")
    )
    print(f"EMF documents per 1000 records: {emf_lines * 1000 / args.records:g}")


if __name__ == "__main__":
    main()
