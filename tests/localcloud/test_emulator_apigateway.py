"""REST APIs executed by localcloud.emulator.apigateway, each built with boto3 in the test itself."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile

import boto3
import pytest
import requests
from werkzeug.serving import make_server

from localcloud.emulator import apigateway, cognito
from tests.localcloud.emulator_helpers import create_machine, lambda_role

REGION = "us-east-1"
CORS = "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token"


@pytest.fixture(autouse=True)
def installed(aws):
    apigateway.install()
    cognito.install()


def apigw():
    return boto3.client("apigateway", region_name=REGION)


class Api:
    """A REST API under construction: resources by path, methods with their integration and responses."""

    def __init__(self, name: str = "shop"):
        created = apigw().create_rest_api(name=name)
        self.id = created["id"]
        self.resources = {"/": created["rootResourceId"]}

    def resource(self, path: str) -> str:
        if path not in self.resources:
            parent, _, part = path.rpartition("/")
            self.resources[path] = apigw().create_resource(
                restApiId=self.id, parentId=self.resource(parent or "/"), pathPart=part
            )["id"]
        return self.resources[path]

    def method(self, verb: str, path: str, *, integration: dict, answers=(), auth: dict | None = None):
        key = {"restApiId": self.id, "resourceId": self.resource(path), "httpMethod": verb}
        apigw().put_method(**key, **{"authorizationType": "NONE", **(auth or {})})
        apigw().put_integration(**key, **integration)
        for answer in answers:
            apigw().put_method_response(**key, statusCode=answer["statusCode"])
            apigw().put_integration_response(**key, **answer)

    def deploy(self, stage: str = "Prod") -> None:
        apigw().create_deployment(restApiId=self.id, stageName=stage)

    def call(self, verb: str, path: str, *, stage: str = "Prod", **kwargs) -> apigateway.Response:
        return apigateway.invoke(self.id, stage, verb, path, **kwargs)


def mock(status: int = 200) -> dict:
    return {"type": "MOCK", "requestTemplates": {"application/json": json.dumps({"statusCode": status})}}


def answer(status: str, template: str | None = None, pattern: str | None = None, **extra) -> dict:
    result = {"statusCode": status, **extra}
    if template is not None:
        result["responseTemplates"] = {"application/json": template}
    if pattern is not None:
        result["selectionPattern"] = pattern
    return result


def service(uri_service: str, action: str, template: str) -> dict:
    return {
        "type": "AWS",
        "integrationHttpMethod": "POST",
        "uri": f"arn:aws:apigateway:{REGION}:{uri_service}:action/{action}",
        "credentials": "arn:aws:iam::123456789012:role/api",
        "requestTemplates": {"application/json": template},
        "passthroughBehavior": "NEVER",
    }


# --- routing ----------------------------------------------------------------------------------------

ECHO = (
    '{"id": "$input.params(\'id\')", "state": "$input.params(\'state\')", '
    '"resource": "$context.resourcePath", "path": "$context.path", "stage": "$context.stage"}'
)


def test_path_parameters_and_query_strings_reach_the_templates():
    api = Api()
    api.method("GET", "/orders/{id}", integration=mock(), answers=[answer("200", ECHO)])
    api.method("GET", "/orders/mine", integration=mock(), answers=[answer("200", '{"mine": true}')])
    api.deploy()

    by_id = api.call("GET", "/orders/42", query={"state": ["OPEN", "CLOSED"]})
    static = api.call("GET", "/orders/mine")

    assert (by_id.status, by_id.headers["Content-Type"]) == (200, "application/json")
    assert by_id.json() == {
        "id": "42",
        "state": "CLOSED",
        "resource": "/orders/{id}",
        "path": "/Prod/orders/42",
        "stage": "Prod",
    }
    assert static.json() == {"mine": True}  # a static segment wins over {id}


def test_greedy_proxy_path_and_any_method_match_what_nothing_else_does():
    api = Api()
    api.method("ANY", "/files/{key+}", integration=mock(), answers=[answer("200", "$input.params('key')")])
    api.deploy()

    assert api.call("DELETE", "/files/a/b/c.txt").text == "a/b/c.txt"


def test_unknown_path_or_method_gives_missing_authentication_token_and_unknown_stage_forbidden():
    api = Api()
    api.method("GET", "/config", integration=mock(), answers=[answer("200", "{}")])
    api.deploy()

    for verb, path in (("GET", "/nothing"), ("POST", "/config"), ("GET", "/config/extra")):
        response = api.call(verb, path)
        assert (response.status, response.json()) == (403, {"message": "Missing Authentication Token"})
        assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert api.call("GET", "/config", stage="Dev").json() == {"message": "Forbidden"}
    assert apigateway.invoke("nosuchapi", "Prod", "GET", "/config").status == 403


# --- deployments: a stage serves what its deployment froze ------------------------------------------


def stage_to_new_deployment(api: Api, stage: str = "Prod") -> None:
    """What `pulumi up` does when a deployment's triggers change: a new deployment, the stage moved to it."""
    deployment = apigw().create_deployment(restApiId=api.id)["id"]
    apigw().update_stage(
        restApiId=api.id,
        stageName=stage,
        patchOperations=[{"op": "replace", "path": "/deploymentId", "value": deployment}],
    )


