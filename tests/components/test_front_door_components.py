"""The front door as the program declares it: sign-in (user pool, app client, admin group, identity pool)
and the config, order-manager and validator services with their routes, scopes and permissions."""

from __future__ import annotations

import json

import pytest

from components.identity import Identity
from localcloud import program


@pytest.fixture(scope="module")
def dev(program_run):
    return program_run("dev")


def identity_run(password_sign_in: bool):
    return program.run("dev", lambda: Identity("who", password_sign_in=password_sign_in))


def test_the_user_pool_signs_in_by_email_with_any_password_of_six_characters_or_more():
    pool = identity_run(False).named("who-users").inputs
    assert pool["usernameAttributes"] == ["email"]
    assert pool["autoVerifiedAttributes"] == ["email"]
    assert pool["passwordPolicy"] == {
        "minimumLength": 6,
        "requireLowercase": False,
        "requireUppercase": False,
        "requireNumbers": False,
        "requireSymbols": False,
    }


def test_sign_up_codes_go_through_cognitos_e_mail_by_default_and_through_ses_when_configured():
    default = identity_run(False).named("who-users").inputs["emailConfiguration"]
    assert default == {"emailSendingAccount": "COGNITO_DEFAULT"}
    ses = "arn:aws:ses:eu-west-1:123456789012:identity/coffee.example.com"
    run = program.run(
        "dev",
        lambda: Identity(
            "who", password_sign_in=False, email_source_arn=ses, email_from="coffee@coffee.example.com"
        ),
    )
    assert run.named("who-users").inputs["emailConfiguration"] == {
        "emailSendingAccount": "DEVELOPER",
        "sourceArn": ses,
        "fromEmailAddress": "coffee@coffee.example.com",
    }


@pytest.mark.parametrize("password_sign_in", [False, True])
def test_the_app_client_has_no_secret_and_allows_plain_passwords_only_when_configured(password_sign_in):
    client = identity_run(password_sign_in).named("who-app-client").inputs
    assert client["generateSecret"] is False
    assert {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"} <= set(client["explicitAuthFlows"])
    assert ("ALLOW_USER_PASSWORD_AUTH" in client["explicitAuthFlows"]) is password_sign_in


def test_the_program_creates_the_admin_group_and_an_identity_pool_open_to_guests():
    run = identity_run(False)
    group = run.named("who-admin").inputs
    assert group["name"] == "admin"
    assert group["userPoolId"] == run.named("who-users").id
    identities = run.named("who-identities").inputs
    assert identities["allowUnauthenticatedIdentities"] is True
    [provider] = identities["cognitoIdentityProviders"]
    assert provider["clientId"] == run.named("who-app-client").id
    assert provider["providerName"] == run.named("who-users").state["endpoint"]


@pytest.mark.parametrize(
    ("role", "amr"), [("who-authenticated", "authenticated"), ("who-guest", "unauthenticated")]
)
def test_identity_roles_can_be_taken_only_by_identities_of_this_pool(role, amr):
    run = identity_run(False)
    [statement] = json.loads(run.named(role).inputs["assumeRolePolicy"])["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"]["StringEquals"] == {
        "cognito-identity.amazonaws.com:aud": run.named("who-identities").id
    }
    assert statement["Condition"]["ForAnyValue:StringLike"] == {"cognito-identity.amazonaws.com:amr": amr}
    attachment = run.named("who-roles").inputs["roles"]
    assert attachment[amr] == run.named(role).state["arn"]


def test_the_local_stack_lets_tests_sign_in_with_a_password_and_dev_does_not(program_run):
    assert (
        "ALLOW_USER_PASSWORD_AUTH"
        in program_run("local").named("shop-identity-app-client").inputs["explicitAuthFlows"]
    )


def test_dev_does_not_allow_password_sign_in(dev):
    assert "ALLOW_USER_PASSWORD_AUTH" not in dev.named("shop-identity-app-client").inputs["explicitAuthFlows"]


def _policy(run, name):
    return json.loads(run.named(name).inputs["policy"])["Statement"]


def test_order_actions_may_start_only_the_order_manager_and_read_only_the_indexes_they_query(dev):
    manager = dev.named("order-manager", "aws:sfn/stateMachine:StateMachine").state["arn"]
    orders = dev.named("shop-data-orders").state["arn"]
    assert _policy(dev, "order-manager-service-api-put-orders-id-policy") == [
        {"Effect": "Allow", "Action": ["states:StartSyncExecution"], "Resource": [manager]}
    ]
    assert _policy(dev, "order-manager-service-api-get-orders-policy")[0]["Resource"] == [
        f"{orders}/index/GSI-status"
    ]
    assert _policy(dev, "order-manager-service-api-get-myOrders-policy")[0]["Resource"] == [
        f"{orders}/index/GSI-userId"
    ]
    template = dev.named("order-manager-service-api-put-orders-id", "aws:apigateway/integration:Integration")
    assert manager in template.inputs["requestTemplates"]["application/json"]


def test_the_validator_routes_need_the_cognito_admin_scope_and_its_functions_only_their_table(dev):
    for name in ("validator-service-api-get-qr-code", "validator-service-api-post-qr-code"):
        method = dev.named(name, "aws:apigateway/method:Method")
        assert method.inputs["authorizationScopes"] == ["aws.cognito.signin.user.admin"]
    table = dev.named("validator-service-buckets").state["arn"]
    bus = dev.named("shop-events", "aws:cloudwatch/eventBus:EventBus").state["arn"]
    verify = _policy(dev, "validator-service-verify-qr-code-policy")
    assert {
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"],
        "Resource": [table],
    } in verify
    assert {"Effect": "Allow", "Action": ["events:PutEvents"], "Resource": [bus]} in verify
    get = _policy(dev, "validator-service-get-qr-code-policy")
    assert {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"], "Resource": [table]} in get
    assert not any("events:PutEvents" in s["Action"] for s in get)


def test_the_stack_exports_every_app_setting(dev):
    for key in (
        "region",
        "userPoolId",
        "userPoolWebClientId",
        "poolId",
        "orderManagerEndpoint",
        "APIGWEndpointValidatorService",
        "APIGWEndpointConfigService",
    ):
        assert dev.outputs[key], key
    for key in ("orderManagerEndpoint", "APIGWEndpointValidatorService", "APIGWEndpointConfigService"):
        assert dev.outputs[key].startswith("https://") and dev.outputs[key].endswith("/Prod/"), key
