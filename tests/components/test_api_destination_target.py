"""EventBusRule's API destination target: a connection with API-key auth (the key kept secret), the
destination (endpoint, POST), a role that may invoke only that destination, and retries, a dead-letter
queue and its alarm like every other target."""

from __future__ import annotations

import json

import pulumi
from pulumi.runtime.rpc import is_rpc_secret, unwrap_rpc_secret

from components.event_bus_rule import ApiDestinationTarget, DeliveryPolicy, EventBusRule
from localcloud import program

TOPIC = "arn:aws:sns:us-east-1:123456789012:alarms"
DELIVERY = DeliveryPolicy(
    retry_attempts=4, max_event_age_seconds=600, dead_letter_retention_seconds=3600, alarm_topic_arn=TOPIC
)
ENDPOINT = "https://partner.example.com/orders"


def partner_rule(api_key="k-123", **extra):
    """`api_key` may be a callable, called while the program runs (an Output needs the program's loop)."""

    def declare():
        key = api_key() if callable(api_key) else api_key
        EventBusRule(
            "us-orders",
            bus_name="orders",
            event_pattern={"source": ["com.aws.orders"], "detail-type": ["Order Notification"]},
            targets={
                "partner": ApiDestinationTarget(
                    endpoint=ENDPOINT, api_key_header="x-partner-key", api_key=key, **extra
                )
            },
            delivery=DELIVERY,
        )

    return program.run("dev", declare)


def test_the_connection_authenticates_with_the_api_key_in_its_header_kept_secret():
    run = partner_rule(api_key="plain-text-given")
    connection = run.named("us-orders-partner-connection")

    assert connection.inputs["authorizationType"] == "API_KEY"
    assert is_rpc_secret(connection.inputs["authParameters"])
    assert unwrap_rpc_secret(connection.inputs["authParameters"]) == {
        "apiKey": {"key": "x-partner-key", "value": "plain-text-given"}
    }


def test_a_secret_output_stays_secret():
    run = partner_rule(api_key=lambda: pulumi.Output.secret("from-config"))

    assert is_rpc_secret(run.named("us-orders-partner-connection").inputs["authParameters"])


def test_the_destination_posts_to_the_endpoint_through_the_connection():
    run = partner_rule()
    destination = run.named("us-orders-partner-destination")

    assert destination.inputs["invocationEndpoint"] == ENDPOINT
    assert destination.inputs["httpMethod"] == "POST"
    assert destination.inputs["connectionArn"] == run.named("us-orders-partner-connection").state["arn"]


def test_the_target_role_may_invoke_only_this_destination():
    run = partner_rule()
    destination_arn = run.named("us-orders-partner-destination").state["arn"]
    target = run.named("us-orders-partner", "aws:cloudwatch/eventTarget:EventTarget")

    assert target.inputs["arn"] == destination_arn
    assert target.inputs["roleArn"] == run.named("us-orders-partner-role").state["arn"]
    policy = json.loads(run.named("us-orders-partner-policy").inputs["policy"])
    assert policy["Statement"] == [
        {"Effect": "Allow", "Action": ["events:InvokeApiDestination"], "Resource": [destination_arn]}
    ]
    trust = json.loads(run.named("us-orders-partner-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}


def test_the_target_retries_then_dead_letters_into_an_alarmed_queue():
    run = partner_rule()
    target = run.named("us-orders-partner", "aws:cloudwatch/eventTarget:EventTarget")
    dlq = run.named("us-orders-partner-dlq")

    assert target.inputs["retryPolicy"] == {"maximumRetryAttempts": 4, "maximumEventAgeInSeconds": 600}
    assert target.inputs["deadLetterConfig"] == {"arn": dlq.state["arn"]}
    dlq_policy = json.loads(run.named("us-orders-partner-dlq-policy").inputs["policy"])
    assert (
        dlq_policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"]
        == run.named("us-orders").state["arn"]
    )
    alarm = run.named("us-orders-partner-dlq-not-empty")
    assert alarm.inputs["dimensions"] == {"QueueName": dlq.state["name"]}
    assert alarm.inputs["alarmActions"] == [TOPIC]


def test_http_parameters_are_sent_only_when_given():
    assert (
        "httpTarget"
        not in partner_rule().named("us-orders-partner", "aws:cloudwatch/eventTarget:EventTarget").inputs
    )

    run = partner_rule(header_parameters={"x-tenant": "eu"}, query_parameters={"channel": "events"})
    http = run.named("us-orders-partner", "aws:cloudwatch/eventTarget:EventTarget").inputs["httpTarget"]
    assert http == {"headerParameters": {"x-tenant": "eu"}, "queryStringParameters": {"channel": "events"}}