def test_a_changed_definition_is_served_only_once_a_new_deployment_reaches_the_stage():
    api = Api()
    api.method("GET", "/config", integration=mock(), answers=[answer("200", '{"v": 1}')])
    api.deploy()
    key = {"restApiId": api.id, "resourceId": api.resource("/config"), "httpMethod": "GET"}

    apigw().put_integration_response(**key, **answer("200", '{"v": 2}'))
    api.method("GET", "/new", integration=mock(), answers=[answer("200", "{}")])
    apigw().put_gateway_response(restApiId=api.id, responseType="DEFAULT_4XX", statusCode="418")

    assert api.call("GET", "/config").json() == {"v": 1}
    assert api.call("GET", "/new").status == 403
    stage_to_new_deployment(api)
    assert api.call("GET", "/config").json() == {"v": 2}
    assert api.call("GET", "/new").status == 200
    assert api.call("GET", "/gone").status == 418


def test_a_stage_moved_back_to_an_earlier_deployment_serves_that_one_again():
    api = Api()
    api.method("GET", "/config", integration=mock(), answers=[answer("200", '{"v": 1}')])
    api.deploy()
    first = apigw().get_stage(restApiId=api.id, stageName="Prod")["deploymentId"]
    key = {"restApiId": api.id, "resourceId": api.resource("/config"), "httpMethod": "GET"}
    apigw().put_integration_response(**key, **answer("200", '{"v": 2}'))
    stage_to_new_deployment(api)
    assert api.call("GET", "/config").json() == {"v": 2}

    apigw().update_stage(
        restApiId=api.id,
        stageName="Prod",
        patchOperations=[{"op": "replace", "path": "/deploymentId", "value": first}],
    )
    assert api.call("GET", "/config").json() == {"v": 1}


# --- the gateway's own answers ------------------------------------------------------------------------

CORS_ANSWER = {
    "gatewayresponse.header.Access-Control-Allow-Origin": "'https://shop.example'",
    "gatewayresponse.header.Access-Control-Allow-Headers": f"'{CORS}'",
}


def test_without_gateway_responses_the_gateways_errors_carry_no_cors_header():
    api = Api()
    api.method("GET", "/config", integration=mock(), answers=[answer("200", "{}")])
    api.deploy()
    refused = api.call("GET", "/nothing")
    assert (refused.status, refused.json()) == (403, {"message": "Missing Authentication Token"})
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_default_4xx_and_5xx_give_every_gateway_error_their_headers_and_keep_each_types_status(pool):
    api = secured_api(pool)
    api.method("GET", "/broken", integration=mock(), answers=[answer("200", "#set($x = $input.path(")])
    api.method(
        "PUT", "/json", integration={**mock(), "passthroughBehavior": "NEVER"}, answers=[answer("200", "{}")]
    )
    for response_type in ("DEFAULT_4XX", "DEFAULT_5XX"):
        apigw().put_gateway_response(
            restApiId=api.id,
            responseType=response_type,
            responseParameters=CORS_ANSWER,
            responseTemplates={"application/json": '{"message":$context.error.messageString}'},
        )
    api.deploy()

    answers = {
        "no token": api.call("GET", "/admin-config"),
        "unknown route": api.call("GET", "/nothing"),
        "unsupported media type": api.call("PUT", "/json", headers={"Content-Type": "text/plain"}, body=b"x"),
        "broken template": api.call("GET", "/broken"),
    }
    assert {what: (a.status, a.json()) for what, a in answers.items()} == {
        "no token": (401, {"message": "Unauthorized"}),
        "unknown route": (403, {"message": "Missing Authentication Token"}),
        "unsupported media type": (415, {"message": "Unsupported Media Type"}),
        "broken template": (500, {"message": "Internal server error"}),
    }
    for what, answered in answers.items():
        assert answered.headers["Access-Control-Allow-Origin"] == "https://shop.example", what
        assert answered.headers["Access-Control-Allow-Headers"] == CORS, what


