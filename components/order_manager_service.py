"""The order-manager service: the queue for the staff, one order for its customer, and every action on an
order through the EXPRESS OrderManager workflow, run synchronously with the signed-in caller (D14)."""

from __future__ import annotations

import pulumi

from components.identity import USER_SCOPES
from components.mapping_templates import CALLER_IS_ADMIN_VTL, template
from components.rest_api import Answer, ApiSettings, RestApi, Route, ServiceAction, service_error


class OrderManagerService(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        order_table_name: pulumi.Input[str],
        order_table_arn: pulumi.Input[str],
        order_manager_arn: pulumi.Input[str],
        user_pool_arn: pulumi.Input[str],
        settings: ApiSettings,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("serverlesspresso:api:OrderManagerService", name, None, opts)
        table = {"OrderTableName": order_table_name}
        index = pulumi.Output.from_input(order_table_arn).apply(lambda arn: f"{arn}/index/")
        by_status = index.apply(lambda prefix: f"{prefix}GSI-status")
        by_user = index.apply(lambda prefix: f"{prefix}GSI-userId")
        routes = [
            Route(
                "GET",
                "/orders",
                ServiceAction(
                    "dynamodb:Query",
                    [by_status],
                    template("orders_list.request", **table),
                    [
                        Answer(
                            200, template("orders_list.response", DefineCallerIsAdmin=CALLER_IS_ADMIN_VTL)
                        ),
                        Answer(400, template("orders_invalid.response"), selection_pattern=r"4\d{2}"),
                        service_error(),
                    ],
                ),
                scopes=USER_SCOPES,
                query=("state", "maxItems"),
            ),
            Route(
                "GET",
                "/orders/{id}",
                ServiceAction(
                    "dynamodb:GetItem",
                    [order_table_arn],
                    template("order_get.request", **table),
                    [
                        Answer(200, template("order_get.response", DefineCallerIsAdmin=CALLER_IS_ADMIN_VTL)),
                        service_error(),
                    ],
                ),
                scopes=USER_SCOPES,
            ),
            Route(
                "PUT",
                "/orders/{id}",
                ServiceAction(
                    "states:StartSyncExecution",
                    [order_manager_arn],
                    template(
                        "order_update.request",
                        OrderManagerArn=order_manager_arn,
                        DefineCallerIsAdmin=CALLER_IS_ADMIN_VTL,
                    ),
                    [
                        Answer(200, template("order_update.response")),
                        Answer(400, template("order_body_invalid.response"), selection_pattern=r"4\d{2}"),
                        service_error(),
                    ],
                ),
                scopes=USER_SCOPES,
                query=("action",),
            ),
            Route(
                "GET",
                "/myOrders",
                ServiceAction(
                    "dynamodb:Query",
                    [by_user],
                    template("orders_mine.request", **table),
                    [Answer(200, template("orders_mine.response")), service_error()],
                ),
                scopes=USER_SCOPES,
            ),
        ]
        self.api = RestApi(
            f"{name}-api",
            routes=routes,
            settings=settings,
            user_pool_arn=user_pool_arn,
            description="Serverlesspresso order-manager service: the queue, an order, actions on it",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.endpoint = self.api.endpoint
        self.register_outputs({"endpoint": self.endpoint})
