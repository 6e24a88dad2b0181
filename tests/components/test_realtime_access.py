"""RealtimeAccess as the program declares it, per `realtimeAccess`: which role may hear which topic, the staff
role the identity pool maps the `admin` group to, the staff IoT policy, and the route that attaches a
signed-in identity's IoT policy."""

from __future__ import annotations

import json

import pytest

PREFIX = "arn:aws:iot:eu-west-1:123456789012:"


def _listen(topics):
    return [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": PREFIX + "client/serverlesspresso-*"},
        {
            "Effect": "Allow",
            "Action": "iot:Subscribe",
            "Resource": [PREFIX + "topicfilter/" + t for t in topics],
        },
        {"Effect": "Allow", "Action": "iot:Receive", "Resource": [PREFIX + "topic/" + t for t in topics]},
    ]


def _policy(run, name):
    return json.loads(run.named(name).inputs["policy"])["Statement"]


@pytest.fixture(scope="module")
def guests(program_run):
    return program_run("dev")


@pytest.fixture(scope="module")
def signed_in():
    from localcloud import program

    return program.run("dev", config={"serverlesspresso:realtimeAccess": "signedIn"})


def test_with_guests_only_the_guest_role_listens_and_it_hears_every_shop_topic(guests):
    assert _policy(guests, "realtime-access-guest-listen") == _listen(["serverlesspresso-*"])
    assert (
        guests.named("realtime-access-guest-listen").inputs["role"] == guests.named("shop-identity-guest").id
    )
    listening = [r.name for r in guests.resources if r.name.endswith("-listen")]
    assert listening == ["realtime-access-guest-listen"]
    assert not [
        r
        for r in guests.resources
        if r.type in ("aws:iot/policy:Policy", "aws:iam/role:Role") and "staff" in r.name
    ]
    assert "APIGWEndpointRealtime" not in guests.outputs


@pytest.mark.parametrize(
    ("role", "topics"),
    [
        ("guest", ["serverlesspresso-config"]),
        ("authenticated", ["serverlesspresso-config", "serverlesspresso-user-*"]),
        ("staff", ["serverlesspresso-config", "serverlesspresso-admin"]),
    ],
)
def test_signed_in_gives_each_role_its_topics_only(signed_in, role, topics):
    policy = {"authenticated": "customer"}.get(role, role)
    assert _policy(signed_in, f"realtime-access-{policy}-listen") == _listen(topics)
    attached_to = signed_in.named(f"realtime-access-{policy}-listen").inputs["role"]
    assert attached_to == signed_in.named(f"shop-identity-{role}").id


def test_signed_in_maps_the_admin_group_to_the_staff_role_and_everyone_else_to_the_authenticated_role(
    signed_in,
):
    attachment = signed_in.named("shop-identity-roles").inputs
    [mapping] = attachment["roleMappings"]
    pool = signed_in.named("shop-identity-users", "aws:cognito/userPool:UserPool")
    client = signed_in.named("shop-identity-app-client")
    assert mapping["identityProvider"] == f"{pool.state['endpoint']}:{client.id}"
    assert mapping["type"] == "Rules" and mapping["ambiguousRoleResolution"] == "AuthenticatedRole"
    [rule] = mapping["mappingRules"]
    assert rule == {
        "claim": "cognito:groups",
        "matchType": "Contains",
        "value": "admin",
        "roleArn": signed_in.named("shop-identity-staff", "aws:iam/role:Role").state["arn"],
    }
    trust = json.loads(signed_in.named("shop-identity-staff", "aws:iam/role:Role").inputs["assumeRolePolicy"])
    [statement] = trust["Statement"]
    assert statement["Condition"]["ForAnyValue:StringLike"] == {
        "cognito-identity.amazonaws.com:amr": "authenticated"
    }


def test_signed_in_staff_iot_policy_names_the_staff_and_config_topics_only(signed_in):
    policy = signed_in.named("realtime-access-staff", "aws:iot/policy:Policy")
    assert json.loads(policy.inputs["policy"])["Statement"] == _listen(
        ["serverlesspresso-config", "serverlesspresso-admin"]
    )
    assert policy.inputs["name"] == "serverlesspresso-dev-staff-realtime"


def test_the_attach_function_may_create_only_customer_policies_and_attach_policies(signed_in):
    statements = _policy(signed_in, "realtime-access-attach-policy")
    actions = {
        action: s["Resource"] for s in statements for action in s["Action"] if action.startswith("iot:")
    }
    assert actions == {
        "iot:CreatePolicy": [PREFIX + "policy/serverlesspresso-dev-customer-*"],
        "iot:AttachPolicy": ["*"],
    }
    environment = signed_in.named("realtime-access-attach", "aws:lambda/function:Function").inputs[
        "environment"
    ]
    assert environment["variables"]["CUSTOMER_POLICY_PREFIX"] == "serverlesspresso-dev-customer-"


def test_signed_in_serves_post_realtime_to_signed_in_users_and_exports_its_endpoint(signed_in):
    assert signed_in.outputs["APIGWEndpointRealtime"].endswith("/Prod/")
    methods = [
        r for r in signed_in.resources if r.type == "aws:apigateway/method:Method" and "realtime" in r.name
    ]
    assert [
        (m.inputs["httpMethod"], m.inputs["authorization"])
        for m in methods
        if m.inputs["httpMethod"] == "POST"
    ] == [("POST", "COGNITO_USER_POOLS")]
