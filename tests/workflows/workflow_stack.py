"""A small Serverlesspresso stack inside moto, to execute the two workflow definitions end to end.

``Shop(ShopSettings(...))`` builds, inside an active emulator: the order, config and counting tables of
SYSTEM.md §6 with their seed items, the bus, the four functions the workflows rely on (created from zips
of their folders, with their environment), both state machines from the rendered definitions, the rules
of §2 that connect them, and an SQS tap rule that records every event of the source. Its methods are
the few actions and observations the tests need.
"""

from __future__ import annotations

import functools
import io
import itertools
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer

from components.asl import render_definition
from components.data_stores import MENU
from localcloud import polling

REPO_ROOT = Path(__file__).resolve().parents[2]
ASL_DIR = REPO_ROOT / "asl"
FUNCTIONS_DIR = REPO_ROOT / "functions"
REGION = "us-east-1"
# The trading day the validator names in the tests' orders (a day of its own: numbers start at 1 in it).
TODAY = "2026-12-06"
SOURCE = "awsserverlessda.serverlesspresso"
WAIT_LIMIT_SECONDS = 20.0

CAPPUCCINO = {
    "userId": "1",
    "drink": "Cappuccino",
    "modifiers": [],
    "icon": "barista-icons_cappuccino-alternative",
}

_deserializer = TypeDeserializer()


