"""emulator.iot's decisions, in process: IAM/IoT policy evaluation as AWS IoT does it for Cognito
identities, and the SigV4 check of a device-gateway upgrade with identity-pool credentials."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from localcloud.apps import IdentityCredentials, signed_mqtt_path
from localcloud.emulator import cognito, iot

REGION = "us-east-1"
ARN = f"arn:aws:iot:{REGION}:123456789012:"
HOST = "127.0.0.1:8883"


def _doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action, resource, **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        ("topicfilter/serverlesspresso-*", "topicfilter/serverlesspresso-admin", "allow"),
        ("topicfilter/serverlesspresso-user-?", "topicfilter/serverlesspresso-user-1", "allow"),
        ("topicfilter/serverlesspresso-user-?", "topicfilter/serverlesspresso-user-12", "none"),
        # MQTT's wildcards are plain characters in a policy: `+` names the filter "+", nothing else
        ("topicfilter/serverlesspresso-+", "topicfilter/serverlesspresso-admin", "none"),
        ("topicfilter/serverlesspresso-+", "topicfilter/serverlesspresso-+", "allow"),
        ("topicfilter/a.b", "topicfilter/aXb", "none"),
        ("topicfilter/${cognito-identity.amazonaws.com:sub}", "topicfilter/us-east-1:abc", "allow"),
        ("topicfilter/${aws:PrincipalTag/userId}", "topicfilter/anything", "none"),
    ],
)
def test_resources_match_with_the_policy_wildcards_only(pattern, resource, expected):
    variables = {"cognito-identity.amazonaws.com:sub": "us-east-1:abc"}
    assert iot.decision(
        [_doc(_allow("iot:Subscribe", ARN + pattern))], "iot:Subscribe", ARN + resource, variables
    ) == (expected)


def test_an_explicit_deny_wins_and_a_conditional_allow_allows_nothing():
    allow = _allow("iot:*", ARN + "topic/*")
    deny = {"Effect": "Deny", "Action": "iot:Receive", "Resource": ARN + "topic/secret"}
    conditional = _allow("iot:Receive", ARN + "topic/x", Condition={"Bool": {"aws:SecureTransport": "true"}})
    assert iot.decision([_doc(allow), _doc(deny)], "iot:Receive", ARN + "topic/secret", {}) == "deny"
    assert iot.decision([_doc(allow)], "iot:receive", ARN + "topic/secret", {}) == "allow"
    assert iot.decision([_doc(conditional)], "iot:Receive", ARN + "topic/x", {}) == "none"
    assert (
        iot.decision([_doc(_allow("iot:Publish", ARN + "topic/x"))], "iot:Receive", ARN + "topic/x", {})
        == "none"
    )


@pytest.fixture
def credentials(aws):
    """A guest's credentials from an identity pool whose guest role may connect."""
    from localcloud.emulator import install

    install()
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="guest", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="guest",
        PolicyName="listen",
        PolicyDocument=json.dumps(_doc(_allow("iot:Connect", ARN + "client/shop-*"))),
    )
    identity = boto3.client("cognito-identity", region_name=REGION)
    pool = identity.create_identity_pool(IdentityPoolName="shop", AllowUnauthenticatedIdentities=True)
    identity.set_identity_pool_roles(IdentityPoolId=pool["IdentityPoolId"], Roles={"unauthenticated": role})
    identity_id = identity.get_id(IdentityPoolId=pool["IdentityPoolId"])["IdentityId"]
    issued = identity.get_credentials_for_identity(IdentityId=identity_id)["Credentials"]
    return IdentityCredentials(
        identity_id, issued["AccessKeyId"], issued["SecretKey"], issued["SessionToken"]
    )


def _principal(path, now=None, host=HOST):
    return iot.principal_of(path, {"Host": host}, time.time() if now is None else now)


def test_a_signed_url_admits_the_identity_its_credentials_were_issued_to(credentials):
    principal = _principal(signed_mqtt_path(HOST, REGION, credentials))
    assert principal.identity_id == credentials.identity_id and not principal.authenticated
    assert iot.is_allowed(principal, "iot:Connect", "client/shop-1")
    assert not iot.is_allowed(principal, "iot:Connect", "client/other")


def test_expired_credentials_are_refused(credentials):
    path = signed_mqtt_path(HOST, REGION, credentials)
    cognito.expire_credentials(credentials.access_key_id)
    with pytest.raises(iot.Refused, match="expired"):
        _principal(path)


@pytest.mark.parametrize(
    "tamper",
    [
        "signature",
        "token signed in the query",
        "other host",
        "fifteen minutes late",
        "unknown key",
        "service",
    ],
)
def test_what_aws_would_refuse_is_refused(credentials, tamper):
    now = time.time()
    path = signed_mqtt_path(HOST, REGION, credentials, now=now)
    if tamper == "signature":
        path = path.replace("X-Amz-Signature=", "X-Amz-Signature=f", 1)
    elif tamper == "token signed in the query":
        # botocore's presigning signs the session token; AWS IoT expects it appended after signing
        import botocore.auth
        import botocore.awsrequest
        import botocore.credentials

        request = botocore.awsrequest.AWSRequest("GET", f"https://{HOST}/mqtt")
        botocore.auth.SigV4QueryAuth(
            botocore.credentials.Credentials(
                credentials.access_key_id, credentials.secret_key, credentials.session_token
            ),
            "iotdevicegateway",
            REGION,
        ).add_auth(request)
        path = "/mqtt?" + request.url.split("?", 1)[1]
    elif tamper == "other host":
        path = signed_mqtt_path("localhost:8883", REGION, credentials, now=now)
    elif tamper == "fifteen minutes late":
        now += 15 * 60 + 5
    elif tamper == "unknown key":
        path = path.replace(credentials.access_key_id, "ASIAUNKNOWNKEY00000", 1)
    elif tamper == "service":
        path = path.replace("iotdevicegateway", "iotdata", 1)
    with pytest.raises(iot.Refused) as refused:
        _principal(path, now=now)
    assert refused.value.status == 403
