"""Order fulfillment (SYSTEM §9): the Orders bus and its log; the Producer API; US orders to the partner's
API; EU orders through a workflow; processed orders stored and dispatched. Built from the shop's components.
"""

import sys
from pathlib import Path

# The CLI runs this folder's program with only this folder on the path; the shared code is the repo root's.
if (_repo_root := str(Path(__file__).resolve().parent.parent)) not in sys.path:
    sys.path.insert(0, _repo_root)

import pulumi

from components import iam
from components.data_stores import table
from components.event_backbone import EventBackbone
from components.event_bus_rule import (
    ApiDestinationTarget,
    EventBusRule,
    FunctionTarget,
    StateMachineTarget,
)
from components.lambda_function import LambdaFunction
from components.order_workflow import OrderWorkflow
from components.rest_api import ApiGatewayAccount, ApiSettings, FunctionProxy, RestApi, Route
from components.stack_base import stack_base
from fulfillment import settings

ROOT = Path(_repo_root)
ORDER_NOTIFICATION, ORDER_PROCESSED = "Order Notification", "Order Processed"
cfg = settings.from_pulumi()

base = stack_base(settings.PROJECT, cfg, common_layer="common", tags=cfg.tags)
in_stack, alarm_topic_arn, delivery, function_settings = (
    base.in_stack,
    base.alarm_topic_arn,
    base.delivery,
    base.function_settings,
)
publishes = {"EVENT_SOURCE": cfg.event_source}

# The Orders bus, and every order event to a log group (rule OrdertoCloudWatch).
orders = EventBackbone(
    "orders",
    event_source=cfg.event_source,
    log_retention_days=cfg.observability.log_retention_days,
    delivery=delivery,
    opts=in_stack,
)
order_details = table(
    "order-details",
    protection=cfg.data_protection,
    attributes={"orderId": "S"},
    hash_key="orderId",
    opts=in_stack,
)

# The Producer API: GET /?location=&category=&value= on stage `dev`, open to anyone, publishes the order.
produce_order = LambdaFunction(
    "produce-order",
    code_dir=ROOT / "functions" / "produce_order",
    settings=function_settings,
    environment={
        **publishes,
        "EVENT_BUS_NAME": orders.bus_name,
        "CORS_ALLOW_ORIGIN": cfg.api.cors_allow_origin,
    },
    statements=[iam.allow("events:PutEvents", orders.bus_arn)],
    description="GET /: an order request becomes an Order Notification event",
    opts=in_stack,
)
api_account = ApiGatewayAccount("api-gateway-account", owner=cfg.api.api_gateway_account_owner, opts=in_stack)
producer_api = RestApi(
    "producer-api",
    routes=[
        Route(
            "GET",
            "/",
            FunctionProxy(function_name=produce_order.name, invoke_arn=produce_order.invoke_arn),
            query=("location", "category", "value"),
            description="Place an order",
        )
    ],
    settings=ApiSettings(
        region=cfg.region,
        log_retention_days=cfg.observability.log_retention_days,
        throttle_rate_limit=cfg.api.throttle_rate_limit,
        throttle_burst_limit=cfg.api.throttle_burst_limit,
        cors_allow_origin=cfg.api.cors_allow_origin,
        stage_name="dev",
        depends_on=api_account.depends_on,
    ),
    description="Order fulfillment: the Producer API",
    opts=in_stack,
)

# US orders to the partner's HTTP endpoint (rule USOrdertoAPI).
us_orders = EventBusRule(
    "us-orders-to-api",
    bus_name=orders.bus_name,
    event_pattern={
        "source": [cfg.event_source],
        "detail-type": [ORDER_NOTIFICATION],
        "detail": {"location": [{"prefix": "us-"}]},
    },
    targets={
        "partner": ApiDestinationTarget(
            endpoint=cfg.partner.endpoint,
            api_key_header=cfg.partner.api_key_header,
            api_key=settings.partner_api_key(),
        )
    },
    delivery=delivery,
    description="US orders to the partner's API",
    opts=in_stack,
)

# EU orders through the workflow, which emits Order Processed (rule EUOrdertoStepFunctions).
workflow = OrderWorkflow(
    "order-fulfillment",
    definition_file=ROOT / "asl" / "order_fulfillment.asl.json",
    workflow_type=cfg.workflow_type,
    substitutions={"EventBusName": orders.bus_name, "EventSource": cfg.event_source},
    statements=[iam.allow("events:PutEvents", orders.bus_arn)],
    log_retention_days=cfg.observability.log_retention_days,
    log_level=cfg.observability.workflow_log_level,
    tracing=cfg.observability.tracing,
    alarm_topic_arn=alarm_topic_arn,
    opts=in_stack,
)
eu_orders = EventBusRule(
    "eu-orders-to-workflow",
    bus_name=orders.bus_name,
    event_pattern={
        "source": [cfg.event_source],
        "detail-type": [ORDER_NOTIFICATION],
        "detail": {"location": ["eu-west"]},
    },
    targets={"workflow": StateMachineTarget(arn=workflow.arn)},
    delivery=delivery,
    description="EU orders to the fulfillment workflow",
    opts=in_stack,
)

# Processed orders stored in OrderDetails and announced as Order Dispatched (rule ProcessedOrderstoLambda).
processed_order = LambdaFunction(
    "processed-order",
    code_dir=ROOT / "functions" / "processed_order",
    settings=function_settings,
    environment={**publishes, "EVENT_BUS_NAME": orders.bus_name, "ORDER_TABLE_NAME": order_details.name},
    statements=[
        iam.allow("dynamodb:PutItem", order_details.arn),
        iam.allow("events:PutEvents", orders.bus_arn),
    ],
    description="Order Processed: store the order, then emit Order Dispatched",
    opts=in_stack,
)
processed_orders = EventBusRule(
    "processed-orders-to-function",
    bus_name=orders.bus_name,
    event_pattern={"source": [cfg.event_source], "detail-type": [ORDER_PROCESSED]},
    targets={"store": FunctionTarget(arn=processed_order.arn, name=processed_order.name)},
    delivery=delivery,
    description="Processed orders to the ProcessedOrder function",
    opts=in_stack,
)

pulumi.export("region", cfg.region)
pulumi.export("orderApiEndpoint", producer_api.endpoint)
pulumi.export("eventBusName", orders.bus_name)
pulumi.export("eventBusArn", orders.bus_arn)
pulumi.export("eventSource", cfg.event_source)
pulumi.export("allEventsLogGroup", orders.log_group.name)
pulumi.export("orderDetailsTableName", order_details.name)
pulumi.export("orderWorkflowArn", workflow.arn)
pulumi.export("processedOrderFunctionName", processed_order.name)
pulumi.export("usOrdersDeadLetterQueueUrl", us_orders.dead_letter_queues["partner"].url)
pulumi.export("alarmTopicArn", alarm_topic_arn)
