"""The one SNS topic every alarm of the stack goes to, readable by the people it must reach.

An alarm is only worth something if it reaches someone: the topic is encrypted with a customer-managed
KMS key whose policy lets CloudWatch use it (CloudWatch alarms cannot publish to a topic encrypted with
the AWS-managed `alias/aws/sns` key, whose policy nobody can change), and an e-mail address from the
stack's config is subscribed to it. A topic given by the stack's config is used as it is.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

CLOUDWATCH = "cloudwatch.amazonaws.com"
# What a service needs of a topic's key to publish to the topic (SNS encrypts with a data key).
PUBLISH_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


def key_policy(account_id: str) -> dict[str, Any]:
    """The alarm key's policy: the account administers it (AWS's default key policy; without it nobody
    could manage or delete the key) and CloudWatch may use it to publish alarms to the topic."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TheAccountAdministersTheKey",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchAlarmsPublishToTheAlarmTopic",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDWATCH},
                "Action": list(PUBLISH_KEY_ACTIONS),
                "Resource": "*",
            },
        ],
    }


class AlarmTopic(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        existing_topic_arn: str = "",
        email: str = "",
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("serverlesspresso:observability:AlarmTopic", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.key: aws.kms.Key | None = None
        self.topic: aws.sns.Topic | None = None
        if existing_topic_arn:
            self.arn: pulumi.Input[str] = existing_topic_arn
        else:
            account_id = aws.get_caller_identity_output(
                opts=pulumi.InvokeOutputOptions(parent=self)
            ).account_id
            self.key = aws.kms.Key(
                f"{name}-key",
                description="Encrypts the alarm topic; CloudWatch may use it to publish alarms",
                enable_key_rotation=True,
                policy=pulumi.Output.json_dumps(account_id.apply(key_policy)),
                opts=child,
            )
            self.topic = aws.sns.Topic(
                name,
                kms_master_key_id=self.key.arn,
                # Declared at the stack's top level before it had a component of its own.
                opts=pulumi.ResourceOptions(
                    parent=self, aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)]
                ),
            )
            self.arn = self.topic.arn
        self.subscription = (
            aws.sns.TopicSubscription(
                f"{name}-email", topic=self.arn, protocol="email", endpoint=email, opts=child
            )
            if email
            else None
        )
        self.register_outputs({"arn": self.arn})
