"""What the apps hear: every change of the shop's config becomes an event, and the events each kind of app
reacts to are published to its IoT topic (the staff's, the customer's own, everyone's config topic). The
identity pool's rights on those topics are `realtime_access`'s."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlencode

import pulumi
import pulumi_aws as aws

from components import iam
from components.event_bus_rule import DeliveryPolicy, EventBusRule, FunctionTarget
from components.lambda_function import FunctionSettings, LambdaFunction

TOPIC_PREFIX = "serverlesspresso-"
# SYSTEM §2: which events reach which audience's publisher (detail-type prefixes).
AUDIENCE_EVENTS: Mapping[str, Sequence[str]] = {
    "admin": ("OrderManager.", "OrderProcessor.", "Validator.", "ConfigService."),
    "user": ("OrderManager.", "OrderProcessor."),
    "config": ("ConfigService.",),
}
AUDIENCE_TOPICS: Mapping[str, str] = {
    "admin": "topic/serverlesspresso-admin",
    "user": "topic/serverlesspresso-user-*",
    "config": "topic/serverlesspresso-config",
}
# The app settings the display app is handed, in the order SYSTEM §8 lists them.
DISPLAY_APP_SETTINGS = (
    "region",
    "userPoolId",
    "userPoolWebClientId",
    "orderManagerEndpoint",
    "APIGWEndpointValidatorService",
    "APIGWEndpointConfigService",
)
CONFIG_CHANGES = {"eventName": ["INSERT", "MODIFY"]}


def display_app_uri(base_url: str, settings: Mapping[str, str]) -> str:
    """`<displayAppBaseUrl>?region=…&userPoolId=…&…`, every value URL-encoded."""
    return f"{base_url}?{urlencode([(key, settings[key]) for key in DISPLAY_APP_SETTINGS])}"


class AppNotifications(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        bus_name: pulumi.Input[str],
        bus_arn: pulumi.Input[str],
        event_source: str,
        config_table_stream_arn: pulumi.Input[str],
        function_settings: FunctionSettings,
        delivery: DeliveryPolicy,
        stream_retry_attempts: int,
        functions_dir: Path,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("serverlesspresso:realtime:AppNotifications", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        self.iot_endpoint = aws.iot.get_endpoint_output(
            endpoint_type="iot:Data-ATS", opts=pulumi.InvokeOutputOptions(parent=self)
        ).endpoint_address

        def iot_arn(resource: str) -> pulumi.Output[str]:
            return pulumi.Output.all(region, caller.account_id).apply(
                lambda values: f"arn:aws:iot:{values[0]}:{values[1]}:{resource}"
            )

        # The config table's stream → ConfigService.ConfigChanged, one change at a time, oldest first.
        self.config_changed = LambdaFunction(
            f"{name}-config-changed",
            code_dir=functions_dir / "config_changed",
            settings=function_settings,
            environment={"EVENT_BUS_NAME": bus_name, "EVENT_SOURCE": event_source},
            statements=[
                iam.allow(
                    ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                    config_table_stream_arn,
                ),
                iam.allow_mandated_wildcard(["dynamodb:ListStreams"]),
                iam.allow("events:PutEvents", bus_arn),
            ],
            description="Announces every change of the shop's config to the apps",
            opts=child,
        )
        self.config_stream = aws.lambda_.EventSourceMapping(
            f"{name}-config-stream",
            event_source_arn=config_table_stream_arn,
            function_name=self.config_changed.arn,
            starting_position="TRIM_HORIZON",
            batch_size=1,
            filter_criteria={"filters": [{"pattern": json.dumps(CONFIG_CHANGES)}]},
            maximum_retry_attempts=stream_retry_attempts,
            bisect_batch_on_function_error=True,
            function_response_types=["ReportBatchItemFailures"],
            destination_config={"on_failure": {"destination_arn": self.config_changed.dead_letter_queue.arn}},
            opts=child,
        )

        # One publisher per audience: the same code, each allowed to publish to its own topics only.
        self.publishers: dict[str, LambdaFunction] = {}
        for audience, prefixes in AUDIENCE_EVENTS.items():
            publisher = LambdaFunction(
                f"{name}-publish-{audience}",
                code_dir=functions_dir / "publish_to_apps",
                settings=function_settings,
                environment={"APP_AUDIENCE": audience, "IOT_DATA_ENDPOINT": self.iot_endpoint},
                statements=[iam.allow("iot:Publish", iot_arn(AUDIENCE_TOPICS[audience]))],
                description=f"Publishes the {audience} apps' events to their IoT topic",
                opts=child,
            )
            EventBusRule(
                f"{name}-publish-{audience}-rule",
                bus_name=bus_name,
                event_pattern={
                    "source": [event_source],
                    "detail-type": [{"prefix": prefix} for prefix in prefixes],
                },
                targets={"publisher": FunctionTarget(arn=publisher.arn, name=publisher.name)},
                delivery=delivery,
                description=f"Events the {audience} apps react to",
                opts=child,
            )
            self.publishers[audience] = publisher

        self.register_outputs({"host": self.iot_endpoint})
