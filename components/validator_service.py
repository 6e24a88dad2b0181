"""The validator service: the QR code the display shows (a bucket of tokens per time interval) and the
scan that turns one token into a new order (`Validator.NewOrder`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

import config
from components import iam
from components.data_stores import table
from components.identity import ADMIN_SCOPE
from components.lambda_function import FunctionSettings, LambdaFunction
from components.rest_api import ApiSettings, FunctionProxy, RestApi, Route


@dataclass(frozen=True)
class QrSettings:
    interval_minutes: int
    code_length: int
    tokens_per_bucket: int


@dataclass(frozen=True)
class ShopTables:
    """What a scan reads and writes beside the buckets: the limit (config), whether a customer's earlier
    orders are still open (orders) and its claims on open orders (counting)."""

    order_table: aws.dynamodb.Table
    config_table: aws.dynamodb.Table
    counting_table: aws.dynamodb.Table
    customer_timeout_seconds: int
    time_zone: str = "UTC"  # the shop's days: order numbers restart with each

    @property
    def claim_grace_seconds(self) -> int:
        """After this, a claim whose order was never stored holds nothing: its run ended long before."""
        return self.customer_timeout_seconds + CLAIM_MARGIN_SECONDS


CLAIM_MARGIN_SECONDS = 60


class ValidatorService(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        qr: QrSettings,
        bus_name: pulumi.Input[str],
        bus_arn: pulumi.Input[str],
        event_source: str,
        user_pool_arn: pulumi.Input[str],
        shop: ShopTables,
        protection: config.DataProtection,
        function_settings: FunctionSettings,
        settings: ApiSettings,
        code_dir: Path,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("serverlesspresso:api:ValidatorService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.table = table(
            f"{name}-buckets", protection=protection, parent=self, attributes={"PK": "N"}, hash_key="PK"
        )
        environment = {
            "VALIDATOR_TABLE_NAME": self.table.name,
            "QR_INTERVAL_MINUTES": str(qr.interval_minutes),
            "QR_CODE_LENGTH": str(qr.code_length),
            "QR_TOKENS_PER_BUCKET": str(qr.tokens_per_bucket),
            "CORS_ALLOW_ORIGIN": settings.cors_allow_origin,
        }
        self.get_qr_code = LambdaFunction(
            f"{name}-get-qr-code",
            code_dir=code_dir,
            handler="get_qr_code.handler",
            settings=function_settings,
            environment=environment,
            statements=[iam.allow(["dynamodb:GetItem", "dynamodb:PutItem"], self.table.arn)],
            description="GET /qr-code: the current QR bucket (admin group only)",
            opts=child,
        )
        self.verify_qr_code = LambdaFunction(
            f"{name}-verify-qr-code",
            code_dir=code_dir,
            handler="verify_qr_code.handler",
            settings=function_settings,
            environment={
                **environment,
                "EVENT_BUS_NAME": bus_name,
                "EVENT_SOURCE": event_source,
                "ORDER_TABLE_NAME": shop.order_table.name,
                "CONFIG_TABLE_NAME": shop.config_table.name,
                "COUNTING_TABLE_NAME": shop.counting_table.name,
                "CLAIM_GRACE_SECONDS": str(shop.claim_grace_seconds),
                "TIME_ZONE": shop.time_zone,
            },
            statements=[
                iam.allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], self.table.arn),
                iam.allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], shop.counting_table.arn),
                iam.allow("dynamodb:GetItem", shop.config_table.arn),
                iam.allow("dynamodb:BatchGetItem", shop.order_table.arn),
                iam.allow("events:PutEvents", bus_arn),
            ],
            description="POST /qr-code: a scan within the customer's limit takes a token and starts an order",
            opts=child,
        )
        self.api = RestApi(
            f"{name}-api",
            routes=[
                Route("GET", "/qr-code", FunctionProxy.of(self.get_qr_code), scopes=(ADMIN_SCOPE,)),
                Route(
                    "POST",
                    "/qr-code",
                    FunctionProxy.of(self.verify_qr_code),
                    scopes=(ADMIN_SCOPE,),
                    query=("token",),
                ),
            ],
            settings=settings,
            user_pool_arn=user_pool_arn,
            description="Serverlesspresso validator service: QR codes and scans",
            opts=child,
        )
        self.endpoint = self.api.endpoint
        self.register_outputs({"endpoint": self.endpoint, "table": self.table.name})
