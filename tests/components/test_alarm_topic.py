"""The alarm topic and the alarms on it, under mocks: encrypted with a key CloudWatch may use, subscribed
by the stack's e-mail, fed by every function and both workflows."""

from __future__ import annotations

import json

from components.alarm_topic import key_policy
from components.alarms import unexpected_failure_pattern
from localcloud import program

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def run_with(**settings):
    return program.run("dev", config={f"serverlesspresso:{k}": v for k, v in settings.items()})


def test_the_created_topic_is_encrypted_with_a_rotated_key_of_the_stack_not_the_aws_managed_one(program_run):
    run = program_run("dev")
    [topic] = run.of_type("aws:sns/topic:Topic")
    [key] = run.of_type("aws:kms/key:Key")
    assert topic.inputs["kmsMasterKeyId"] == key.state["arn"]
    assert topic.inputs["kmsMasterKeyId"] != "alias/aws/sns"
    assert key.inputs["enableKeyRotation"] is True
    assert json.loads(key.inputs["policy"]) == key_policy(program.ACCOUNT_ID)
    assert run.outputs["alarmTopicArn"] == topic.state["arn"]


def test_the_key_lets_cloudwatch_publish_and_the_account_administer_it():
    cloudwatch, account = (
        {s["Sid"]: s for s in key_policy("111122223333")["Statement"]}[sid]
        for sid in ("CloudWatchAlarmsPublishToTheAlarmTopic", "TheAccountAdministersTheKey")
    )
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(cloudwatch["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert account["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}


def test_no_one_is_subscribed_unless_the_stack_names_an_email(program_run):
    assert program_run("dev").of_type("aws:sns/topicSubscription:TopicSubscription") == []


def test_the_configured_email_is_subscribed_to_the_alarm_topic():
    run = run_with(alarmEmail="oncall@example.com")
    [subscription] = run.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert subscription.inputs["protocol"] == "email"
    assert subscription.inputs["endpoint"] == "oncall@example.com"
    assert subscription.inputs["topic"] == run.outputs["alarmTopicArn"]


def test_a_configured_topic_is_used_as_it_is_and_still_gets_the_email():
    topic = "arn:aws:sns:eu-west-1:123456789012:on-call"
    run = run_with(alarmTopicArn=topic, alarmEmail="oncall@example.com")
    assert run.of_type("aws:sns/topic:Topic") == [] and run.of_type("aws:kms/key:Key") == []
    [subscription] = run.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert subscription.inputs["topic"] == topic
    assert all(alarm.inputs["alarmActions"] == [topic] for alarm in run.of_type(ALARM))


def test_every_function_raises_an_alarm_when_it_fails(program_run):
    run = program_run("dev")
    errors = {
        a.inputs["dimensions"]["FunctionName"]: a.inputs
        for a in run.of_type(ALARM)
        if a.inputs["metricName"] == "Errors"
    }
    functions = run.of_type("aws:lambda/function:Function")
    assert len(functions) >= 6
    for function in functions:
        alarm = errors[function.state["name"]]
        assert (alarm["namespace"], alarm["statistic"], alarm["threshold"]) == ("AWS/Lambda", "Sum", 0)


def test_a_failed_or_timed_out_order_processor_run_raises_an_alarm(program_run):
    run = program_run("dev")
    processor = run.outputs["orderProcessorArn"]
    watched = {
        a.inputs["metricName"]
        for a in run.of_type(ALARM)
        if a.inputs["dimensions"] == {"StateMachineArn": processor}
    }
    assert watched == {"ExecutionsFailed", "ExecutionsTimedOut"}


def test_the_order_manager_alarms_on_failures_that_are_not_answers_to_the_apps(program_run):
    run = program_run("dev")
    [failures] = run.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter")
    assert failures.inputs["logGroupName"] == run.named("order-manager-logs").state["name"]
    assert failures.inputs["pattern"] == unexpected_failure_pattern(
        ["InvalidOrder", "OrderNotFound", "OrderNotAccepted", "Forbidden"]
    )
    metric = failures.inputs["metricTransformation"]
    [alarm] = [a for a in run.of_type(ALARM) if a.inputs["metricName"] == metric["name"]]
    assert alarm.inputs["namespace"] == metric["namespace"]
    timed_out = [
        a
        for a in run.of_type(ALARM)
        if a.inputs["dimensions"] == {"StateMachineArn": run.outputs["orderManagerArn"]}
    ]
    assert [a.inputs["metricName"] for a in timed_out] == ["ExecutionsTimedOut"]


def test_the_failure_filter_counts_failed_runs_except_their_answers():
    assert unexpected_failure_pattern(["InvalidOrder", "Forbidden"]) == (
        '{ ($.type = "ExecutionFailed") && ($.details.error != "InvalidOrder") '
        '&& ($.details.error != "Forbidden") }'
    )
