"""Serverlesspresso: a bus; the shop's data; the order workflows and their functions; the metrics pipeline."""

from pathlib import Path

import pulumi
import pulumi_aws as aws

import config
from components import iam
from components.data_stores import DataStores
from components.event_backbone import EventBackbone
from components.event_bus_rule import DeliveryPolicy, EventBusRule, FunctionTarget, StateMachineTarget
from components.lambda_function import FunctionSettings, LambdaFunction
from components.metrics_pipeline import MetricsPipeline
from components.order_workflow import OrderWorkflow
from components.python_layer import POWERTOOLS_PACKAGES, PythonLayer, installed

ROOT = Path(__file__).resolve().parent
cfg = config.from_pulumi()

provider = aws.Provider(
    "aws",
    region=cfg.region,
    default_tags={"tags": {"project": config.PROJECT, "stack": cfg.stack, **cfg.tags}},
)
in_stack = pulumi.ResourceOptions(provider=provider)

# Every alarm of the stack (a dead letter anywhere, a failing consumer) goes to one topic.
alarm_topic_arn = (
    cfg.observability.alarm_topic_arn
    or aws.sns.Topic("alarms", kms_master_key_id="alias/aws/sns", opts=in_stack).arn
)
delivery = DeliveryPolicy(
    retry_attempts=cfg.delivery.rule_retry_attempts,
    max_event_age_seconds=cfg.delivery.rule_max_event_age_seconds,
    dead_letter_retention_seconds=cfg.delivery.dead_letter_retention_seconds,
    alarm_topic_arn=alarm_topic_arn,
)
# Powertools (the pinned version the tests use) and the shop's own shared module, each as a layer.
powertools = PythonLayer("powertools", sources=[installed(m) for m in POWERTOOLS_PACKAGES], opts=in_stack)
shop_common = PythonLayer("shop-common", sources=[ROOT / "layers" / "shop_common.py"], opts=in_stack)
function_settings = FunctionSettings(
    log_retention_days=cfg.observability.log_retention_days,
    log_level=cfg.observability.log_level,
    tracing=cfg.observability.tracing,
    async_retry_attempts=cfg.delivery.async_retry_attempts,
    dead_letter_retention_seconds=cfg.delivery.dead_letter_retention_seconds,
    layers=[powertools.arn, shop_common.arn],
    alarm_topic_arn=alarm_topic_arn,
)
workflow_logging = {
    "log_retention_days": cfg.observability.log_retention_days,
    "log_level": cfg.observability.workflow_log_level,
    "tracing": cfg.observability.tracing,
}


def function(name: str, **kwargs) -> LambdaFunction:
    return LambdaFunction(
        name.replace("_", "-"),
        code_dir=ROOT / "functions" / name,
        settings=function_settings,
        opts=in_stack,
        **kwargs,
    )


def on_event(name: str, detail_type: str, target) -> EventBusRule:
    return EventBusRule(
        f"{name}-rule",
        bus_name=events.bus_name,
        delivery=delivery,
        opts=in_stack,
        event_pattern={"source": [cfg.shop.event_source], "detail-type": [detail_type]},
        targets={"target": target},
        description=f"{detail_type} events",
    )


# The bus, and every event of the shop to a log group.
events = EventBackbone(
    "shop-events",
    event_source=cfg.shop.event_source,
    log_retention_days=cfg.observability.log_retention_days,
    delivery=delivery,
    opts=in_stack,
)
data = DataStores("shop-data", protection=cfg.data_protection, opts=in_stack)
put_events = iam.allow("events:PutEvents", events.bus_arn)

# The OrderProcessor: one execution per order, parked on the customer and then on the barista.
order_processor = OrderWorkflow(
    "order-processor",
    definition_file=ROOT / "asl" / "order_processor.asl.json",
    workflow_type="STANDARD",
    substitutions={
        "ConfigTableName": data.config_table.name,
        "CountingTableName": data.counting_table.name,
        "EventBusName": events.bus_name,
        "EventSource": cfg.shop.event_source,
        "Capacity": cfg.shop.capacity,
        "CustomerTimeoutSeconds": cfg.shop.customer_timeout_seconds,
        "BaristaTimeoutSeconds": cfg.shop.barista_timeout_seconds,
    },
    statements=[
        iam.allow("dynamodb:GetItem", data.config_table.arn),
        iam.allow("dynamodb:UpdateItem", data.counting_table.arn),
        put_events,
    ],
    actions_on_itself=["states:ListExecutions"],
    **workflow_logging,
    opts=in_stack,
)
resume_processor = iam.allow("states:SendTaskSuccess", order_processor.arn)