def plain(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB-typed item as plain Python values."""
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def eventually(check: Callable[[], Any], what: str, limit: float = WAIT_LIMIT_SECONDS) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` if it never does."""
    try:
        return polling.eventually(check, what, limit, interval=0.02)
    except TimeoutError as error:
        pytest.fail(str(error))


@functools.cache
def _client(service: str) -> Any:
    """One client per service for the whole session: building clients is slow, and moto intercepts
    the calls of any client while a mock is active."""
    return boto3.client(service, region_name=REGION)


@functools.cache
def _zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


@dataclass(frozen=True)
class ShopSettings:
    capacity: int = 20
    customer_timeout_seconds: int = 120
    barista_timeout_seconds: int = 120


class Shop:
    """The deployed pieces, plus the few actions and observations the tests need."""

    def __init__(self, settings: ShopSettings) -> None:
        self.settings = settings
        self.ddb = _client("dynamodb")
        # The same names in every fresh emulator, so the rendered definitions are the same text and the
        # emulator parses each once per process; a second shop in one emulator gets the next number.
        existing = set(self.ddb.list_tables()["TableNames"])
        self.suffix = suffix = next(f"s{n}" for n in itertools.count() if f"order-s{n}" not in existing)
        self.sfn = _client("stepfunctions")
        self.events_client = _client("events")
        self.sqs = _client("sqs")
        self.lambda_client = _client("lambda")
        self.iam = _client("iam")

        self.order_table = f"order-{suffix}"
        self.config_table = f"config-{suffix}"
        self.counting_table = f"counting-{suffix}"
        self.bus = f"serverlesspresso-{suffix}"
        self.role_arn = self.iam.create_role(
            RoleName=f"workflows-{suffix}",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]

        self._create_tables()
        self._seed()
        self.events_client.create_event_bus(Name=self.bus)
        self._seen: list[dict[str, Any]] = []
        self._order_of_execution: dict[str, str] = {}
        self._tap_url = self._create_tap()

        self.processor_arn = self._create_state_machine(
            f"order-processor-{suffix}",
            "order_processor",
            "STANDARD",
            {
                "OrderTableName": self.order_table,
                "ConfigTableName": self.config_table,
                "CountingTableName": self.counting_table,
                "EventBusName": self.bus,
                "EventSource": SOURCE,
                "Capacity": settings.capacity,
                "CustomerTimeoutSeconds": settings.customer_timeout_seconds,
                "BaristaTimeoutSeconds": settings.barista_timeout_seconds,
            },
        )
        function_env = {
            "ORDER_TABLE_NAME": self.order_table,
            "EVENT_BUS_NAME": self.bus,
            "EVENT_SOURCE": SOURCE,
            "ORDER_PROCESSOR_ARN": self.processor_arn,
            "POWERTOOLS_SERVICE_NAME": "serverlesspresso-workflow-tests",
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        self.functions = {
            name: self._create_function(f"{name.replace('_', '-')}-{suffix}", name, function_env)
            for name in ("workflow_started", "waiting_completion", "order_timed_out", "validate_order")
        }
        self._route("new-order", "Validator.NewOrder", self.processor_arn)
        self._route("workflow-started", "OrderProcessor.WorkflowStarted", self.functions["workflow_started"])
        self._route(
            "waiting-completion", "OrderProcessor.WaitingCompletion", self.functions["waiting_completion"]
        )
        self._route("order-timed-out", "OrderProcessor.OrderTimeOut", self.functions["order_timed_out"])

    @functools.cached_property
    def manager_arn(self) -> str:
        """Created on first use: parsing a definition is the slow part of building, and the
        OrderProcessor tests never call the OrderManager."""
        return self._create_state_machine(
            f"order-manager-{self.suffix}",
            "order_manager",
            "EXPRESS",
            {
                "OrderTableName": self.order_table,
                "ConfigTableName": self.config_table,
                "ValidateOrderFunctionArn": self.functions["validate_order"],
                "EventBusName": self.bus,
                "EventSource": SOURCE,
            },
        )

    # --- building -------------------------------------------------------------------------------------

    def _create_tables(self) -> None:
        string = "S"
        self.ddb.create_table(
            TableName=self.order_table,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": string},
                {"AttributeName": "SK", "AttributeType": string},
                {"AttributeName": "ORDERSTATE", "AttributeType": string},
                {"AttributeName": "USERID", "AttributeType": string},
                {"AttributeName": "TS", "AttributeType": "N"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": index,
                    "KeySchema": [
                        {"AttributeName": hash_key, "KeyType": "HASH"},
                        {"AttributeName": "SK", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index, hash_key in (("GSI-status", "ORDERSTATE"), ("GSI-userId", "USERID"))
            ],
            LocalSecondaryIndexes=[
                {
                    "IndexName": "LSI-timestamp",
                    "KeySchema": [
                        {"AttributeName": "PK", "KeyType": "HASH"},
                        {"AttributeName": "TS", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        self.ddb.create_table(
            TableName=self.config_table,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": string}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        self.ddb.create_table(
            TableName=self.counting_table,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": string}],
        )

    def _seed(self) -> None:
        self.ddb.put_item(
            TableName=self.config_table,
            Item={
                "PK": {"S": "config"},
                "storeOpen": {"BOOL": True},
                "maxOrdersPerUser": {"N": "1"},
                "maxOrdersInQueue": {"N": "10"},
            },
        )
        menu = [
            {
                "M": {
                    "drink": {"S": drink},
                    "icon": {"S": icon},
                    "available": {"BOOL": True},
                    "modifiers": {"L": []},
                }
            }
            for drink, icon in MENU
        ]
        self.ddb.put_item(TableName=self.config_table, Item={"PK": {"S": "menu"}, "value": {"L": menu}})

    def _create_tap(self) -> str:
        url = self.sqs.create_queue(QueueName=f"{self.bus}-tap")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.events_client.put_rule(
            Name=f"{self.bus}-tap", EventBusName=self.bus, EventPattern=json.dumps({"source": [SOURCE]})
        )
        self.events_client.put_targets(
            Rule=f"{self.bus}-tap", EventBusName=self.bus, Targets=[{"Id": "tap", "Arn": arn}]
        )
        return url

    def _create_state_machine(self, name: str, template: str, kind: str, substitutions: dict) -> str:
        definition = render_definition((ASL_DIR / f"{template}.asl.json").read_text(), substitutions)
        return self.sfn.create_state_machine(
            name=name, definition=definition, roleArn=self.role_arn, type=kind
        )["stateMachineArn"]

    def _create_function(self, name: str, folder: str, env: dict[str, str]) -> str:
        return self.lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Architectures=["arm64"],
            Role=self.role_arn,
            Handler="handler.handler",
            Code={"ZipFile": _zip_folder(FUNCTIONS_DIR / folder)},
            Environment={"Variables": env},
            Timeout=30,
        )["FunctionArn"]

    def _route(self, rule: str, detail_type: str, target_arn: str) -> None:
        name = f"{self.bus}-{rule}"
        self.events_client.put_rule(
            Name=name,
            EventBusName=self.bus,
            EventPattern=json.dumps({"source": [SOURCE], "detail-type": [detail_type]}),
        )
        target: dict[str, Any] = {"Id": rule, "Arn": target_arn}
        if ":states:" in target_arn:
            target["RoleArn"] = self.role_arn
        self.events_client.put_targets(Rule=name, EventBusName=self.bus, Targets=[target])

    # --- acting ---------------------------------------------------------------------------------------

    def put_new_order(self, order_id: str, user_id: str, trading_day: str | None = TODAY) -> None:
        """The validator's event, naming the trading day; the NewOrder rule starts the OrderProcessor."""
        detail = {"orderId": order_id, "userId": user_id}
        if trading_day is not None:
            detail["tradingDay"] = trading_day
        response = self.events_client.put_events(
            Entries=[
                {
                    "EventBusName": self.bus,
                    "Source": SOURCE,
                    "DetailType": "Validator.NewOrder",
                    "Detail": json.dumps(detail),
                }
            ]
        )
        assert response["FailedEntryCount"] == 0

    def start_processor(self, order_id: str, user_id: str) -> str:
        """A manual start with the console test input of §3; returns the execution ARN."""
        return self.sfn.start_execution(
            stateMachineArn=self.processor_arn,
            input=json.dumps({"detail": {"orderId": order_id, "userId": user_id}}),
        )["executionArn"]

    def park_order(self, order_id: str, user_id: str = "1", trading_day: str | None = TODAY) -> str:
        """A new order through the bus, waited for until it is parked at the customer step."""
        self.put_new_order(order_id, user_id, trading_day)
        return self.wait_parked(order_id)

    def wait_parked(self, order_id: str) -> str:
        eventually(lambda: (self.order(order_id) or {}).get("TaskToken"), f"order {order_id} to be parked")
        return self.execution_for(order_id)

    def manage(self, action: str | None, order_id: str, body: dict | None = None, barista: str = "3") -> dict:
        """Run the OrderManager synchronously, as the order-manager API does."""
        payload: dict[str, Any] = {"body": body if body is not None else {}, "orderId": order_id}
        payload["baristaUserId"] = barista
        if action is not None:
            payload["action"] = action
        return self.sfn.start_sync_execution(stateMachineArn=self.manager_arn, input=json.dumps(payload))

    def choose_drink(self, order_id: str, drink: dict | None = None, action: str = "") -> dict:
        result = self.manage(action, order_id, body=drink or CAPPUCCINO)
        assert result["status"] == "SUCCEEDED", result
        return result

    def take_order_to_barista(self, order_id: str, user_id: str = "1") -> str:
        """Park an order, choose a Cappuccino and wait until the OrderProcessor waits for the barista."""
        execution = self.park_order(order_id, user_id)
        self.choose_drink(order_id, {**CAPPUCCINO, "userId": user_id})
        eventually(
            lambda: (self.order(order_id) or {}).get("orderNumber"), f"order {order_id} to get a number"
        )
        return execution

    # --- observing ------------------------------------------------------------------------------------

    def events(self, detail_type: str | None = None) -> list[dict[str, Any]]:
        """Every event seen on the bus so far (full envelopes, oldest first), optionally of one type."""
        while True:
            messages = self.sqs.receive_message(QueueUrl=self._tap_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                break
            for message in messages:
                self._seen.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self._tap_url, ReceiptHandle=message["ReceiptHandle"])
        return [event for event in self._seen if detail_type in (None, event["detail-type"])]

    def detail_types(self) -> list[str]:
        return [event["detail-type"] for event in self.events()]

    def wait_order_state(self, order_id: str, state: str) -> dict[str, Any]:
        def in_state() -> dict[str, Any] | None:
            order = self.order(order_id)
            return order if order and order.get("ORDERSTATE") == state else None

        return eventually(in_state, f"order {order_id} to become {state}")

    def wait_event(self, detail_type: str, order_id: str) -> dict[str, Any]:
        return eventually(
            lambda: next(
                (event for event in self.events(detail_type) if event["detail"].get("orderId") == order_id),
                None,
            ),
            f"{detail_type} for order {order_id}",
        )

    def order(self, order_id: str) -> dict[str, Any] | None:
        item = self.ddb.get_item(
            TableName=self.order_table,
            Key={"PK": {"S": "orders"}, "SK": {"S": order_id}},
            ConsistentRead=True,
        ).get("Item")
        return plain(item) if item else None

    def counter(self) -> int:
        """Order numbers taken so far, over every trading day's counter."""
        items = self.ddb.scan(TableName=self.counting_table)["Items"]
        return sum(int(item["IDvalue"]["N"]) for item in items if item["PK"]["S"].startswith("orderID#"))

    def set_store_open(self, is_open: bool) -> None:
        self.ddb.update_item(
            TableName=self.config_table,
            Key={"PK": {"S": "config"}},
            UpdateExpression="SET storeOpen = :open",
            ExpressionAttributeValues={":open": {"BOOL": is_open}},
        )

    def remove_config(self) -> None:
        self.ddb.delete_item(TableName=self.config_table, Key={"PK": {"S": "config"}})

    def orders_in_state(self, state: str) -> list[str]:
        items = self.ddb.query(
            TableName=self.order_table,
            IndexName="GSI-status",
            KeyConditionExpression="ORDERSTATE = :state",
            ExpressionAttributeValues={":state": {"S": state}},
        )["Items"]
        return [item["SK"]["S"] for item in items]

    def executions(self, status: str | None = None) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"stateMachineArn": self.processor_arn}
        if status:
            kwargs["statusFilter"] = status
        return self.sfn.list_executions(**kwargs)["executions"]

    def execution_for(self, order_id: str) -> str:
        return eventually(
            lambda: next(iter(self.executions_for(order_id)), None),
            f"the OrderProcessor execution of order {order_id}",
        )

    def executions_for(self, order_id: str) -> list[str]:
        """ARNs of every OrderProcessor execution started for ``order_id``, oldest first."""
        found = []
        for execution in sorted(self.executions(), key=lambda e: e["startDate"]):
            arn = execution["executionArn"]
            if arn not in self._order_of_execution:
                described = self.sfn.describe_execution(executionArn=arn)
                detail = json.loads(described["input"]).get("detail")
                self._order_of_execution[arn] = detail.get("orderId") if isinstance(detail, dict) else None
            if self._order_of_execution[arn] == order_id:
                found.append(arn)
        return found

    def status(self, execution_arn: str) -> str:
        return self.sfn.describe_execution(executionArn=execution_arn)["status"]

    def finished(self, execution_arn: str) -> dict[str, Any]:
        """The execution once it has left RUNNING."""

        def done() -> dict[str, Any] | None:
            described = self.sfn.describe_execution(executionArn=execution_arn)
            return described if described["status"] != "RUNNING" else None

        return eventually(done, f"execution {execution_arn.rsplit(':', 1)[-1]} to finish")

    def visited_states(self, execution_arn: str) -> list[str]:
        history = self.sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
        return [
            event["stateEnteredEventDetails"]["name"]
            for event in history
            if "stateEnteredEventDetails" in event
        ]
