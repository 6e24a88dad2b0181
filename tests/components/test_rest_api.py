"""RestApi: routes as data become methods with their authorizer and scopes, one role per service
integration allowed exactly its action, a CORS preflight on every path, a deployment that follows every
route and template, and a stage with access logs and throttling."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from components.asl import PlaceholderError
from components.mapping_templates import fill, template
from components.rest_api import (
    CORS_HEADERS,
    GATEWAY_RESPONSE_TYPES,
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


def api_with(*routes: Route, pool: str | None = POOL, settings: ApiSettings = SETTINGS):
    return program.run(
        "dev", lambda: RestApi("shop-api", routes=list(routes), settings=settings, user_pool_arn=pool)
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


def trigger(run) -> str:
    return run.named("shop-api-deployment").inputs["triggers"]["definition"]


def test_the_deployment_is_redone_when_a_template_or_a_route_changes():
    first = trigger(api_with(scan()))
    assert trigger(api_with(scan())) == first
    assert trigger(api_with(scan('{"TableName": "other"}'))) != first
    assert trigger(api_with(scan(), scan(path="/more"))) != first


def one_route_api(
    *,
    answer: Answer | None = None,
    request: str = "{}",
    scopes: tuple[str, ...] = ("openid",),
    pool: str = POOL,
    **settings,
):
    call = ServiceAction("dynamodb:Scan", [TABLE], request, [answer or Answer(200, "{}")])
    route = Route("GET", "/config", call, scopes=scopes)
    return api_with(route, pool=pool, settings=replace(SETTINGS, **settings))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"answer": Answer(200, "{}", selection_pattern=r"2\d{2}")}, id="status-pattern"),
        pytest.param({"answer": Answer(201, "{}")}, id="method-and-integration-response"),
        pytest.param({"answer": Answer(200, "[]")}, id="answer-template"),
        pytest.param({"request": '{"Limit": 1}'}, id="request-template"),
        pytest.param({"scopes": ("email",)}, id="scopes"),
        pytest.param({"pool": POOL + "2"}, id="authorizer"),
        pytest.param({"cors_allow_origin": "https://a.example"}, id="cors"),
        pytest.param({"region": "eu-west-1"}, id="integration-uri"),
    ],
)
def test_every_part_a_deployment_freezes_changes_its_trigger(change):
    """AWS serves the stage's last deployment: a change to anything it froze must create a new one."""
    base = trigger(one_route_api())
    assert trigger(one_route_api()) == base
    assert trigger(one_route_api(**change)) != base


def test_the_deployment_waits_for_every_part_it_freezes_and_hashes_each_ones_inputs():
    run = api_with(
        scan(), Route("PUT", "/orders/{id}", FunctionProxy("fn", "arn:invoke"), scopes=("openid",))
    )
    frozen_types = {
        "aws:apigateway/resource:Resource",
        "aws:apigateway/authorizer:Authorizer",
        "aws:apigateway/method:Method",
        "aws:apigateway/integration:Integration",
        "aws:apigateway/methodResponse:MethodResponse",
        "aws:apigateway/integrationResponse:IntegrationResponse",
        "aws:apigateway/response:Response",
    }
    parts = [r for r in run.resources if r.type in frozen_types]
    deployment = run.named("shop-api-deployment")
    assert len(parts) >= 20
    assert {part.urn for part in parts} <= set(deployment.dependencies)


def test_every_gateway_answer_carries_the_stacks_cors_headers_and_aws_message_body():
    run = api_with(scan(), settings=replace(SETTINGS, cors_allow_origin="https://shop.example"))
    responses = {r.inputs["responseType"]: r.inputs for r in run.of_type("aws:apigateway/response:Response")}
    assert set(responses) == set(GATEWAY_RESPONSE_TYPES)
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "UNAUTHORIZED", "MISSING_AUTHENTICATION_TOKEN"} <= set(responses)
    for inputs in responses.values():
        assert inputs["responseParameters"] == {
            "gatewayresponse.header.Access-Control-Allow-Origin": "'https://shop.example'",
            "gatewayresponse.header.Access-Control-Allow-Headers": f"'{CORS_HEADERS}'",
        }
        assert inputs["responseTemplates"] == {"application/json": '{"message":$context.error.messageString}'}
        assert "statusCode" not in inputs  # each type keeps AWS's status for it (401, 403, 429, 504 ...)


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
