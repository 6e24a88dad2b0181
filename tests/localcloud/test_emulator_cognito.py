"""Cognito in the emulator: moto's pools and tokens as the front door sees them, plus emulator.cognito."""

from __future__ import annotations

import base64
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


# --- SRP sign-in, as the hosted apps sign in ---------------------------------------------------------


def srp_sign_in(pool: dict, email: str, password: str, *, tamper=lambda responses: responses) -> dict:
    """USER_SRP_AUTH with pycognito's client side: InitiateAuth, then the PASSWORD_VERIFIER answer."""
    from pycognito.aws_srp import AWSSRP

    srp = AWSSRP(email, password, pool["id"], pool["client"], client=idp())
    challenge = idp().initiate_auth(
        ClientId=pool["client"], AuthFlow="USER_SRP_AUTH", AuthParameters=srp.get_auth_params()
    )
    assert challenge["ChallengeName"] == "PASSWORD_VERIFIER"
    responses = srp.process_challenge(challenge["ChallengeParameters"], {"USERNAME": email})
    return idp().respond_to_auth_challenge(
        ClientId=pool["client"], ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=tamper(responses)
    )


def test_srp_sign_in_with_the_right_password_gets_tokens_the_authorizer_accepts(pool):
    sub = cognito.create_user(pool["id"], "ann@example.com", PASSWORD, ["admin"])

    tokens = srp_sign_in(pool, "ann@example.com", PASSWORD)["AuthenticationResult"]

    claims = cognito.verify_token(tokens["AccessToken"], [pool["arn"]])
    assert (claims["sub"], claims["cognito:groups"]) == (sub, ["admin"])


def test_srp_sign_in_with_a_wrong_password_is_refused_as_cognito_refuses_it(pool):
    cognito.create_user(pool["id"], "ann@example.com", PASSWORD)

    with pytest.raises(idp().exceptions.NotAuthorizedException, match="Incorrect username or password"):
        srp_sign_in(pool, "ann@example.com", PASSWORD + "x")


def test_the_srp_challenge_is_cognitos_a_fresh_salt_and_b_per_sign_in(pool):
    from pycognito.aws_srp import AWSSRP

    cognito.create_user(pool["id"], "ann@example.com", PASSWORD)
    srp = AWSSRP("ann@example.com", PASSWORD, pool["id"], pool["client"], client=idp())
    first, second = (
        idp().initiate_auth(
            ClientId=pool["client"], AuthFlow="USER_SRP_AUTH", AuthParameters=srp.get_auth_params()
        )
        for _ in range(2)
    )
    for answer in (first, second):
        parameters = answer["ChallengeParameters"]
        assert "Session" not in answer
        int(parameters["SALT"], 16), int(parameters["SRP_B"], 16)  # hex, as the clients parse them
        assert len(base64.b64decode(parameters["SECRET_BLOCK"], validate=True)) >= 64
    assert first["ChallengeParameters"]["SALT"] != second["ChallengeParameters"]["SALT"]
    assert first["ChallengeParameters"]["SRP_B"] != second["ChallengeParameters"]["SRP_B"]


def test_an_srp_answer_with_a_wrong_signature_or_for_another_user_is_refused(pool):
    cognito.create_user(pool["id"], "ann@example.com", PASSWORD)
    cognito.create_user(pool["id"], "bob@example.com", PASSWORD)
    forged = base64.b64encode(b"x" * 32).decode()

    for tamper in (
        lambda responses: {**responses, "PASSWORD_CLAIM_SIGNATURE": forged},
        lambda responses: {**responses, "USERNAME": "bob@example.com"},
    ):
        with pytest.raises(idp().exceptions.NotAuthorizedException):
            srp_sign_in(pool, "ann@example.com", PASSWORD, tamper=tamper)


@pytest.mark.parametrize(
    "timestamp",
    [
        pytest.param("Sun Dec 06 20:57:07 UTC 2026", id="zero-padded-day"),
        pytest.param("Mon Dec 6 20:57:07 UTC 2026", id="weekday-of-another-date"),
        pytest.param("Sun Dec 6 20:57:07 GMT 2026", id="not-utc"),
        pytest.param("2026-12-06T20:57:07Z", id="iso"),
    ],
)
def test_an_srp_proof_signed_over_a_timestamp_not_in_cognitos_form_is_refused(pool, monkeypatch, timestamp):
    from pycognito.aws_srp import AWSSRP

    cognito.create_user(pool["id"], "ann@example.com", PASSWORD)
    monkeypatch.setattr(AWSSRP, "get_cognito_formatted_timestamp", staticmethod(lambda _: timestamp))

    with pytest.raises(idp().exceptions.NotAuthorizedException):
        srp_sign_in(pool, "ann@example.com", PASSWORD)
    valid = "Sun Dec 6 20:57:07 UTC 2026"
    monkeypatch.setattr(AWSSRP, "get_cognito_formatted_timestamp", staticmethod(lambda _: valid))
    assert "AuthenticationResult" in srp_sign_in(pool, "ann@example.com", PASSWORD)


def test_an_srp_answer_is_accepted_once(pool):
    cognito.create_user(pool["id"], "ann@example.com", PASSWORD)
    sent: list[dict] = []

    def keep(responses: dict) -> dict:
        sent.append(responses)
        return responses

    srp_sign_in(pool, "ann@example.com", PASSWORD, tamper=keep)
    with pytest.raises((idp().exceptions.NotAuthorizedException, idp().exceptions.ResourceNotFoundException)):
        idp().respond_to_auth_challenge(
            ClientId=pool["client"], ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=sent[0]
        )
