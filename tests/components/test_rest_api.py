"""RestApi: routes as data become methods with their authorizer and scopes, one role per service
integration allowed exactly its action, a CORS preflight on every path, a deployment that follows every
route and template, and a stage with access logs and throttling."""

from __future__ import annotations

import json

import pytest

from components.asl import PlaceholderError
from components.mapping_templates import fill, template
from components.rest_api import (
    CORS_HEADERS,
    Answer,
    ApiSettings,
    FunctionProxy,
    RestApi,
    Route,
    ServiceAction,
    slug,
    source_arn_path,
)
from localcloud import program

POOL = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc"
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/config"
SETTINGS = ApiSettings(
    region="us-east-1",
    log_retention_days=7,
    throttle_rate_limit=5,
    throttle_burst_limit=10,
    cors_allow_origin="*",
)


def scan(template_text: str = '{"TableName": "config"}', path: str = "/config", scopes=None) -> Route:
    return Route(
        "GET",
        path,
        ServiceAction("dynamodb:Scan", [TABLE], template_text, [Answer(200, "$input.json('$')")]),
        scopes=scopes,
    )


def api_with(*routes: Route, pool: str | None = POOL):
    return program.run(
        "dev", lambda: RestApi("shop-api", routes=list(routes), settings=SETTINGS, user_pool_arn=pool)
    )


def methods(run):
    return {(r.inputs["httpMethod"], r.name): r for r in run.of_type("aws:apigateway/method:Method")}


def test_an_open_route_has_no_authorizer_and_a_signed_in_route_needs_the_pool_and_its_scopes():
    run = api_with(scan(), scan(path="/admin-config", scopes=("aws.cognito.signin.user.admin",)))
    open_method = run.named("shop-api-get-config", "aws:apigateway/method:Method")
    assert open_method.inputs["authorization"] == "NONE"
    assert "authorizerId" not in open_method.inputs
    signed_in = run.named("shop-api-get-admin-config", "aws:apigateway/method:Method")
    authorizer = run.named("shop-api-cognito")
    assert signed_in.inputs["authorization"] == "COGNITO_USER_POOLS"
    assert signed_in.inputs["authorizerId"] == authorizer.id
    assert signed_in.inputs["authorizationScopes"] == ["aws.cognito.signin.user.admin"]
    assert authorizer.inputs["providerArns"] == [POOL]
    assert authorizer.inputs["identitySource"] == "method.request.header.Authorization"


def test_every_path_answers_a_cors_preflight_naming_its_methods():
    run = api_with(
        scan(path="/orders/{id}", scopes=("openid",)),
        Route("PUT", "/orders/{id}", FunctionProxy("fn", "arn:invoke"), scopes=("openid",)),
        scan(path="/config"),
    )
    preflights = {
        r.name: r
        for r in run.of_type("aws:apigateway/integrationResponse:IntegrationResponse")
        if r.inputs["httpMethod"] == "OPTIONS"
    }
    assert set(preflights) == {"shop-api-options-orders-id-200", "shop-api-options-config-200"}
    headers = preflights["shop-api-options-orders-id-200"].inputs["responseParameters"]
    assert headers["method.response.header.Access-Control-Allow-Methods"] == "'GET,PUT,OPTIONS'"
    assert headers["method.response.header.Access-Control-Allow-Headers"] == f"'{CORS_HEADERS}'"
    assert headers["method.response.header.Access-Control-Allow-Origin"] == "'*'"
    for method in run.of_type("aws:apigateway/method:Method"):
        if method.inputs["httpMethod"] == "OPTIONS":
            assert method.inputs["authorization"] == "NONE"
    mocks = [
        i
        for i in run.of_type("aws:apigateway/integration:Integration")
        if i.inputs["httpMethod"] == "OPTIONS"
    ]
    assert {m.inputs["type"] for m in mocks} == {"MOCK"} and len(mocks) == 2


def test_a_service_integration_gets_its_own_role_allowed_exactly_its_action_on_its_resources():
    run = api_with(scan())
    policy = json.loads(run.named("shop-api-get-config-policy").inputs["policy"])
    assert policy["Statement"] == [{"Effect": "Allow", "Action": ["dynamodb:Scan"], "Resource": [TABLE]}]
    integration = run.named("shop-api-get-config", "aws:apigateway/integration:Integration")
    assert integration.inputs["credentials"] == run.named("shop-api-get-config-role").state["arn"]
    assert integration.inputs["uri"] == "arn:aws:apigateway:us-east-1:dynamodb:action/Scan"
    assert integration.inputs["type"] == "AWS"
    assert integration.inputs["passthroughBehavior"] == "NEVER"


def test_a_function_proxy_may_be_invoked_only_by_this_api_for_this_method_and_path():
    run = api_with(Route("POST", "/qr-code/{id}", FunctionProxy("verify", "arn:invoke"), scopes=("openid",)))
    permission = run.named("shop-api-post-qr-code-id-invoke")
    api = run.named("shop-api", "aws:apigateway/restApi:RestApi")
    assert permission.inputs["principal"] == "apigateway.amazonaws.com"
    assert permission.inputs["sourceArn"] == f"{api.state['executionArn']}/*/POST/qr-code/*"
    integration = run.named("shop-api-post-qr-code-id", "aws:apigateway/integration:Integration")
    assert (integration.inputs["type"], integration.inputs["uri"]) == ("AWS_PROXY", "arn:invoke")


def test_the_deployment_is_redone_when_a_template_or_a_route_changes():
    def trigger(*routes):
        return api_with(*routes).named("shop-api-deployment").inputs["triggers"]["routes"]

    first = trigger(scan())
    assert trigger(scan()) == first
    assert trigger(scan('{"TableName": "other"}')) != first
    assert trigger(scan(), scan(path="/more")) != first


def test_the_stage_logs_every_request_and_is_throttled_from_config():
    run = api_with(scan())
    stage = run.named("shop-api-stage")
    logs = run.named("shop-api-access-logs")
    assert stage.inputs["stageName"] == "Prod"
    assert stage.inputs["accessLogSettings"]["destinationArn"] == logs.state["arn"]
    assert logs.inputs["retentionInDays"] == 7
    assert logs.inputs["name"].startswith("/aws/apigateway/serverlesspresso-dev-")
    settings = run.named("shop-api-throttling").inputs
    assert settings["methodPath"] == "*/*"
    assert (settings["settings"]["throttlingRateLimit"], settings["settings"]["throttlingBurstLimit"]) == (
        5,
        10,
    )


def test_a_signed_in_route_without_a_pool_or_without_scopes_is_refused():
    with pytest.raises(ValueError, match="no user pool"):
        api_with(scan(scopes=("openid",)), pool=None)
    with pytest.raises(ValueError, match="at least one scope"):
        api_with(scan(scopes=()))


def test_names_and_arn_paths_are_derived_from_the_route():
    assert slug("GET", "/orders/{id}") == "get-orders-id"
    assert slug(None, "/") == "root"
    assert source_arn_path("/orders/{id}/x") == "/orders/*/x"


def test_mapping_templates_refuse_unfilled_or_unknown_placeholders():
    assert fill('{"TableName": "${Table}"}', {"Table": "t"}) == '{"TableName": "t"}'
    with pytest.raises(PlaceholderError, match="unfilled placeholders: Table"):
        fill("${Table}", {})
    with pytest.raises(PlaceholderError, match="not used by the definition: Other"):
        fill("${Table}", {"Table": "t", "Other": "o"})
    with pytest.raises(PlaceholderError, match="unfilled placeholders: ConfigTableName"):
        template("config_scan.request")
