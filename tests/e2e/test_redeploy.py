"""A second `up` reaches the live stage only through a new deployment, as on AWS: a stage serves the
deployment it points at, never the API's current definition. So a setting that only changes what the APIs
answer (here `corsAllowOrigin`) must redeploy every API, and it does."""

from __future__ import annotations

import re

import pytest

from localcloud.emulator import apigateway

APIS = ("APIGWEndpointConfigService", "orderManagerEndpoint", "APIGWEndpointValidatorService")


@pytest.fixture(scope="module")
def cloud():
    from localcloud.cloud import LocalCloud

    with LocalCloud.running("local", {"corsAllowOrigin": "https://first.example"}) as running:
        yield running


def api_id(cloud, output: str) -> str:
    return re.match(r"https://([^.]+)\.", cloud.outputs[output]).group(1)


def origins(cloud) -> dict[str, tuple[str, str]]:
    """Per API: the origin its preflight names and the one its gateway's own 403 names."""
    seen = {}
    for output in APIS:
        api = api_id(cloud, output)
        path = next(r["path"] for r in resources(cloud, api) if "OPTIONS" in r.get("resourceMethods", {}))
        preflight = apigateway.invoke(api, "Prod", "OPTIONS", path)
        refused = apigateway.invoke(api, "Prod", "GET", "/no-such-route")
        assert (preflight.status, refused.status) == (200, 403)
        seen[output] = (
            preflight.headers["Access-Control-Allow-Origin"],
            refused.headers["Access-Control-Allow-Origin"],
        )
    return seen


def resources(cloud, api: str) -> list[dict]:
    return cloud.client("apigateway").get_resources(restApiId=api, limit=500)["items"]


def test_a_new_cors_origin_alone_reaches_every_live_stage_after_up(cloud):
    assert set(origins(cloud).values()) == {("https://first.example", "https://first.example")}

    summary = cloud.deploy({"corsAllowOrigin": "https://second.example"})

    deployments = [name for name, action in summary_actions(summary, "Deployment") if action == "updated"]
    assert len(deployments) == len(APIS)
    assert set(origins(cloud).values()) == {("https://second.example", "https://second.example")}


def test_a_definition_changed_without_a_new_deployment_is_not_served(cloud):
    api = api_id(cloud, "orderManagerEndpoint")
    before = origins(cloud)["orderManagerEndpoint"]
    apigw = cloud.client("apigateway")
    options = next(r for r in resources(cloud, api) if r["path"] == "/myOrders")
    key = {"restApiId": api, "resourceId": options["id"], "httpMethod": "OPTIONS", "statusCode": "200"}
    answer = apigw.get_integration_response(**key)
    changed = {**answer["responseParameters"], "method.response.header.Access-Control-Allow-Origin": "'x'"}
    apigw.put_integration_response(**key, responseParameters=changed)
    apigw.put_gateway_response(restApiId=api, responseType="MISSING_AUTHENTICATION_TOKEN", statusCode="418")

    assert origins(cloud)["orderManagerEndpoint"] == before
    assert apigateway.invoke(api, "Prod", "GET", "/no-such-route").status == 403

    deployment = apigw.create_deployment(restApiId=api)["id"]
    move = {"op": "replace", "path": "/deploymentId", "value": deployment}
    apigw.update_stage(restApiId=api, stageName="Prod", patchOperations=[move])
    preflight = apigateway.invoke(api, "Prod", "OPTIONS", "/myOrders")
    assert preflight.headers["Access-Control-Allow-Origin"] == "x"
    assert apigateway.invoke(api, "Prod", "GET", "/no-such-route").status == 418


def summary_actions(summary, kind: str) -> list[tuple[str, str]]:
    return [(name, action) for type_, name, action in summary.actions if type_.endswith(f":{kind}")]
