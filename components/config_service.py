"""The config service: the shop's settings and menu for the apps, opening or closing the shop, and ending
the day (the shop closed and every open order cancelled)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi

from components import iam
from components.identity import ADMIN_SCOPE, USER_SCOPES
from components.lambda_function import FunctionSettings, LambdaFunction
from components.mapping_templates import CALLER_IS_ADMIN_VTL, template
from components.rest_api import (
    Answer,
    ApiSettings,
    FunctionProxy,
    RestApi,
    Route,
    ServiceAction,
    service_error,
)

END_OF_DAY_TIMEOUT_SECONDS = 28  # under API Gateway's 29-second integration limit; a second call finishes


@dataclass(frozen=True)
class EndOfDay:
    """What ending the day touches: the open orders, the bus the apps hear from, the runs it resumes."""

    order_table_name: pulumi.Input[str]
    order_table_arn: pulumi.Input[str]
    bus_name: pulumi.Input[str]
    bus_arn: pulumi.Input[str]
    event_source: str
    order_processor_arn: pulumi.Input[str]
    function_settings: FunctionSettings
    code_dir: Path


class ConfigService(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        config_table_name: pulumi.Input[str],
        config_table_arn: pulumi.Input[str],
        user_pool_arn: pulumi.Input[str],
        settings: ApiSettings,
        end_of_day: EndOfDay,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("serverlesspresso:api:ConfigService", name, None, opts)

        def scan(scopes: tuple[str, ...] | None) -> Route:
            return Route(
                "GET",
                "/config" if scopes is None else "/admin-config",
                ServiceAction(
                    "dynamodb:Scan",
                    [config_table_arn],
                    template("config_scan.request", ConfigTableName=config_table_name),
                    [Answer(200, template("config_scan.response")), service_error()],
                ),
                scopes=scopes,
            )

        store = Route(
            "PUT",
            "/store",
            ServiceAction(
                "dynamodb:UpdateItem",
                [config_table_arn],
                template(
                    "store_update.request",
                    ConfigTableName=config_table_name,
                    DefineCallerIsAdmin=CALLER_IS_ADMIN_VTL,
                ),
                [
                    Answer(200, template("store_update.response")),
                    Answer(
                        400,
                        template("store_refused.response", DefineCallerIsAdmin=CALLER_IS_ADMIN_VTL),
                        selection_pattern=r"4\d{2}",
                    ),
                    service_error(),
                ],
            ),
            scopes=(ADMIN_SCOPE,),
            query=("state",),
        )
        by_status = pulumi.Output.from_input(end_of_day.order_table_arn).apply(
            lambda arn: f"{arn}/index/GSI-status"
        )
        self.end_of_day = LambdaFunction(
            f"{name}-end-of-day",
            code_dir=end_of_day.code_dir,
            settings=end_of_day.function_settings,
            environment={
                "ORDER_TABLE_NAME": end_of_day.order_table_name,
                "CONFIG_TABLE_NAME": config_table_name,
                "EVENT_BUS_NAME": end_of_day.bus_name,
                "EVENT_SOURCE": end_of_day.event_source,
                "CORS_ALLOW_ORIGIN": settings.cors_allow_origin,
            },
            statements=[
                iam.allow("dynamodb:UpdateItem", config_table_arn),
                iam.allow("dynamodb:Query", by_status),
                iam.allow("dynamodb:UpdateItem", end_of_day.order_table_arn),
                iam.allow("events:PutEvents", end_of_day.bus_arn),
                iam.allow(
                    ["states:SendTaskSuccess", "states:SendTaskFailure"], end_of_day.order_processor_arn
                ),
            ],
            timeout_seconds=END_OF_DAY_TIMEOUT_SECONDS,
            description="POST /store/end-of-day: closes the shop and cancels every open order (staff only)",
            opts=pulumi.ResourceOptions(parent=self),
        )
        close_the_day = Route(
            "POST",
            "/store/end-of-day",
            FunctionProxy.of(self.end_of_day),
            scopes=(ADMIN_SCOPE,),
        )
        self.api = RestApi(
            f"{name}-api",
            routes=[scan(None), scan(USER_SCOPES), store, close_the_day],
            settings=settings,
            user_pool_arn=user_pool_arn,
            description="Serverlesspresso config service: settings, menu, open/close the shop",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.endpoint = self.api.endpoint
        self.register_outputs({"endpoint": self.endpoint})
