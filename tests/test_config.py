"""The stack configuration contract: every stack file loads, bad values are refused with a precise message."""

from __future__ import annotations

import json
import re

import pytest
import yaml

import config
from localcloud import program

VALID = {"owner": "team", "costCenter": "cc-1"}


SES_IDENTITY = "arn:aws:ses:eu-west-1:123456789012:identity/coffee.example.com"


def load(**overrides):
    return config.load_config("dev", {**VALID, **overrides}, "eu-west-1")


def test_every_stack_file_loads_into_a_typed_config(stack):
    values = program.stack_config(stack)
    prefix = f"{config.PROJECT}:"
    loaded = config.load_config(
        stack,
        {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)},
        values.get("aws:region"),
    )
    assert loaded.stack == stack
    assert loaded.shop.capacity >= 1
    assert loaded.tags["owner"]


def test_defaults_are_the_specified_shop():
    loaded = load()
    assert loaded.shop.capacity == 20
    assert (loaded.shop.customer_timeout_seconds, loaded.shop.barista_timeout_seconds) == (300, 900)
    assert loaded.shop.event_source == "awsserverlessda.serverlesspresso"
    assert loaded.observability.log_retention_days == 14
    assert loaded.metrics.sinks == ("dynamodb", "cloudwatch")
    assert (loaded.metrics.batch_size, loaded.metrics.batch_window_seconds) == (10, 30)
    # Two, not the workshop's one: Lambda's smallest maximum concurrency for an SQS mapping, which the
    # consumer reserves in full so its batches are never throttled (see components/metrics_pipeline.py).
    assert loaded.metrics.reserved_concurrency == 2
    assert loaded.observability.alarm_email == ""


def test_an_alarm_email_is_kept_for_the_alarm_topic():
    assert load(alarmEmail="oncall@example.com").observability.alarm_email == "oncall@example.com"


def test_text_values_from_the_cli_are_typed():
    loaded = load(capacity="7", tracing="true", metricsSinks='["cloudwatch"]')
    assert loaded.shop.capacity == 7
    assert loaded.observability.tracing is True
    assert loaded.metrics.sinks == ("cloudwatch",)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"capacity": "0"},
            "serverlesspresso:capacity = 0 is not allowed; expected an integer from 1 to 500",
        ),
        ({"capacity": "twenty"}, "serverlesspresso:capacity = 'twenty' is not allowed; expected an integer"),
        (
            {"customerTimeoutSeconds": "0"},
            "serverlesspresso:customerTimeoutSeconds = 0 is not allowed; expected an integer from 1 to 3600",
        ),
        (
            {"logRetentionDays": "10"},
            "serverlesspresso:logRetentionDays = 10 is not allowed; expected one of 1, 3, 5, 7, 14",
        ),
        (
            {"logLevel": "LOUD"},
            "serverlesspresso:logLevel = 'LOUD' is not allowed; expected one of DEBUG, INFO",
        ),
        (
            {"workflowLogLevel": "OFF"},
            "serverlesspresso:workflowLogLevel = 'OFF' is not allowed; expected one of ALL, ERROR, FATAL",
        ),
        ({"tracing": "yes"}, "serverlesspresso:tracing = 'yes' is not allowed; expected true or false"),
        (
            {"metricsSinks": '["dynamodb", "s3"]'},
            "serverlesspresso:metricsSinks = ['dynamodb', 's3'] is not allowed; expected a non-empty list",
        ),
        ({"metricsSinks": "[]"}, "serverlesspresso:metricsSinks = [] is not allowed"),
        (
            {"metricsTableBillingMode": "ON_DEMAND"},
            "serverlesspresso:metricsTableBillingMode = 'ON_DEMAND' is not allowed; "
            "expected one of PAY_PER_REQUEST, PROVISIONED",
        ),
        (
            {"eventSource": "aws.coffee"},
            "serverlesspresso:eventSource = 'aws.coffee' is not allowed; expected a non-empty name",
        ),
        (
            {"metricsConsumerTimeoutSeconds": "60", "metricsQueueVisibilityTimeoutSeconds": "120"},
            "serverlesspresso:metricsQueueVisibilityTimeoutSeconds = 120 is not allowed; expected at least "
            "6 x metricsConsumerTimeoutSeconds = 360",
        ),
        (
            {"metricsBatchSize": "50", "metricsBatchWindowSeconds": "0"},
            "serverlesspresso:metricsBatchSize = 50 is not allowed; expected at most 10 while "
            "metricsBatchWindowSeconds is 0",
        ),
        (
            {"retainData": "true"},
            "serverlesspresso:retainData = True is not allowed; expected deletionProtection true as well",
        ),
        ({"alarmTopicArn": "my-topic"}, "serverlesspresso:alarmTopicArn = 'my-topic' is not allowed"),
        (
            {"alarmEmail": "oncall at example.com"},
            "serverlesspresso:alarmEmail = 'oncall at example.com' is not allowed; "
            "expected one e-mail address",
        ),
        ({"alarmEmail": "a@b.c, d@e.f"}, "serverlesspresso:alarmEmail = 'a@b.c, d@e.f' is not allowed"),
        (
            {"metricsReservedConcurrency": "1"},
            "serverlesspresso:metricsReservedConcurrency = 1 is not allowed; "
            "expected an integer from 2 to 1000",
        ),
        ({"capacty": "20"}, "serverlesspresso:capacty is not a setting of this project"),
        (
            {"signUpEmailSourceArn": "coffee@example.com"},
            "serverlesspresso:signUpEmailSourceArn = 'coffee@example.com' is not allowed; expected the ARN "
            "of a verified SES identity",
        ),
        (
            {"signUpEmailSourceArn": SES_IDENTITY},
            "serverlesspresso:signUpEmailFrom = '' is not allowed with signUpEmailSourceArn",
        ),
        ({"signUpEmailFrom": "coffee@example.com"}, "expected both set (SES sends as that sender) or both"),
        (
            {"apiGatewayAccountOwner": "maybe"},
            "serverlesspresso:apiGatewayAccountOwner = 'maybe' is not allowed",
        ),
        (
            {"timeZone": "Europe/Atlantis"},
            "serverlesspresso:timeZone = 'Europe/Atlantis' is not allowed; expected an IANA time zone name",
        ),
        ({"realtimeAccess": "everyone"}, "serverlesspresso:realtimeAccess = 'everyone' is not allowed"),
    ],
)
def test_invalid_setting_is_refused_with_its_key_value_and_what_is_allowed(overrides, expected):
    with pytest.raises(config.ConfigError) as refused:
        load(**overrides)
    assert "stack 'dev'" in str(refused.value)
    assert expected in str(refused.value)


