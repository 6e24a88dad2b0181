"""The config service: the shop's settings and menu for the apps, and opening or closing the shop."""

from __future__ import annotations

import pulumi

from components.identity import ADMIN_SCOPE, USER_SCOPES
from components.mapping_templates import CALLER_IS_ADMIN_VTL, template
from components.rest_api import Answer, ApiSettings, RestApi, Route, ServiceAction, service_error


class ConfigService(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        config_table_name: pulumi.Input[str],
        config_table_arn: pulumi.Input[str],
        user_pool_arn: pulumi.Input[str],
        settings: ApiSettings,
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
        self.api = RestApi(
            f"{name}-api",
            routes=[scan(None), scan(USER_SCOPES), store],
            settings=settings,
            user_pool_arn=user_pool_arn,
            description="Serverlesspresso config service: settings, menu, open/close the shop",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.endpoint = self.api.endpoint
        self.register_outputs({"endpoint": self.endpoint})
