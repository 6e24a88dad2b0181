"""The validator service's functions: GetQRCode shows the current bucket to the admin group only; a scan
of VerifyQRCode takes exactly one token, and is answered with the status codes and bodies of SYSTEM §8."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
import shop_common

from localcloud.emulator.lambda_runtime import load_module

qr_codes = load_module(Path(__file__).resolve().parents[2] / "functions" / "validator", "qr_codes")

RULES = qr_codes.BucketRules(interval_minutes=5, code_length=10, tokens_per_bucket=3)
ADMIN = {"sub": "admin-sub", "cognito:groups": "admin"}
CUSTOMER = {"sub": "customer-sub"}


def proxy_event(method: str, claims: dict[str, Any], query: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "resource": "/qr-code",
        "path": "/qr-code",
        "httpMethod": method,
        "headers": {"Authorization": "token"},
        "multiValueHeaders": {"Authorization": ["token"]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": None,
        "requestContext": {
            "resourcePath": "/qr-code",
            "httpMethod": method,
            "stage": "Prod",
            "requestId": "r-1",
            "authorizer": {"claims": claims},
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def _table(name: str, key_type: str = "S", sort_key: str | None = None) -> Any:
    keys = [{"AttributeName": "PK", "KeyType": "HASH"}]
    attributes = [{"AttributeName": "PK", "AttributeType": key_type}]
    if sort_key:
        keys.append({"AttributeName": sort_key, "KeyType": "RANGE"})
        attributes.append({"AttributeName": sort_key, "AttributeType": "S"})
    return boto3.resource("dynamodb", region_name="us-east-1").create_table(
        TableName=name, KeySchema=keys, AttributeDefinitions=attributes, BillingMode="PAY_PER_REQUEST"
    )


GRACE_SECONDS = 360


@pytest.fixture
def validator(mocked_aws, load_function, event_tap):
    table = _table("buckets", "N")
    config = _table("config")
    config.put_item(Item={"PK": "config", "storeOpen": True, "maxOrdersPerUser": 10, "maxOrdersInQueue": 10})
    orders = _table("orders", sort_key="SK")
    counting = _table("counting")
    boto3.client("events", region_name="us-east-1").create_event_bus(Name="shop")
    tap = event_tap("shop")
    env = {
        "VALIDATOR_TABLE_NAME": "buckets",
        "QR_INTERVAL_MINUTES": "5",
        "QR_CODE_LENGTH": "10",
        "QR_TOKENS_PER_BUCKET": "3",
        "EVENT_BUS_NAME": "shop",
        "EVENT_SOURCE": "awsserverlessda.serverlesspresso",
        "ORDER_TABLE_NAME": "orders",
        "CONFIG_TABLE_NAME": "config",
        "COUNTING_TABLE_NAME": "counting",
        "CLAIM_GRACE_SECONDS": str(GRACE_SECONDS),
    }

    class Validator:
        def __init__(self) -> None:
            self.get = load_function("validator", env, "get_qr_code.handler")
            self.verify = load_function("validator", env, "verify_qr_code.handler")
            self.events = tap
            self.table = table
            self.config, self.orders, self.counting = config, orders, counting

        def limit(self, value: int) -> None:
            self.config.update_item(
                Key={"PK": "config"},
                UpdateExpression="SET maxOrdersPerUser = :v",
                ExpressionAttributeValues={":v": value},
            )

    return Validator()


def call(handler, lambda_context, event) -> tuple[int, dict[str, Any]]:
    answer = handler(event, lambda_context)
    return answer["statusCode"], json.loads(answer["body"])


def test_a_bucket_spans_one_interval_and_carries_a_fresh_code_of_the_configured_length():
    now = 1_700_000_123_456
    bucket = qr_codes.new_bucket(RULES, now)
    assert bucket["PK"] == now // 300_000
    assert bucket["start_ts"] <= now <= bucket["end_ts"]
    assert bucket["end_ts"] - bucket["start_ts"] == 300_000 - 1
    assert len(bucket["last_code"]) == 10 and bucket["last_code"].isalnum()
    assert bucket["availableTokens"] == 3
    assert qr_codes.new_bucket(RULES, now)["last_code"] != bucket["last_code"]


@pytest.mark.parametrize(
    ("groups", "admin"),
    [("admin", True), ("[staff, admin]", True), ("admin,staff", True), ("notadmin", False), ("", False)],
)
def test_only_the_admin_group_counts_as_admin_however_api_gateway_lists_the_groups(groups, admin):
    assert shop_common.is_admin({"cognito:groups": groups}) is admin


def test_get_qr_code_is_refused_to_customers_and_gives_admins_one_stable_bucket(validator, lambda_context):
    assert call(validator.get, lambda_context, proxy_event("GET", CUSTOMER))[0] == 403
    assert validator.table.scan()["Items"] == []
    status, first = call(validator.get, lambda_context, proxy_event("GET", ADMIN))
    again = call(validator.get, lambda_context, proxy_event("GET", ADMIN))[1]
    assert status == 200
    assert first == again
    assert first["bucket"]["availableTokens"] == 3


def test_a_scan_takes_one_token_and_starts_an_order_for_the_caller(validator, lambda_context):
    code = call(validator.get, lambda_context, proxy_event("GET", ADMIN))[1]["bucket"]["last_code"]
    status, body = call(validator.verify, lambda_context, proxy_event("POST", CUSTOMER, {"token": code}))
    assert status == 200 and body["orderId"]
    [event] = validator.events.received()
    assert event["detail-type"] == "Validator.NewOrder"
    assert event["detail"]["orderId"] == body["orderId"]
    assert event["detail"]["userId"] == "customer-sub"
    assert event["detail"]["bucket"]["availableTokens"] == 2


def test_tokens_run_out_after_the_configured_number_of_scans_each_with_its_own_order(
    validator, lambda_context
):
    code = call(validator.get, lambda_context, proxy_event("GET", ADMIN))[1]["bucket"]["last_code"]
    answers = [
        call(validator.verify, lambda_context, proxy_event("POST", CUSTOMER, {"token": code}))
        for _ in range(5)
    ]
    orders = [body["orderId"] for status, body in answers if "orderId" in body]
    assert len(set(orders)) == 3
    assert answers[3:] == [(200, {"error": "No tokens remaining"})] * 2
    [bucket] = validator.table.scan()["Items"]
    assert bucket["availableTokens"] == 0
    assert len(validator.events.received()) == 3


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (None, (422, {"error": "Missing parameter"})),
        ({"token": "wrong-code"}, (400, {"error": "Invalid code"})),
        ({"token": "x" * 500}, (400, {"error": "Invalid code"})),
    ],
)
def test_bad_scans_are_answered_and_take_nothing(validator, lambda_context, query, expected):
    call(validator.get, lambda_context, proxy_event("GET", ADMIN))
    assert call(validator.verify, lambda_context, proxy_event("POST", CUSTOMER, query)) == expected
    assert validator.table.scan()["Items"][0]["availableTokens"] == 3
    assert validator.events.received() == []


def test_a_scan_without_a_current_bucket_is_an_invalid_code(validator, lambda_context):
    answer = call(validator.verify, lambda_context, proxy_event("POST", CUSTOMER, {"token": "abcdefghij"}))
    assert answer == (400, {"error": "Invalid code"})


# --------------------------------------------------------------------------- the per-customer limit


def _scan(validator, lambda_context, claims=CUSTOMER):
    code = call(validator.get, lambda_context, proxy_event("GET", ADMIN))[1]["bucket"]["last_code"]
    return call(validator.verify, lambda_context, proxy_event("POST", claims, {"token": code}))


def _tokens(validator) -> int:
    return int(validator.table.scan()["Items"][0]["availableTokens"])


def test_a_customer_at_the_limit_is_refused_before_a_token_is_taken_or_an_event_sent(
    validator, lambda_context
):
    validator.limit(1)
    first = _scan(validator, lambda_context)
    assert first[0] == 200 and first[1]["orderId"]
    refused = _scan(validator, lambda_context)
    assert refused == (
        409,
        {
            "error": "You already have 1 open order: collect or cancel one before ordering again",
            "maxOrdersPerUser": 1,
        },
    )
    assert _tokens(validator) == 2 and len(validator.events.received()) == 1
    # Someone else is not held back by this customer's order.
    assert "orderId" in _scan(validator, lambda_context, {"sub": "another-customer"})[1]


@pytest.mark.parametrize(
    ("state", "released"), [("CREATED", False), ("COMPLETED", True), ("CANCELLED", True)]
)
def test_a_claim_is_released_once_its_order_is_no_longer_open(validator, lambda_context, state, released):
    validator.limit(1)
    order_id = _scan(validator, lambda_context)[1]["orderId"]
    validator.orders.put_item(
        Item={"PK": "orders", "SK": order_id, "USERID": "customer-sub", "ORDERSTATE": state}
    )
    assert ("orderId" in _scan(validator, lambda_context)[1]) is released


def test_a_claim_whose_order_was_never_stored_is_released_after_the_customers_wait(
    validator, lambda_context, monkeypatch
):
    validator.limit(1)
    _scan(validator, lambda_context)
    assert _scan(validator, lambda_context)[0] == 409  # its run may still store it: still held
    later = time.time_ns() + (GRACE_SECONDS + 1) * 1_000_000_000
    monkeypatch.setattr(time, "time_ns", lambda: later)
    assert "orderId" in _scan(validator, lambda_context)[1]


def test_staff_raising_the_limit_in_the_config_item_lets_the_next_scan_through(validator, lambda_context):
    validator.limit(1)
    _scan(validator, lambda_context)
    assert _scan(validator, lambda_context)[0] == 409
    validator.limit(2)
    assert "orderId" in _scan(validator, lambda_context)[1]
    assert _scan(validator, lambda_context)[0] == 409


@pytest.mark.parametrize("value", [0, -1, "two", 1.5, None])
def test_a_limit_that_is_not_a_whole_number_of_at_least_one_counts_as_the_seeds_one(value):
    customer_limit = load_module(
        Path(__file__).resolve().parents[2] / "functions" / "validator", "customer_limit"
    )
    assert customer_limit.limit_of({"maxOrdersPerUser": value}) == 1
    assert customer_limit.limit_of({"maxOrdersPerUser": 3}) == 3


@pytest.mark.parametrize(
    ("zone", "day"),
    [("UTC", "2026-12-06"), ("Pacific/Kiritimati", "2026-12-07"), ("America/Los_Angeles", "2026-12-06")],
)
def test_the_trading_day_is_the_date_in_the_shops_time_zone(zone, day):
    late_evening_utc = 1_796_599_800_000  # 2026-12-06T23:30:00Z
    assert qr_codes.trading_day(late_evening_utc, zone) == day


def test_a_scan_names_the_trading_day_in_its_new_order(validator, lambda_context):
    _scan(validator, lambda_context)
    [event] = validator.events.received()
    assert event["detail"]["tradingDay"] == qr_codes.trading_day(time.time_ns() // 1_000_000, "UTC")
