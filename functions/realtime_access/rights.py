"""Who may hear which IoT topic when the shop runs with `realtimeAccess: signedIn` (pure rules).

AWS IoT lets a signed-in Cognito identity act only where both its role's IAM policy and an IoT policy
attached to the identity allow it (https://docs.aws.amazon.com/iot/latest/developerguide/cog-iot-policies.html).
The role lets every customer hear `serverlesspresso-user-*`; the IoT policy written here narrows that to the
customer's own topic, named by the user-pool `sub` the order events carry. IoT's policy variable for a
Cognito identity is the identity id, not that `sub`, so the topic is written into a policy per customer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

TOPIC_PREFIX = "serverlesspresso-"
CONFIG_TOPIC = f"{TOPIC_PREFIX}config"
STAFF_TOPIC = f"{TOPIC_PREFIX}admin"
CLIENT_IDS = f"{TOPIC_PREFIX}*"
# Cognito's `sub` is a UUID: anything else must never reach a policy document (a `*` would widen it).
SUB = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
POLICY_NAME_LIMIT = 128


class NotACustomerSub(ValueError):
    """The caller's `sub` is not a Cognito user id."""


def customer_topic(sub: str) -> str:
    if not SUB.fullmatch(sub):
        raise NotACustomerSub(f"{sub!r} is not a Cognito user id")
    return f"{TOPIC_PREFIX}user-{sub}"


def customer_policy_name(prefix: str, sub: str) -> str:
    name = f"{prefix}{sub}"
    customer_topic(sub)
    if len(name) > POLICY_NAME_LIMIT:
        raise ValueError(f"policy name {name!r} is longer than IoT's {POLICY_NAME_LIMIT} characters")
    return name


def listen_policy(iot_arn_prefix: str, topics: Sequence[str]) -> dict[str, Any]:
    """Connect as one of the shop's clients, subscribe to and receive exactly `topics`."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iot:Connect", "Resource": f"{iot_arn_prefix}client/{CLIENT_IDS}"},
            {
                "Effect": "Allow",
                "Action": "iot:Subscribe",
                "Resource": [f"{iot_arn_prefix}topicfilter/{topic}" for topic in topics],
            },
            {
                "Effect": "Allow",
                "Action": "iot:Receive",
                "Resource": [f"{iot_arn_prefix}topic/{topic}" for topic in topics],
            },
        ],
    }


def customer_policy_document(iot_arn_prefix: str, sub: str) -> str:
    return json.dumps(listen_policy(iot_arn_prefix, [CONFIG_TOPIC, customer_topic(sub)]), sort_keys=True)


def token_subject(id_token_claims: Mapping[str, Any], caller_sub: str) -> bool:
    """The ID token handed over is the caller's own (API Gateway authorized the caller's access token)."""
    return id_token_claims.get("token_use") == "id" and id_token_claims.get("sub") == caller_sub