# The functions that keep the order table in step with the OrderProcessor's events.
order_table_env = {"ORDER_TABLE_NAME": data.order_table.name}
bus_env = {"EVENT_BUS_NAME": events.bus_name, "EVENT_SOURCE": cfg.shop.event_source}
workflow_started = function(
    "workflow_started",
    environment=order_table_env,
    statements=[iam.allow("dynamodb:PutItem", data.order_table.arn)],
)
waiting_completion = function(
    "waiting_completion",
    environment={**order_table_env, **bus_env},
    statements=[iam.allow("dynamodb:UpdateItem", data.order_table.arn), put_events, resume_processor],
)
order_timed_out = function(
    "order_timed_out",
    environment=order_table_env,
    statements=[iam.allow("dynamodb:UpdateItem", data.order_table.arn)],
)
validate_order = function("validate_order", description="Checks a drink order against the menu")

on_event("new-order", "Validator.NewOrder", StateMachineTarget(arn=order_processor.arn))
on_event(
    "workflow-started",
    "OrderProcessor.WorkflowStarted",
    FunctionTarget(arn=workflow_started.arn, name=workflow_started.name),
)
on_event(
    "waiting-completion",
    "OrderProcessor.WaitingCompletion",
    FunctionTarget(arn=waiting_completion.arn, name=waiting_completion.name),
)
on_event(
    "order-timed-out",
    "OrderProcessor.OrderTimeOut",
    FunctionTarget(arn=order_timed_out.arn, name=order_timed_out.name),
)

# The OrderManager: the apps' synchronous entry point for placing, making, completing and cancelling.
order_manager = OrderWorkflow(
    "order-manager",
    definition_file=ROOT / "asl" / "order_manager.asl.json",
    workflow_type="EXPRESS",
    substitutions={
        "OrderTableName": data.order_table.name,
        "ConfigTableName": data.config_table.name,
        "ValidateOrderFunctionArn": validate_order.arn,
        "EventBusName": events.bus_name,
        "EventSource": cfg.shop.event_source,
    },
    statements=[
        iam.allow("dynamodb:GetItem", data.config_table.arn),
        iam.allow("dynamodb:UpdateItem", data.order_table.arn),
        iam.allow("lambda:InvokeFunction", validate_order.arn),
        put_events,
        resume_processor,
    ],
    **workflow_logging,
    opts=in_stack,
)

# Sales, counted once each, into daily aggregates and CloudWatch.
metrics = MetricsPipeline(
    "metrics",
    bus_name=events.bus_name,
    bus_arn=events.bus_arn,
    event_pattern={"source": [cfg.shop.event_source], "detail-type": ["OrderManager.WaitingCompletion"]},
    event_source=cfg.shop.event_source,
    settings=cfg.metrics,
    protection=cfg.data_protection,
    function_settings=function_settings,
    delivery=delivery,
    functions_dir=ROOT / "functions",
    region=cfg.region,
    alarm_topic_arn=alarm_topic_arn,
    opts=in_stack,
)

pulumi.export("region", cfg.region)
pulumi.export("eventBusName", events.bus_name)
pulumi.export("eventBusArn", events.bus_arn)
pulumi.export("eventSource", cfg.shop.event_source)
pulumi.export("allEventsLogGroup", events.log_group.name)
pulumi.export("orderTableName", data.order_table.name)
pulumi.export("configTableName", data.config_table.name)
pulumi.export("countingTableName", data.counting_table.name)
pulumi.export("orderProcessorArn", order_processor.arn)
pulumi.export("orderManagerArn", order_manager.arn)
pulumi.export("metricsTableName", metrics.table.name)
pulumi.export("metricsQueueUrl", metrics.queue.url)
pulumi.export("loadTestFunctionName", metrics.load_test.name)
pulumi.export("alarmTopicArn", alarm_topic_arn)
pulumi.export("dashboardName", metrics.dashboard.dashboard_name if metrics.dashboard else "")