def test_a_gateway_response_of_a_type_replaces_the_default_for_that_type_alone(pool):
    api = secured_api(pool)
    apigw().put_gateway_response(restApiId=api.id, responseType="DEFAULT_4XX", responseParameters=CORS_ANSWER)
    apigw().put_gateway_response(
        restApiId=api.id,
        responseType="UNAUTHORIZED",
        statusCode="401",
        responseParameters={"gatewayresponse.header.WWW-Authenticate": "method.request.header.X-Realm"},
        responseTemplates={"application/json": '{"refused": "$context.error.responseType"}'},
    )
    api.deploy()

    unauthorized = api.call("GET", "/admin-config", headers={"X-Realm": "shop"})
    assert (unauthorized.status, unauthorized.json()) == (401, {"refused": "UNAUTHORIZED"})
    assert unauthorized.headers["WWW-Authenticate"] == "shop"
    assert "Access-Control-Allow-Origin" not in unauthorized.headers  # a set type is used as it is
    assert api.call("GET", "/nothing").headers["Access-Control-Allow-Origin"] == "https://shop.example"


# --- MOCK, CORS and response overrides ----------------------------------------------------------------


def test_options_mock_answers_the_cors_preflight_with_static_response_parameters():
    api = Api()
    headers = {
        "method.response.header.Access-Control-Allow-Headers": f"'{CORS}'",
        "method.response.header.Access-Control-Allow-Methods": "'GET,OPTIONS'",
        "method.response.header.Access-Control-Allow-Origin": "'*'",
    }
    api.method(
        "OPTIONS", "/config", integration=mock(), answers=[answer("200", "", responseParameters=headers)]
    )
    api.deploy()

    response = api.call("OPTIONS", "/config", headers={"Origin": "http://localhost:8080"})

    assert (response.status, response.body) == (200, b"")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "GET,OPTIONS"
    assert response.headers["Access-Control-Allow-Headers"] == CORS


def test_mock_status_code_selects_the_integration_response():
    api = Api()
    answers = [answer("200", '{"ok": true}'), answer("404", '{"ok": false}', pattern="404")]
    request = "#if($input.params('id') == 'missing'){\"statusCode\": 404}#else{\"statusCode\": 200}#end"
    api.method(
        "GET",
        "/items/{id}",
        integration={"type": "MOCK", "requestTemplates": {"application/json": request}},
        answers=answers,
    )
    api.deploy()

    assert api.call("GET", "/items/1").json() == {"ok": True}
    missing = api.call("GET", "/items/missing")
    assert (missing.status, missing.json()) == (404, {"ok": False})


def test_response_template_overrides_status_and_headers():
    api = Api()
    template = (
        "#set($context.responseOverride.status = 422)"
        '#set($context.responseOverride.header.X-Reason = "no token")'
        '{"error": "Missing parameter"}'
    )
    api.method("POST", "/qr-code", integration=mock(), answers=[answer("200", template)])
    api.deploy()

    response = api.call("POST", "/qr-code")

    assert (response.status, response.json()) == (422, {"error": "Missing parameter"})
    assert response.headers["X-Reason"] == "no token"


def test_request_without_a_matching_template_is_refused_when_passthrough_is_never():
    api = Api()
    api.method(
        "POST", "/orders", integration={**mock(), "passthroughBehavior": "NEVER"}, answers=[answer("200")]
    )
    api.deploy()

    response = api.call("POST", "/orders", headers={"Content-Type": "text/plain"}, body=b"hi")

    assert (response.status, response.json()) == (415, {"message": "Unsupported Media Type"})


# --- Cognito user-pool authorizer ---------------------------------------------------------------------


def signed_in_user(pool_name: str) -> dict:
    idp = boto3.client("cognito-idp", region_name=REGION)
    created = idp.create_user_pool(PoolName=pool_name, UsernameAttributes=["email"])["UserPool"]
    client = idp.create_user_pool_client(UserPoolId=created["Id"], ClientName="app", GenerateSecret=False)
    client_id = client["UserPoolClient"]["ClientId"]
    idp.create_group(UserPoolId=created["Id"], GroupName="admin")
    sub = cognito.create_user(created["Id"], "barista@example.com", "Coffee-123", ["admin"])
    tokens = cognito.sign_in(created["Id"], client_id, "barista@example.com", "Coffee-123")
    return {"id": created["Id"], "arn": created["Arn"], "client": client_id, "sub": sub, "tokens": tokens}


@pytest.fixture
def pool():
    return signed_in_user("shop")