def test_missing_required_keys_and_region_are_all_reported_at_once():
    with pytest.raises(config.ConfigError) as refused:
        config.load_config("prod", {}, None)
    message = str(refused.value)
    assert "serverlesspresso:owner is required" in message
    assert "serverlesspresso:costCenter is required" in message
    assert "aws:region is required" in message


def test_pulumi_yaml_declares_exactly_the_settings_with_their_types_and_defaults():
    declared = yaml.safe_load((program.REPO_ROOT / "Pulumi.yaml").read_text())["config"]
    assert set(declared) == set(config.SETTINGS_BY_KEY)
    for key, spec in declared.items():
        setting = config.SETTINGS_BY_KEY[key]
        assert spec["type"] == setting.type, key
        assert spec.get("default") == setting.default, key
        assert spec["description"] == setting.description, key


def test_stack_files_use_only_declared_keys():
    for stack in program.stack_names():
        keys = yaml.safe_load((program.REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
        unknown = [
            k
            for k in keys
            if k.startswith("serverlesspresso:") and k.split(":", 1)[1] not in config.SETTINGS_BY_KEY
        ]
        assert unknown == [], stack


def test_the_configuration_reference_matches_the_config_module():
    reference = (program.REPO_ROOT / "docs" / "configuration.md").read_text()
    table = re.search(r"<!-- config-table:start -->\n(.*?)\n<!-- config-table:end -->", reference, re.S)
    assert table, "docs/configuration.md lost its generated configuration table markers"
    assert table.group(1).strip() == config.markdown_table(), (
        "docs/configuration.md is stale: regenerate its table with `python -m config --markdown`"
    )


def test_markdown_table_lists_every_setting_once():
    rows = [line for line in config.markdown_table().splitlines()[2:]]
    assert len(rows) == len(config.SETTINGS)
    assert json.dumps(20) in next(row for row in rows if "`capacity`" in row)


def test_sign_up_codes_come_from_cognito_unless_an_ses_identity_and_its_sender_are_set():
    assert load().front_door.sign_up_email == config.SignUpEmail()
    chosen = load(signUpEmailSourceArn=SES_IDENTITY, signUpEmailFrom="Coffee <coffee@coffee.example.com>")
    assert chosen.front_door.sign_up_email == config.SignUpEmail(
        SES_IDENTITY, "Coffee <coffee@coffee.example.com>"
    )
