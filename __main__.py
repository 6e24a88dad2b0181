"""Serverlesspresso: a bus; the shop's data; order processing; the metrics pipeline; the front door."""

from pathlib import Path

import pulumi

import config
from components.app_notifications import AppNotifications, display_app_uri
from components.config_service import ConfigService, EndOfDay
from components.data_stores import DataStores
from components.event_backbone import EventBackbone
from components.identity import Identity
from components.metrics_pipeline import MetricsPipeline
from components.order_manager_service import OrderManagerService
from components.order_processing import OrderProcessing
from components.realtime_access import RealtimeAccess
from components.rest_api import ApiGatewayAccount, ApiSettings
from components.stack_base import stack_base
from components.validator_service import QrSettings, ShopTables, ValidatorService

ROOT = Path(__file__).resolve().parent
cfg = config.from_pulumi()

base = stack_base(config.PROJECT, cfg, common_layer="shop-common", tags=cfg.tags)
in_stack, alarm_topic_arn, delivery, function_settings = (
    base.in_stack,
    base.alarm_topic_arn,
    base.delivery,
    base.function_settings,
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

# Orders: the OrderProcessor and OrderManager workflows, their functions and the rules between them.
orders = OrderProcessing(
    "orders",
    bus_name=events.bus_name,
    bus_arn=events.bus_arn,
    data=data,
    shop=cfg.shop,
    observability=cfg.observability,
    function_settings=function_settings,
    delivery=delivery,
    root=ROOT,
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

# The front door: sign-in, and the three REST APIs the display, barista and customer apps call.
identity = Identity(
    "shop-identity",
    password_sign_in=cfg.front_door.password_sign_in,
    email_source_arn=cfg.front_door.sign_up_email.source_arn,
    email_from=cfg.front_door.sign_up_email.sender,
    staff_role=cfg.front_door.signed_in_realtime,
    opts=in_stack,
)
api_account = ApiGatewayAccount(
    "api-gateway-account", owner=cfg.front_door.api_gateway_account_owner, opts=in_stack
)
api_settings = ApiSettings(
    region=cfg.region,
    log_retention_days=cfg.observability.log_retention_days,
    throttle_rate_limit=cfg.front_door.throttle_rate_limit,
    throttle_burst_limit=cfg.front_door.throttle_burst_limit,
    cors_allow_origin=cfg.front_door.cors_allow_origin,
    depends_on=api_account.depends_on,
)
config_service = ConfigService(
    "config-service",
    config_table_name=data.config_table.name,
    config_table_arn=data.config_table.arn,
    user_pool_arn=identity.user_pool_arn,
    settings=api_settings,
    end_of_day=EndOfDay(
        order_table_name=data.order_table.name,
        order_table_arn=data.order_table.arn,
        bus_name=events.bus_name,
        bus_arn=events.bus_arn,
        event_source=cfg.shop.event_source,
        order_processor_arn=orders.processor.arn,
        function_settings=function_settings,
        code_dir=ROOT / "functions" / "end_of_day",
    ),
    opts=in_stack,
)
order_manager_service = OrderManagerService(
    "order-manager-service",
    order_table_name=data.order_table.name,
    order_table_arn=data.order_table.arn,
    order_manager_arn=orders.manager.arn,
    user_pool_arn=identity.user_pool_arn,
    settings=api_settings,
    opts=in_stack,
)
validator_service = ValidatorService(
    "validator-service",
    qr=QrSettings(
        cfg.front_door.qr_interval_minutes, cfg.front_door.qr_code_length, cfg.front_door.qr_tokens_per_bucket
    ),
    bus_name=events.bus_name,
    bus_arn=events.bus_arn,
    event_source=cfg.shop.event_source,
    user_pool_arn=identity.user_pool_arn,
    shop=ShopTables(
        data.order_table, data.config_table, data.counting_table, cfg.shop.customer_timeout_seconds
    ),
    protection=cfg.data_protection,
    function_settings=function_settings,
    settings=api_settings,
    code_dir=ROOT / "functions" / "validator",
    opts=in_stack,
)

# What the apps hear: config changes as events, and each audience's events on its IoT topic.
notifications = AppNotifications(
    "app-notifications",
    bus_name=events.bus_name,
    bus_arn=events.bus_arn,
    event_source=cfg.shop.event_source,
    config_table_stream_arn=data.config_table.stream_arn,
    function_settings=function_settings,
    delivery=delivery,
    stream_retry_attempts=cfg.delivery.async_retry_attempts,
    functions_dir=ROOT / "functions",
    opts=in_stack,
)
realtime = RealtimeAccess(
    "realtime-access",
    mode=cfg.front_door.realtime_access,
    identity=identity,
    function_settings=function_settings,
    api_settings=api_settings,
    code_dir=ROOT / "functions" / "realtime_access",
    opts=in_stack,
)
app_settings = {
    "region": cfg.region,
    "userPoolId": identity.user_pool_id,
    "userPoolWebClientId": identity.client_id,
    "poolId": identity.identity_pool_id,
    "host": notifications.iot_endpoint,
    "orderManagerEndpoint": order_manager_service.endpoint,
    "APIGWEndpointValidatorService": validator_service.endpoint,
    "APIGWEndpointConfigService": config_service.endpoint,
}

# The apps' settings (SYSTEM §8), then what operators and the local cloud read.
for key, value in app_settings.items():
    pulumi.export(key, value)
pulumi.export(
    "DisplayAppURI",
    pulumi.Output.all(**app_settings).apply(
        lambda settings: display_app_uri(cfg.front_door.display_app_base_url, settings)
    ),
)
if realtime.endpoint is not None:
    pulumi.export("APIGWEndpointRealtime", realtime.endpoint)
pulumi.export("validatorTableName", validator_service.table.name)
pulumi.export("eventBusName", events.bus_name)
pulumi.export("eventBusArn", events.bus_arn)
pulumi.export("eventSource", cfg.shop.event_source)
pulumi.export("allEventsLogGroup", events.log_group.name)
pulumi.export("orderTableName", data.order_table.name)
pulumi.export("configTableName", data.config_table.name)
pulumi.export("countingTableName", data.counting_table.name)
pulumi.export("orderProcessorArn", orders.processor.arn)
pulumi.export("orderManagerArn", orders.manager.arn)
pulumi.export("metricsTableName", metrics.table.name)
pulumi.export("metricsQueueUrl", metrics.queue.url)
pulumi.export("loadTestFunctionName", metrics.load_test.name)
pulumi.export("alarmTopicArn", alarm_topic_arn)
pulumi.export("dashboardName", metrics.dashboard.dashboard_name if metrics.dashboard else "")