def secured_api(pool, scopes=("aws.cognito.signin.user.admin",)) -> Api:
    api = Api()
    authorizer = apigw().create_authorizer(
        restApiId=api.id,
        name="cognito",
        type="COGNITO_USER_POOLS",
        providerARNs=[pool["arn"]],
        identitySource="method.request.header.Authorization",
    )["id"]
    auth = {"authorizationType": "COGNITO_USER_POOLS", "authorizerId": authorizer}
    if scopes:
        auth["authorizationScopes"] = list(scopes)
    claims = (
        '{"sub": "$context.authorizer.claims.sub", '
        '"groups": "$context.authorizer.claims[\'cognito:groups\']"}'
    )
    api.method("GET", "/admin-config", integration=mock(), answers=[answer("200", claims)], auth=auth)
    api.deploy()
    return api


def expired_access_token(pool) -> str:
    from moto.cognitoidp.models import cognitoidp_backends

    user_pool = cognitoidp_backends["123456789012"][REGION].user_pools[pool["id"]]
    extra = {"scope": "aws.cognito.signin.user.admin"}
    token, _ = user_pool.create_jwt(pool["client"], pool["sub"], "access", expires_in=-60, extra_data=extra)
    return token


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    return ".".join([header, payload, ("A" if signature[0] != "A" else "B") + signature[1:]])


def test_authorizer_admits_a_valid_access_token_and_hands_its_claims_to_the_template(pool):
    api = secured_api(pool)

    for token in (pool["tokens"].access_token, f"Bearer {pool['tokens'].access_token}"):
        response = api.call("GET", "/admin-config", headers={"Authorization": token})
        assert (response.status, response.json()) == (200, {"sub": pool["sub"], "groups": "admin"})


@pytest.mark.parametrize("kind", ["missing", "garbage", "tampered", "expired", "id token", "other pool"])
def test_authorizer_refuses_with_401(pool, kind):
    api = secured_api(pool)
    token = {
        "missing": lambda: None,
        "garbage": lambda: "not-a-jwt",
        "tampered": lambda: tampered(pool["tokens"].access_token),
        "expired": lambda: expired_access_token(pool),
        "id token": lambda: pool["tokens"].id_token,
        "other pool": lambda: signed_in_user("other")["tokens"].access_token,  # same moto key, other iss
    }[kind]()

    response = api.call("GET", "/admin-config", headers={"Authorization": token} if token else {})

    assert (response.status, response.json()) == (401, {"message": "Unauthorized"})


def test_access_token_without_a_required_scope_is_refused(pool):
    api = secured_api(pool, scopes=("orders/admin",))

    response = api.call("GET", "/admin-config", headers={"Authorization": pool["tokens"].access_token})

    assert response.status == 401


def test_method_without_scopes_takes_the_id_token_not_the_access_token(pool):
    api = secured_api(pool, scopes=())

    assert api.call("GET", "/admin-config", headers={"Authorization": pool["tokens"].id_token}).status == 200
    assert (
        api.call("GET", "/admin-config", headers={"Authorization": pool["tokens"].access_token}).status == 401
    )


# --- AWS service integrations -------------------------------------------------------------------------


@pytest.fixture
def config_table():
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName="config",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="config", Item={"PK": {"S": "config"}, "storeOpen": {"BOOL": True}})
    ddb.put_item(TableName="config", Item={"PK": {"S": "menu"}, "drinks": {"L": [{"S": "Latte"}]}})
    return "config"


def test_dynamodb_scan_returns_the_typed_items(config_table):
    api = Api()
    api.method(
        "GET",
        "/config",
        integration=service("dynamodb", "Scan", json.dumps({"TableName": config_table})),
        answers=[answer("200", "#set($items = $input.path('$.Items'))$items")],
    )
    api.deploy()

    items = api.call("GET", "/config").json()

    assert sorted(item["PK"]["S"] for item in items) == ["config", "menu"]
    assert {"S": "Latte"} in next(item for item in items if item["PK"]["S"] == "menu")["drinks"]["L"]


def test_dynamodb_get_item_with_a_path_parameter_and_json_fields(config_table):
    api = Api()
    request = json.dumps({"TableName": config_table, "Key": {"PK": {"S": "$input.params('id')"}}})
    response = "{\"id\": $input.json('$.Item.PK.S'), \"open\": $input.json('$.Item.storeOpen.BOOL')}"
    api.method(
        "GET",
        "/config/{id}",
        integration=service("dynamodb", "GetItem", request),
        answers=[answer("200", response)],
    )
    api.deploy()

    assert api.call("GET", "/config/config").json() == {"id": "config", "open": True}


