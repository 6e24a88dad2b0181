"""AppNotifications as the program declares it: the config stream mapping, one publisher per audience with
its rule and its own topics, and the display app's settings URI."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from components.app_notifications import DISPLAY_APP_SETTINGS, display_app_uri

TOPIC_ARN = "arn:aws:iot:eu-west-1:123456789012:"


@pytest.fixture(scope="module")
def dev(program_run):
    return program_run("dev")


def _statements(run, name):
    return json.loads(run.named(name).inputs["policy"])["Statement"]


def test_config_changes_reach_the_function_one_at_a_time_from_the_oldest_and_only_inserts_and_modifies(dev):
    mapping = dev.named("app-notifications-config-stream").inputs
    table = dev.named("shop-data-config")
    assert mapping["eventSourceArn"] == table.state["streamArn"]
    assert (mapping["batchSize"], mapping["startingPosition"]) == (1, "TRIM_HORIZON")
    [only] = mapping["filterCriteria"]["filters"]
    assert json.loads(only["pattern"]) == {"eventName": ["INSERT", "MODIFY"]}
    dlq = dev.named("app-notifications-config-changed-dlq").state["arn"]
    assert mapping["destinationConfig"]["onFailure"]["destinationArn"] == dlq
    assert mapping["maximumRetryAttempts"] >= 0
    assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_config_stream_consumer_may_read_and_list_the_stream_as_a_mapping_requires(dev):
    stream = dev.named("shop-data-config").state["streamArn"]
    statements = _statements(dev, "app-notifications-config-changed-policy")
    reads = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}
    assert any(set(s["Action"]) == reads and s["Resource"] == [stream] for s in statements)
    assert {"Effect": "Allow", "Action": ["dynamodb:ListStreams"], "Resource": ["*"]} in statements


@pytest.mark.parametrize(
    ("audience", "topic", "prefixes"),
    [
        (
            "admin",
            "topic/serverlesspresso-admin",
            ["OrderManager.", "OrderProcessor.", "Validator.", "ConfigService."],
        ),
        ("user", "topic/serverlesspresso-user-*", ["OrderManager.", "OrderProcessor."]),
        ("config", "topic/serverlesspresso-config", ["ConfigService."]),
    ],
)
def test_each_audience_has_a_publisher_allowed_only_its_topics_behind_the_rule_of_its_events(
    dev, audience, topic, prefixes
):
    publish = [
        s
        for s in _statements(dev, f"app-notifications-publish-{audience}-policy")
        if "iot:Publish" in s["Action"]
    ]
    assert publish == [{"Effect": "Allow", "Action": ["iot:Publish"], "Resource": [TOPIC_ARN + topic]}]
    function = dev.named(f"app-notifications-publish-{audience}", "aws:lambda/function:Function")
    assert function.inputs["environment"]["variables"]["APP_AUDIENCE"] == audience
    assert function.inputs["environment"]["variables"]["IOT_DATA_ENDPOINT"] == dev.outputs["host"]
    pattern = json.loads(
        dev.named(f"app-notifications-publish-{audience}-rule", "aws:cloudwatch/eventRule:EventRule").inputs[
            "eventPattern"
        ]
    )
    assert pattern["detail-type"] == [{"prefix": p} for p in prefixes]
    assert pattern["source"] == ["awsserverlessda.serverlesspresso"]


def test_the_iot_host_is_the_accounts_ats_data_endpoint(dev):
    assert dev.outputs["host"].endswith("-ats.iot.eu-west-1.amazonaws.com")


def test_the_display_app_uri_carries_every_setting_url_encoded_and_they_round_trip(dev):
    uri = dev.outputs["DisplayAppURI"]
    parts = urlsplit(uri)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://workshop-display.serverlesscoffee.com/"
    decoded = {key: values[0] for key, values in parse_qs(parts.query, strict_parsing=True).items()}
    assert decoded == {key: dev.outputs[key] for key in DISPLAY_APP_SETTINGS}
    assert list(decoded) == list(DISPLAY_APP_SETTINGS)


def test_values_with_reserved_characters_survive_the_display_app_uri():
    settings = {key: f"{key}&=?/ ü" for key in DISPLAY_APP_SETTINGS}
    decoded = parse_qs(urlsplit(display_app_uri("https://d.example/", settings)).query)
    assert {key: values[0] for key, values in decoded.items()} == settings
