"""An opt-in smoke test on a real AWS account: `pulumi up` of a throw-away stack of the shop, one order
through the real APIs with a real Cognito user (scan, order, make, complete), checks of the order table,
the all-events log group and the metrics, then `pulumi destroy` and the stack removed — even when a step
failed. Without the Pulumi CLI, AWS credentials and SERVERLESSPRESSO_LIVE=1 it is skipped, saying which.

    SERVERLESSPRESSO_LIVE=1 AWS_PROFILE=sandbox .venv/bin/python -m pytest tests/live -ra

What one run costs and what the deploying identity needs: docs/deploy.md, "Prove it on a real account".
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.aws_environment import ORIGINAL_AWS_ENVIRONMENT

REPO_ROOT = Path(__file__).resolve().parents[2]
OPT_IN = "SERVERLESSPRESSO_LIVE"
REGION = os.environ.get("SERVERLESSPRESSO_LIVE_REGION", "eu-west-1")
WAIT_SECONDS = 180
CAPPUCCINO = {"drink": "Cappuccino", "modifiers": [], "icon": "barista-icons_cappuccino-alternative"}


def missing() -> list[str]:
    reasons = []
    if shutil.which("pulumi") is None:
        reasons.append("the Pulumi CLI on PATH")
    if not (
        ORIGINAL_AWS_ENVIRONMENT.get("AWS_ACCESS_KEY_ID")
        or ORIGINAL_AWS_ENVIRONMENT.get("AWS_PROFILE")
        or ORIGINAL_AWS_ENVIRONMENT.get("AWS_WEB_IDENTITY_TOKEN_FILE")
    ):
        reasons.append("AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID or a web identity)")
    if os.environ.get(OPT_IN) != "1":
        reasons.append(f"the opt-in {OPT_IN}=1")
    return reasons


pytestmark = pytest.mark.skipif(bool(missing()), reason="live smoke test needs " + "; ".join(missing()))


def eventually(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what}")


def test_one_order_through_a_throw_away_stack_on_a_real_account():
    import boto3
    from pulumi import automation as auto

    real = {k: v for k, v in ORIGINAL_AWS_ENVIRONMENT.items() if v is not None}
    session = boto3.session.Session(
        region_name=REGION,
        profile_name=real.get("AWS_PROFILE"),
        aws_access_key_id=real.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=real.get("AWS_SECRET_ACCESS_KEY"),
        aws_session_token=real.get("AWS_SESSION_TOKEN"),
    )
    name = f"live-{uuid.uuid4().hex[:8]}"
    stack = auto.create_stack(
        stack_name=name,
        work_dir=str(REPO_ROOT),
        opts=auto.LocalWorkspaceOptions(env_vars={**real, "AWS_REGION": REGION}),
    )
    try:
        stack.set_all_config(
            {
                "aws:region": auto.ConfigValue(REGION),
                "serverlesspresso:owner": auto.ConfigValue("live-smoke-test"),
                "serverlesspresso:costCenter": auto.ConfigValue("smoke"),
                "serverlesspresso:logRetentionDays": auto.ConfigValue("1"),
                "serverlesspresso:customerTimeoutSeconds": auto.ConfigValue("120"),
                "serverlesspresso:baristaTimeoutSeconds": auto.ConfigValue("300"),
                "serverlesspresso:metricsBatchWindowSeconds": auto.ConfigValue("1"),
                "serverlesspresso:passwordSignIn": auto.ConfigValue("true"),
            }
        )
        outputs = {k: v.value for k, v in stack.up(on_output=print).outputs.items()}
        _walk_one_order(session, outputs)
    finally:
        try:
            stack.destroy(on_output=print)
        finally:
            stack.workspace.remove_stack(name)


def _walk_one_order(session: Any, outputs: dict[str, Any]) -> None:
    cognito = session.client("cognito-idp")
    pool, client = outputs["userPoolId"], outputs["userPoolWebClientId"]

    def user(email: str, admin: bool) -> str:
        password = secrets.token_urlsafe(16)
        cognito.admin_create_user(
            UserPoolId=pool,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
        if admin:
            cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName="admin")
        answer = cognito.initiate_auth(
            ClientId=client,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        return answer["AuthenticationResult"]["AccessToken"]

    admin = user("admin@live.serverlesspresso.test", admin=True)
    customer = user("customer@live.serverlesspresso.test", admin=False)

    def call(method: str, base: str, path: str, token: str, **kwargs: Any) -> requests.Response:
        return requests.request(
            method, outputs[base] + path, headers={"Authorization": token}, timeout=30, **kwargs
        )

    code = call("GET", "APIGWEndpointValidatorService", "qr-code", admin).json()["bucket"]["last_code"]
    order_id = call(
        "POST", "APIGWEndpointValidatorService", "qr-code", customer, params={"token": code}
    ).json()["orderId"]
    eventually(lambda: call("GET", "orderManagerEndpoint", f"orders/{order_id}", customer).ok, "the order")
    assert call("PUT", "orderManagerEndpoint", f"orders/{order_id}", customer, json=CAPPUCCINO).ok

    orders = session.resource("dynamodb").Table(outputs["orderTableName"])
    eventually(
        lambda: orders.get_item(Key={"PK": "orders", "SK": order_id}, ConsistentRead=True)["Item"].get(
            "orderNumber"
        ),
        "the order number",
    )
    assert call("PUT", "orderManagerEndpoint", f"orders/{order_id}", admin, params={"action": "make"}).ok
    assert call("PUT", "orderManagerEndpoint", f"orders/{order_id}", admin, params={"action": "complete"}).ok
    item = orders.get_item(Key={"PK": "orders", "SK": order_id}, ConsistentRead=True)["Item"]
    assert item["ORDERSTATE"] == "COMPLETED"

    logs = session.client("logs")

    def logged() -> set[str]:
        events = logs.filter_log_events(
            logGroupName=outputs["allEventsLogGroup"], filterPattern=f'"{order_id}"'
        )
        return {json.loads(e["message"])["detail-type"] for e in events["events"]}

    eventually(lambda: {"OrderManager.OrderCompleted", "OrderProcessor.orderFinished"} <= logged(), "the log")
    metrics = session.resource("dynamodb").Table(outputs["metricsTableName"])
    day = time.strftime("%Y-%m-%d", time.gmtime())
    eventually(
        lambda: metrics.get_item(Key={"PK": "Aggregate", "SK": f"{day}#Cappuccino"}).get("Item"),
        "the sale counted",
    )