UPDATE_STORE = """#set($open = $input.params('state') == 'open')
{
  "TableName": "config",
  "Key": {"PK": {"S": "config"}},
  "UpdateExpression": "SET storeOpen = :open",
  "ConditionExpression": "attribute_exists(PK) AND storeOpen <> :open",
  "ExpressionAttributeValues": {":open": {"BOOL": $open}},
  "ReturnValues": "ALL_NEW"
}"""


def test_dynamodb_update_item_and_a_failed_condition_mapped_by_selection_pattern(config_table):
    api = Api()
    failed = (
        "#set($type = $input.path('$.__type'))"
        '{"error": "#if($type.endsWith(\'ConditionalCheckFailedException\'))unchanged#{else}$type#end"}'
    )
    api.method(
        "PUT",
        "/store",
        integration=service("dynamodb", "UpdateItem", UPDATE_STORE),
        answers=[
            answer("200", "$input.json('$.Attributes')"),
            answer("409", failed, pattern="400"),
            answer("500", '{"error": "backend"}', pattern="5\\d{2}"),
        ],
    )
    api.deploy()

    closed = api.call("PUT", "/store", query={"state": "closed"})
    again = api.call("PUT", "/store", query={"state": "closed"})

    assert (closed.status, closed.json()["storeOpen"]) == (200, {"BOOL": False})
    assert (again.status, again.json()) == (409, {"error": "unchanged"})


def test_dynamodb_error_without_a_matching_pattern_falls_to_the_default_response_with_aws_error_body():
    api = Api()
    api.method(
        "GET",
        "/config",
        integration=service("dynamodb", "Scan", '{"TableName": "absent"}'),
        answers=[answer("200")],
    )
    api.deploy()

    response = api.call("GET", "/config")

    assert response.status == 200  # AWS: the default response also takes backend errors
    assert response.json()["__type"] == "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"


def test_start_sync_execution_of_an_express_workflow_with_an_escaped_body():
    machine = create_machine(
        {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}, machine_type="EXPRESS"
    )
    request = (
        '#set($body = $util.escapeJavaScript($input.body).replaceAll("\\\\\'","\'"))'
        '{"input": "{\\"orderId\\":\\"$input.params(\'id\')\\",\\"body\\":$body}", '
        f'"stateMachineArn": "{machine}"}}'
    )
    response = (
        "#set($output = $util.parseJson($input.path('$.output')))"
        '{"status": "$input.path(\'$.status\')", "output": $output}'
    )
    api = Api()
    api.method(
        "PUT",
        "/orders/{id}",
        integration=service("states", "StartSyncExecution", request),
        answers=[answer("200", response)],
    )
    api.deploy()
    body = {"note": 'it\'s a "flat" white \\ café ☕', "userId": "u1"}

    result = api.call("PUT", "/orders/7", body=json.dumps(body, ensure_ascii=False).encode())

    assert result.status == 200, result.text
    assert result.json() == {"status": "SUCCEEDED", "output": {"orderId": "7", "body": body}}


# --- Lambda proxy -------------------------------------------------------------------------------------

PROXY_SOURCE = """
import json


def handler(event, context):
    if event["queryStringParameters"] and event["queryStringParameters"].get("broken"):
        return {"status": 200}
    return {
        "statusCode": 201,
        "headers": {"X-Served-By": context.function_name},
        "body": json.dumps(event),
    }
"""


def proxy_function() -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", PROXY_SOURCE)
    arn = boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="proxy",
        Runtime="python3.13",
        Role=lambda_role(),
        Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()},
    )["FunctionArn"]
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations"


