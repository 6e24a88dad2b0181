"""Cognito in the emulator: moto's pools and tokens as the front door sees them, plus emulator.cognito."""

from __future__ import annotations

import time

import boto3
import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from localcloud.emulator import cognito

REGION = "us-east-1"
PASSWORD = "Coffee-123"


@pytest.fixture(autouse=True)
def installed(aws):
    cognito.install()


def idp():
    return boto3.client("cognito-idp", region_name=REGION)


@pytest.fixture
def pool() -> dict:
    created = idp().create_user_pool(
        PoolName="shop",
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 6,
                "RequireLowercase": False,
                "RequireUppercase": False,
                "RequireNumbers": False,
                "RequireSymbols": False,
            }
        },
    )["UserPool"]
    client = idp().create_user_pool_client(
        UserPoolId=created["Id"],
        ClientName="app",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    idp().create_group(UserPoolId=created["Id"], GroupName="admin", Description="baristas")
    return {"id": created["Id"], "arn": created["Arn"], "client": client["ClientId"]}


def test_created_user_is_confirmed_verified_and_in_its_groups(pool):
    sub = cognito.create_user(pool["id"], "barista@example.com", "simple", ["admin"])

    user = idp().admin_get_user(UserPoolId=pool["id"], Username="barista@example.com")
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert user["UserStatus"] == "CONFIRMED"
    assert (attributes["email"], attributes["email_verified"]) == ("barista@example.com", "true")
    assert (
        user["Username"] == attributes["sub"] == sub
    )  # e-mail as username attribute: the username is the sub
    groups = idp().admin_list_groups_for_user(UserPoolId=pool["id"], Username="barista@example.com")["Groups"]
    assert [group["GroupName"] for group in groups] == ["admin"]


def test_signed_in_tokens_carry_what_the_authorizer_and_templates_read(pool):
    sub = cognito.create_user(pool["id"], "barista@example.com", PASSWORD, ["admin"])

    tokens = cognito.sign_in(pool["id"], pool["client"], "barista@example.com", PASSWORD)

    access = cognito.verify_token(tokens.access_token, [pool["arn"]])
    identity = cognito.verify_token(tokens.id_token, [pool["arn"]])
    issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{pool['id']}"
    assert (access["iss"], access["token_use"], access["sub"], access["client_id"]) == (
        issuer,
        "access",
        sub,
        pool["client"],
    )
    assert access["scope"] == "aws.cognito.signin.user.admin"
    assert access["cognito:groups"] == ["admin"]
    assert (identity["token_use"], identity["aud"], identity["email"]) == (
        "id",
        pool["client"],
        "barista@example.com",
    )
    assert identity["cognito:groups"] == ["admin"]
    assert tokens.expires_in == 3600 and tokens.refresh_token


def test_the_pools_jwks_is_served_inside_the_mock_and_verifies_its_tokens(pool):
    cognito.create_user(pool["id"], "ann@example.com", PASSWORD)
    tokens = cognito.sign_in(pool["id"], pool["client"], "ann@example.com", PASSWORD)

    keys = requests.get(
        f"https://cognito-idp.{REGION}.amazonaws.com/{pool['id']}/.well-known/jwks.json"
    ).json()

    token = jwt.decode(tokens.access_token, KeySet.import_key_set(keys), algorithms=["RS256"])
    assert token.header["kid"] in {key["kid"] for key in keys["keys"]}


def test_a_wrong_password_is_refused(pool):
    cognito.create_user(pool["id"], "ann@example.com", PASSWORD)

    with pytest.raises(idp().exceptions.NotAuthorizedException):
        cognito.sign_in(pool["id"], pool["client"], "ann@example.com", "not-it")


def test_refresh_gives_new_tokens(pool):
    cognito.create_user(pool["id"], "ann@example.com", PASSWORD)
    tokens = cognito.sign_in(pool["id"], pool["client"], "ann@example.com", PASSWORD)

    refreshed = idp().initiate_auth(
        ClientId=pool["client"],
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens.refresh_token},
    )["AuthenticationResult"]

    assert cognito.verify_token(refreshed["AccessToken"], [pool["arn"]])["token_use"] == "access"


def test_verify_token_refuses_tampered_expired_foreign_and_malformed_tokens(pool):
    cognito.create_user(pool["id"], "ann@example.com", PASSWORD)
    token = cognito.sign_in(pool["id"], pool["client"], "ann@example.com", PASSWORD).access_token
    header, payload, signature = token.split(".")
    other = idp().create_user_pool(PoolName="other")["UserPool"]

    for bad, arns, now in (
        (f"{header}.{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}", [pool["arn"]], None),
        (token, [pool["arn"]], int(time.time()) + 3601),
        (token, [other["Arn"]], None),
        ("not.a.jwt", [pool["arn"]], None),
        ("garbage", [pool["arn"]], None),
    ):
        with pytest.raises(cognito.InvalidToken):
            cognito.verify_token(bad, arns, now=now)


def test_identity_pool_role_attachment_is_kept_and_guests_get_an_identity(pool):
    identity = boto3.client("cognito-identity", region_name=REGION)
    created = identity.create_identity_pool(
        IdentityPoolName="shop",
        AllowUnauthenticatedIdentities=True,
        CognitoIdentityProviders=[
            {
                "ClientId": pool["client"],
                "ProviderName": f"cognito-idp.{REGION}.amazonaws.com/{pool['id']}",
                "ServerSideTokenCheck": False,
            }
        ],
    )
    roles = {
        "authenticated": "arn:aws:iam::123456789012:role/auth",
        "unauthenticated": "arn:aws:iam::123456789012:role/guest",
    }

    identity.set_identity_pool_roles(IdentityPoolId=created["IdentityPoolId"], Roles=roles)

    answer = identity.get_identity_pool_roles(IdentityPoolId=created["IdentityPoolId"])
    assert (answer["IdentityPoolId"], answer["Roles"]) == (created["IdentityPoolId"], roles)
    guest = identity.get_id(IdentityPoolId=created["IdentityPoolId"])["IdentityId"]
    assert identity.get_credentials_for_identity(IdentityId=guest)["Credentials"]["AccessKeyId"]
    with pytest.raises(identity.exceptions.ResourceNotFoundException):
        identity.set_identity_pool_roles(
            IdentityPoolId=f"{REGION}:00000000-0000-0000-0000-000000000000", Roles=roles
        )
