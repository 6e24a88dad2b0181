"""The realtime-access rules (pure): a customer's IoT policy names its own topic and nothing wider, fits IoT's
policy size limit, and is only ever written for a Cognito user id; the ID token handed over must be the
caller's."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from localcloud.emulator.lambda_runtime import load_module

rights = load_module(Path(__file__).resolve().parents[2] / "functions" / "realtime_access", "rights")
PREFIX = "arn:aws:iot:eu-west-1:123456789012:"
POLICY_DOCUMENT_LIMIT = 2048  # characters, white space excluded (AWS IoT quotas)


def test_a_customer_policy_names_the_config_topic_and_its_own_topic_only():
    sub = str(uuid.uuid4())
    document = json.loads(rights.customer_policy_document(PREFIX, sub))
    resources = {s["Action"]: s["Resource"] for s in document["Statement"]}
    assert resources == {
        "iot:Connect": f"{PREFIX}client/serverlesspresso-*",
        "iot:Subscribe": [
            f"{PREFIX}topicfilter/serverlesspresso-config",
            f"{PREFIX}topicfilter/serverlesspresso-user-{sub}",
        ],
        "iot:Receive": [
            f"{PREFIX}topic/serverlesspresso-config",
            f"{PREFIX}topic/serverlesspresso-user-{sub}",
        ],
    }
    assert len("".join(rights.customer_policy_document(PREFIX, sub).split())) < POLICY_DOCUMENT_LIMIT


SUB = "0e4c405f-51f7-4425-a709-3326081be543"


@pytest.mark.parametrize("sub", ["*", "abc", "1234-*", f"{SUB}/#", f"{SUB} ", SUB.upper(), ""])
def test_only_a_cognito_user_id_reaches_a_policy(sub):
    with pytest.raises(rights.NotACustomerSub):
        rights.customer_policy_document(PREFIX, sub)
    with pytest.raises(rights.NotACustomerSub):
        rights.customer_policy_name("shop-dev-customer-", sub)


def test_a_policy_name_longer_than_iot_allows_is_refused():
    sub = str(uuid.uuid4())
    assert rights.customer_policy_name("shop-dev-customer-", sub) == f"shop-dev-customer-{sub}"
    with pytest.raises(ValueError, match="128"):
        rights.customer_policy_name("p" * 100, sub)


@pytest.mark.parametrize(
    ("claims", "mine"),
    [
        ({"token_use": "id", "sub": "a"}, True),
        ({"token_use": "access", "sub": "a"}, False),
        ({"token_use": "id", "sub": "b"}, False),
        ({}, False),
    ],
)
def test_the_id_token_must_be_the_callers_own(claims, mine):
    assert rights.token_subject(claims, "a") is mine