def test_lambda_proxy_gets_the_v1_event_with_claims_and_shapes_the_answer(pool):
    api = Api()
    authorizer = apigw().create_authorizer(
        restApiId=api.id,
        name="cognito",
        type="COGNITO_USER_POOLS",
        providerARNs=[pool["arn"]],
        identitySource="method.request.header.Authorization",
    )["id"]
    api.method(
        "POST",
        "/qr-code/{code}",
        integration={"type": "AWS_PROXY", "integrationHttpMethod": "POST", "uri": proxy_function()},
        auth={
            "authorizationType": "COGNITO_USER_POOLS",
            "authorizerId": authorizer,
            "authorizationScopes": ["openid", "aws.cognito.signin.user.admin"],
        },
    )
    api.deploy()

    response = api.call(
        "POST",
        "/qr-code/abc",
        query={"token": ["x1", "x2"]},
        headers={"Authorization": pool["tokens"].access_token, "Content-Type": "application/json"},
        body=b'{"a": 1}',
    )

    assert (response.status, response.headers["X-Served-By"]) == (201, "proxy")
    event = response.json()
    assert (event["resource"], event["path"], event["httpMethod"]) == (
        "/qr-code/{code}",
        "/qr-code/abc",
        "POST",
    )
    assert event["pathParameters"] == {"code": "abc"}
    assert event["queryStringParameters"] == {"token": "x2"}
    assert event["multiValueQueryStringParameters"] == {"token": ["x1", "x2"]}
    assert event["multiValueHeaders"]["Content-Type"] == ["application/json"]
    assert (event["body"], event["isBase64Encoded"]) == ('{"a": 1}', False)
    context = event["requestContext"]
    assert (context["resourcePath"], context["httpMethod"], context["stage"]) == (
        "/qr-code/{code}",
        "POST",
        "Prod",
    )
    assert context["identity"]["sourceIp"] == "127.0.0.1" and context["requestId"]
    claims = context["authorizer"]["claims"]
    assert (claims["sub"], claims["cognito:groups"], claims["token_use"]) == (pool["sub"], "admin", "access")
    assert claims["client_id"] == pool["client"] and claims["scope"] == "aws.cognito.signin.user.admin"
    assert all(isinstance(value, str) for value in claims.values())


def test_malformed_lambda_proxy_answer_gives_502():
    api = Api()
    api.method(
        "GET",
        "/x",
        integration={"type": "AWS_PROXY", "integrationHttpMethod": "POST", "uri": proxy_function()},
    )
    api.deploy()

    response = api.call("GET", "/x", query={"broken": "1"})

    assert (response.status, response.json()) == (502, {"message": "Internal server error"})


# --- reaching the executor: URLs inside the mock, and a local server ------------------------------


def test_requests_to_the_stage_url_inside_the_mock_reach_the_executor():
    api = Api()
    api.method("GET", "/orders/{id}", integration=mock(), answers=[answer("200", ECHO)])
    api.deploy()

    response = requests.get(f"https://{api.id}.execute-api.{REGION}.amazonaws.com/Prod/orders/9?state=OPEN")
    missing = requests.get(f"https://{api.id}.execute-api.{REGION}.amazonaws.com/Prod/nothing")

    assert response.status_code == 200
    assert response.json()["id"] == "9" and response.json()["state"] == "OPEN"
    assert (missing.status_code, missing.json()) == (403, {"message": "Missing Authentication Token"})


