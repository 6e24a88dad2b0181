"""A second deploy is a second `pulumi up`: nothing duplicated, changes applied in place, seeds kept."""

from __future__ import annotations

import boto3
import pulumi
import pulumi_aws as aws_provider

from localcloud import materialize, program
from localcloud.cloud import LocalCloud

REGION = program.stack_config("local")["aws:region"]


def client(service):
    return boto3.client(service, region_name=REGION)


def test_second_deploy_keeps_seed_items_and_applies_changed_settings_in_place():
    with LocalCloud.running("local") as cloud:
        cloud.table("shop-data-counting").put_item(Item={"PK": "orderID#2026-12-06", "IDvalue": 3})
        cloud.table("shop-data-config").update_item(
            Key={"PK": "config"},
            UpdateExpression="SET storeOpen = :closed",
            ExpressionAttributeValues={":closed": False},
        )
        functions_before = client("lambda").list_functions()["Functions"]

        summary = cloud.deploy({"logRetentionDays": 3, "logLevel": "DEBUG", "capacity": 5})

        assert summary.count("created") == 0
        assert summary.action_of("shop-data-seed-config") == "unchanged"
        day = cloud.table("shop-data-counting").get_item(Key={"PK": "orderID#2026-12-06"})["Item"]
        assert day["IDvalue"] == 3
        assert cloud.table("shop-data-config").get_item(Key={"PK": "config"})["Item"]["storeOpen"] is False
        functions_after = client("lambda").list_functions()["Functions"]
        assert sorted(f["FunctionArn"] for f in functions_after) == sorted(
            f["FunctionArn"] for f in functions_before
        )
        variables = client("lambda").get_function_configuration(
            FunctionName=cloud.function_name("workflow-started")
        )
        assert variables["Environment"]["Variables"]["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
        group = client("logs").describe_log_groups(logGroupNamePrefix=cloud.outputs["allEventsLogGroup"])
        assert group["logGroups"][0]["retentionInDays"] == 3
        definition = client("stepfunctions").describe_state_machine(
            stateMachineArn=cloud.outputs["orderProcessorArn"]
        )
        assert '"Executions[5]"' in definition["definition"].replace("$.isCapacityAvailable.", '"')


def test_unchanged_redeploy_touches_nothing():
    with LocalCloud.running("local") as cloud:
        summary = cloud.deploy()
    assert summary.count("unchanged") == len(cloud.state.resources)


def test_unsupported_resource_type_is_listed_not_dropped(aws):
    def tiny_program():
        aws_provider.sqs.Queue("kept")
        aws_provider.apigateway.ApiKey("not-emulated")
        pulumi.export("ok", True)

    state = materialize.StackState()
    _, summary = materialize.deploy("local", state, program_fn=tiny_program)

    assert summary.unsupported == [("aws:apigateway/apiKey:ApiKey", "not-emulated")]
    assert summary.action_of("kept") == "created"
    assert len(client("sqs").list_queues()["QueueUrls"]) == 1