def test_wsgi_app_serves_every_api_on_a_local_server():
    api = Api()
    cors = {"method.response.header.Access-Control-Allow-Origin": "'*'"}
    api.method(
        "GET", "/orders/{id}", integration=mock(), answers=[answer("200", ECHO, responseParameters=cors)]
    )
    api.deploy()
    server = make_server("127.0.0.1", 0, apigateway.rest_api_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        response = requests.get(f"{base}/{api.id}/Prod/orders/5", params={"state": "NEW"}, timeout=5)
        unknown = requests.get(f"{base}/{api.id}/Prod/nope", timeout=5)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.json()["id"] == "5" and response.json()["state"] == "NEW"
    assert unknown.status_code == 403


def test_executor_answers_within_the_time_a_front_end_expects():
    api = Api()
    api.method("GET", "/ping", integration=mock(), answers=[answer("200", '{"pong": true}')])
    api.deploy()

    started = time.perf_counter()
    for _ in range(50):
        assert api.call("GET", "/ping").status == 200
    assert (time.perf_counter() - started) / 50 < 0.05


# --- the program's resource types, materialised and deployed twice ----------------------------------


def front_door_program(
    template: str, scopes=("aws.cognito.signin.user.admin",), request='{"statusCode": 200}'
):
    import pulumi
    import pulumi_aws as aws

    def program():
        pool = aws.cognito.UserPool(
            "users",
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            password_policy={
                "minimum_length": 6,
                "require_lowercase": False,
                "require_uppercase": False,
                "require_numbers": False,
                "require_symbols": False,
            },
            schemas=[{"name": "email", "attribute_data_type": "String", "required": True, "mutable": True}],
            verification_message_template={"default_email_option": "CONFIRM_WITH_CODE"},
        )
        client = aws.cognito.UserPoolClient(
            "app",
            name="app",
            user_pool_id=pool.id,
            generate_secret=False,
            explicit_auth_flows=[
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_USER_SRP_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
            ],
        )
        aws.cognito.UserGroup("admin", name="admin", user_pool_id=pool.id, description="baristas")
        identity = aws.cognito.IdentityPool(
            "guests",
            identity_pool_name="shop guests",
            allow_unauthenticated_identities=True,
            cognito_identity_providers=[
                {"client_id": client.id, "provider_name": pool.endpoint, "server_side_token_check": False}
            ],
        )
        aws.cognito.IdentityPoolRoleAttachment(
            "guest-roles",
            identity_pool_id=identity.id,
            roles={
                "authenticated": "arn:aws:iam::123456789012:role/member",
                "unauthenticated": "arn:aws:iam::123456789012:role/guest",
            },
        )
        api = aws.apigateway.RestApi("config-api", description="config service")
        resource = aws.apigateway.Resource(
            "config", rest_api=api.id, parent_id=api.root_resource_id, path_part="config"
        )
        authorizer = aws.apigateway.Authorizer(
            "cognito",
            rest_api=api.id,
            name="cognito",
            type="COGNITO_USER_POOLS",
            provider_arns=[pool.arn],
            identity_source="method.request.header.Authorization",
        )
        method = aws.apigateway.Method(
            "get-config",
            rest_api=api.id,
            resource_id=resource.id,
            http_method="GET",
            authorization="COGNITO_USER_POOLS",
            authorizer_id=authorizer.id,
            authorization_scopes=list(scopes),
            request_parameters={"method.request.querystring.state": False},
        )
        after_method = pulumi.ResourceOptions(depends_on=[method])
        integration = aws.apigateway.Integration(
            "get-config",
            rest_api=api.id,
            resource_id=resource.id,
            http_method="GET",
            type="MOCK",
            request_templates={"application/json": request},
            passthrough_behavior="NEVER",
            opts=after_method,
        )
        declared = aws.apigateway.MethodResponse(
            "get-config-200",
            rest_api=api.id,
            resource_id=resource.id,
            http_method="GET",
            status_code="200",
            response_parameters={"method.response.header.Access-Control-Allow-Origin": True},
            opts=after_method,
        )
        answer = aws.apigateway.IntegrationResponse(
            "get-config-200",
            rest_api=api.id,
            resource_id=resource.id,
            http_method="GET",
            status_code="200",
            response_templates={"application/json": template},
            response_parameters={"method.response.header.Access-Control-Allow-Origin": "'*'"},
            opts=pulumi.ResourceOptions(depends_on=[integration, declared]),
        )
        deployment = aws.apigateway.Deployment(
            "config-api",
            rest_api=api.id,
            triggers={"routes": f"{template}|{scopes}|{request}"},
            opts=pulumi.ResourceOptions(depends_on=[answer]),
        )
        logs = aws.cloudwatch.LogGroup("config-api-access", name="/aws/apigateway/config-api")
        stage = aws.apigateway.Stage(
            "prod",
            rest_api=api.id,
            deployment=deployment.id,
            stage_name="Prod",
            access_log_settings={"destination_arn": logs.arn, "format": '{"id": "$context.requestId"}'},
        )
        aws.apigateway.MethodSettings(
            "throttling",
            rest_api=api.id,
            stage_name=stage.stage_name,
            method_path="*/*",
            settings={"throttling_rate_limit": 10, "throttling_burst_limit": 5},
        )
        aws.apigateway.Account("account", cloudwatch_role_arn="arn:aws:iam::123456789012:role/apigw-logs")
        pulumi.export("endpoint", stage.invoke_url)
        pulumi.export("apiId", api.id)
        pulumi.export("executionArn", api.execution_arn)
        pulumi.export("stageArn", stage.execution_arn)
        pulumi.export("userPoolId", pool.id)
        pulumi.export("userPoolArn", pool.arn)
        pulumi.export("userPoolEndpoint", pool.endpoint)
        pulumi.export("clientId", client.id)
        pulumi.export("identityPoolId", identity.id)
        pulumi.export("identityPoolArn", identity.arn)

    return program


def test_front_door_resources_materialise_and_a_second_deploy_applies_only_what_changed():
    from localcloud import materialize

    state = materialize.StackState()
    run, summary = materialize.deploy("local", state, program_fn=front_door_program('{"open": true}'))
    out = run.outputs
    assert summary.unsupported == [] and summary.count("created") == len(state.resources)
    assert out["endpoint"] == f"https://{out['apiId']}.execute-api.{REGION}.amazonaws.com/Prod"
    assert out["executionArn"] == f"arn:aws:execute-api:{REGION}:123456789012:{out['apiId']}"
    assert out["stageArn"] == f"{out['executionArn']}/Prod"
    assert out["userPoolEndpoint"] == f"cognito-idp.{REGION}.amazonaws.com/{out['userPoolId']}"
    assert out["identityPoolArn"].endswith(f":identitypool/{out['identityPoolId']}")
    pool = {"id": out["userPoolId"], "arn": out["userPoolArn"]}
    cognito.create_user(pool["id"], "barista@example.com", "simple", ["admin"])
    tokens = cognito.sign_in(pool["id"], out["clientId"], "barista@example.com", "simple")
    signed_in = {"Authorization": tokens.access_token}

    first = apigateway.invoke(out["apiId"], "Prod", "GET", "/config", headers=signed_in)

    assert (first.status, first.json(), first.headers["Access-Control-Allow-Origin"]) == (
        200,
        {"open": True},
        "*",
    )
    assert apigateway.invoke(out["apiId"], "Prod", "GET", "/config").status == 401
    stage = apigw().get_stage(restApiId=out["apiId"], stageName="Prod")
    assert stage["methodSettings"]["*/*"]["throttlingBurstLimit"] == 5
    assert stage["accessLogSettings"]["destinationArn"].endswith(":log-group:/aws/apigateway/config-api")
    roles = boto3.client("cognito-identity", region_name=REGION).get_identity_pool_roles(
        IdentityPoolId=out["identityPoolId"]
    )
    assert roles["Roles"]["unauthenticated"] == "arn:aws:iam::123456789012:role/guest"

    _, unchanged = materialize.deploy("local", state, program_fn=front_door_program('{"open": true}'))
    assert unchanged.count("unchanged") == len(state.resources)
    assert apigateway.invoke(out["apiId"], "Prod", "GET", "/config", headers=signed_in).json() == {
        "open": True
    }

    _, changed = materialize.deploy("local", state, program_fn=front_door_program('{"open": false}'))
    assert (
        changed.action_of("get-config-200", "aws:apigateway/integrationResponse:IntegrationResponse")
        == "updated"
    )
    assert changed.action_of("config-api", "aws:apigateway/deployment:Deployment") == "updated"
    assert changed.action_of("prod") == "updated"
    assert changed.count("created") == 0
    assert apigateway.invoke(out["apiId"], "Prod", "GET", "/config", headers=signed_in).json() == {
        "open": False
    }


def test_changing_a_method_or_its_integration_keeps_what_hangs_below():
    from localcloud import materialize

    state = materialize.StackState()
    run, _ = materialize.deploy("local", state, program_fn=front_door_program('{"v": 1}'))
    api_id, pool_id = run.outputs["apiId"], run.outputs["userPoolId"]
    cognito.create_user(pool_id, "barista@example.com", "simple", ["admin"])
    token = cognito.sign_in(pool_id, run.outputs["clientId"], "barista@example.com", "simple").access_token

    _, method_changed = materialize.deploy(
        "local",
        state,
        program_fn=front_door_program('{"v": 1}', scopes=("openid", "aws.cognito.signin.user.admin")),
    )
    assert method_changed.action_of("get-config", "aws:apigateway/method:Method") == "updated"
    assert method_changed.action_of("get-config", "aws:apigateway/integration:Integration") == "unchanged"
    answer = apigateway.invoke(api_id, "Prod", "GET", "/config", headers={"Authorization": token})
    assert (answer.status, answer.json(), answer.headers.get("Access-Control-Allow-Origin")) == (
        200,
        {"v": 1},
        "*",
    )

    request = "#if($input.params('state') == 'gone'){\"statusCode\": 500}#else{\"statusCode\": 200}#end"
    _, integration_changed = materialize.deploy(
        "local",
        state,
        program_fn=front_door_program(
            '{"v": 1}', scopes=("openid", "aws.cognito.signin.user.admin"), request=request
        ),
    )
    assert integration_changed.action_of("get-config", "aws:apigateway/integration:Integration") == "updated"
    assert integration_changed.action_of(
        "get-config-200", "aws:apigateway/integrationResponse:IntegrationResponse"
    ) == ("unchanged")
    again = apigateway.invoke(api_id, "Prod", "GET", "/config", headers={"Authorization": token})
    assert (again.status, again.json()) == (200, {"v": 1})
    method = apigw().get_method(restApiId=api_id, resourceId=state.named("config").id, httpMethod="GET")
    assert method["authorizationScopes"] == ["openid", "aws.cognito.signin.user.admin"]
    assert set(method["methodResponses"]) == {"200"}
    assert method["methodIntegration"]["requestTemplates"]["application/json"] == request
    assert set(method["methodIntegration"]["integrationResponses"]) == {"200"}
