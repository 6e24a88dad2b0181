"""API Gateway REST APIs (v1) executed offline, over the APIs moto stores.

moto holds the control plane (APIs, resources, methods, authorizers, integrations and their responses,
deployments, stages) but cannot invoke it. ``invoke(api_id, stage, method, path, ...)`` does what API
Gateway does with a request:

1. Route: the path against the resource tree, static segments first, then ``{param}``, then a greedy
   ``{proxy+}``; the method exactly or ``ANY``. Nothing matches → 403 ``Missing Authentication Token``;
   an unknown API or stage → 403 ``Forbidden``.
2. Authorize (``COGNITO_USER_POOLS``): the token from the authorizer's identity-source header (raw or
   ``Bearer ...``) is verified against the issuing pool's key (``cognito.verify_token``: signature, ``iss``,
   ``exp``, ``token_use``). A method with ``authorizationScopes`` needs an ACCESS token whose ``scope`` holds
   one of them; a method without needs an ID token (AWS rejects access tokens there, having no scope to
   check). Any failure → 401 ``Unauthorized`` (AWS answers 401, not 403, for a scope mismatch too). The
   claims reach ``$context.authorizer.claims`` and the proxy event, every value a string as REST APIs hand
   them over: ``cognito:groups`` joined with commas, ``exp``/``iat`` as Java dates.
3. Integration request: the request template chosen by ``Content-Type`` (default ``application/json``) and
   the passthrough behaviour (no match under ``NEVER``, or under ``WHEN_NO_TEMPLATES`` with templates → 415).
4. Integration: ``MOCK`` (the template's ``statusCode``); ``AWS`` ``<service>:action/<Op>`` (the rendered JSON
   is the operation's input, called through boto3 on moto; success → 200 and the output as JSON, an error
   → its HTTP status (400/500) with ``{"__type": "<namespace>#<Code>", "message": ...}``); ``AWS`` Lambda
   (non-proxy: the payload is the rendered template, a function error is selected by its ``errorMessage``);
   ``AWS_PROXY`` Lambda (proxy event v1, invoked through boto3 so the in-process runtime runs it; a function
   error or malformed answer → 502 ``Internal server error``).
5. Integration response: the first ``selectionPattern`` fully matching the backend status (or the Lambda
   ``errorMessage``), else the one without a pattern, else 500; its response template (by ``Accept``, else
   ``application/json``; none or empty → the backend body), ``$context.responseOverride``, and response
   parameters (``'static'``, ``integration.response.header.X``, ``integration.response.body[.path]``).

6. The gateway's own answers (a refused token, an unknown route, an unsupported media type, a broken
   template or a malformed proxy answer) are its gateway responses: the type's own if the API has one,
   else the API's ``DEFAULT_4XX``/``DEFAULT_5XX`` (status, headers, template), else AWS's default, a
   ``{"message": ...}`` body. ``gatewayresponse.header.X`` parameters become headers (``'static'`` or
   ``method.request.header.Y``); ``$context.error.message``/``messageString``/``responseType`` reach the
   template.

A stage serves **its deployment**, as AWS does: ``CreateDeployment`` freezes the API as it is then
(resources, methods, integrations and their responses, authorizers, gateway responses) and a request is
answered from the frozen copy of the deployment the stage points at. A definition changed without a new
deployment is not served. Not modelled: stage throttling and ``MethodSettings`` (recorded on the stage, not
enforced), API keys and usage plans, ``AWS_IAM``/``CUSTOM`` authorizers (500), ``HTTP``/``HTTP_PROXY`` and
``path/`` AWS integrations (500), request validators and models, integration request parameters (they would
only shape the HTTP call to the backend), binary media types, the integration's ``credentials`` role (no IAM
check), stage variables in URIs, access logs.

URLs: ``https://<apiId>.execute-api.<region>.amazonaws.com/<stage>/<path>`` called with ``requests`` or
botocore inside the mock reaches ``invoke`` (moto's own callbacks, registered by
``RestAPI.update_integration_mocks``, are replaced). ``rest_api_app()`` is a WSGI app serving every API at
``/<apiId>/<stage>/<path>`` for a local server.

Tests: ``tests/localcloud/test_emulator_apigateway.py``.
"""

from __future__ import annotations

import base64
import copy
import datetime
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from botocore import xform_name
from botocore.exceptions import ClientError, ParamValidationError

from localcloud.emulator import cognito, vtl
from localcloud.emulator.core import client, run_once

LOG = logging.getLogger(__name__)

__all__ = ["Response", "install", "invoke", "rest_api_app"]

_JSON = "application/json"
_ERROR_NAMESPACES = {
    "dynamodb": "com.amazonaws.dynamodb.v20120810#",
    "stepfunctions": "com.amazonaws.swf.service.v2.model#",
}
_SERVICE_NAMES = {"states": "stepfunctions"}


@dataclass
class Response:
    """What the client receives."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


class _GatewayError(Exception):
    """A response API Gateway gives itself (not the integration's): its gateway response type, that type's
    default status, the message and the ``x-amzn-ErrorType`` header."""

    def __init__(self, status: int, message: str, error_type: str, response_type: str):
        super().__init__(message)
        self.status, self.message, self.error_type = status, message, error_type
        self.response_type = response_type


def _missing_token() -> _GatewayError:
    message, error_type = "Missing Authentication Token", "MissingAuthenticationTokenException"
    return _GatewayError(403, message, error_type, "MISSING_AUTHENTICATION_TOKEN")


def _unauthorized() -> _GatewayError:
    return _GatewayError(401, "Unauthorized", "UnauthorizedException", "UNAUTHORIZED")


def _internal(status: int = 500, response_type: str = "API_CONFIGURATION_ERROR") -> _GatewayError:
    return _GatewayError(status, "Internal server error", "InternalServerErrorException", response_type)


# --------------------------------------------------------------------------- install


@run_once
def install() -> None:
    """Route execute-api URLs to ``invoke`` and retire moto's callbacks; safe to call any number of times."""
    from moto.apigateway.models import RestAPI
    from moto.apigatewaymanagementapi import urls

    vtl.install()
    _freeze_every_deployment(RestAPI)
    # moto registers one `responses` callback per (resource, method) that cannot execute anything and
    # takes precedence over every other route; ours is the catch-all path below instead.
    RestAPI.update_integration_mocks = _no_integration_mocks
    # botocore and `requests` calls to <id>.execute-api... both reach moto's apigatewaymanagementapi
    # URL table (its `@connections` paths stay first); everything else under a stage is ours.
    urls.url_paths["{0}/(?P<stage_name>[^/@]+)(?P<rest>/.*)?$"] = _url_callback


@dataclass(frozen=True)
class _Resource:
    """One path of a deployed API: its methods as they were when the deployment was created."""

    id: str
    path: str
    parts: tuple[str, ...]
    methods: dict[str, Any]

    @property
    def rank(self) -> tuple[int, ...]:
        """Static segments before ``{param}`` before a greedy ``{proxy+}``, segment by segment."""
        return tuple(2 if p.endswith("+}") else 1 if p.startswith("{") else 0 for p in self.parts)


@dataclass(frozen=True)
class _Deployed:
    """What one deployment froze: the routes (most specific first), authorizers and gateway responses."""

    resources: tuple[_Resource, ...]
    authorizers: dict[str, Any]
    gateway_responses: dict[str, Any]


def _frozen_copy(api: Any) -> _Deployed:
    resources = []
    for resource in list(api.resources.values()):
        try:
            path = resource.get_path()
        except Exception:  # a resource whose parent was deleted under it is unreachable
            continue
        parts = tuple(part for part in path.split("/") if part)
        resources.append(_Resource(resource.id, path, parts, copy.deepcopy(resource.resource_methods)))
    return _Deployed(
        tuple(sorted(resources, key=lambda resource: resource.rank)),
        copy.deepcopy(api.authorizers),
        copy.deepcopy(api.gateway_responses),
    )


def _freeze_every_deployment(rest_api_class: Any) -> None:
    create_deployment = rest_api_class.create_deployment

    def create_and_freeze(self: Any, *args: Any, **kwargs: Any) -> Any:
        deployment = create_deployment(self, *args, **kwargs)
        deployment.localcloud_frozen = _frozen_copy(self)
        return deployment

    rest_api_class.create_deployment = create_and_freeze


def _no_integration_mocks(self: Any, stage_name: str) -> None:
    """moto's hook is replaced: requests to the stage URL are routed by ``_url_callback``."""


def _url_callback(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
    url = urlsplit(getattr(request, "url", None) or full_url)
    api_id = (url.hostname or "").split(".", 1)[0]
    _, stage, *rest = url.path.split("/", 2)
    data = request.get_data() if hasattr(request, "get_data") else (request.body or b"")
    answer = invoke(
        api_id,
        unquote(stage),
        request.method,
        unquote("/" + (rest[0] if rest else "")),
        parse_qs(url.query, keep_blank_values=True),
        dict(request.headers.items()),
        data if isinstance(data, bytes) else str(data).encode(),
    )
    return answer.status, answer.headers, answer.body


# --------------------------------------------------------------------------- invoke

_served_lock = threading.Lock()
_served = 0


def _count_request() -> None:
    global _served
    with _served_lock:
        _served += 1


def requests_served() -> int:
    """Requests answered by a deployed stage since the process started (what API Gateway bills)."""
    with _served_lock:
        return _served


def invoke(
    api_id: str,
    stage: str,
    method: str,
    path: str,
    query: Mapping[str, list[str]] | Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    *,
    source_ip: str = "127.0.0.1",
) -> Response:
    """Answer one request to ``https://<api_id>.execute-api.<region>.amazonaws.com/<stage><path>``."""
    install()
    request_id = str(uuid.uuid4())
    request = _Request.of(method, path, query, headers, body, source_ip)
    deployed: _Deployed | None = None
    try:
        found = _find_api(api_id.lower())
        if found is None or stage not in found[0].stages:
            raise _GatewayError(403, "Forbidden", "ForbiddenException", "DEFAULT_4XX")
        api, account, region = found
        _count_request()
        deployed = _deployed(api, stage)
        resource, method_model, path_params = _route(deployed, request.method, request.path)
        context = _context(api, account, region, stage, request, resource, request_id)
        return _execute(deployed, method_model, request, path_params, context, region)
    except _GatewayError as error:
        return _gateway_response(error, request, request_id, deployed)
    except Exception:  # a bug here or in moto: API Gateway's own 500, not a traceback to the client
        LOG.exception("request %s %s to %s/%s failed", method, path, api_id, stage)
        return _gateway_response(_internal(), request, request_id, deployed)


def _deployed(api: Any, stage: str) -> _Deployed:
    deployment = api.deployments.get(api.stages[stage].deployment_id)
    frozen = getattr(deployment, "localcloud_frozen", None)
    if frozen is None:  # every deployment is frozen as it is created, so a stage can only point at none
        LOG.warning("stage %s of %s points at no deployment", stage, api.id)
        raise _GatewayError(403, "Forbidden", "ForbiddenException", "DEFAULT_4XX")
    return frozen


_DEFAULT_GATEWAY_TEMPLATE = '{"message":$context.error.messageString}'


def _gateway_response(
    error: _GatewayError, request: _Request, request_id: str, deployed: _Deployed | None
) -> Response:
    """The answer of the error's gateway response type: the API's own for that type, else its default for
    the status class (whose status, headers and template every unset type of that class takes), else AWS's
    default ``{"message": ...}``."""
    responses = deployed.gateway_responses if deployed is not None else {}
    configured = responses.get(error.response_type) or responses.get(
        "DEFAULT_4XX" if error.status < 500 else "DEFAULT_5XX"
    )
    status = error.status
    if configured is not None and configured.status_code:
        status = int(configured.status_code)
    templates = (configured.response_templates if configured is not None else None) or {}
    template = templates.get(_JSON) or next(iter(templates.values()), None) or _DEFAULT_GATEWAY_TEMPLATE
    context = {
        "requestId": request_id,
        "httpMethod": request.method,
        "error": {
            "message": error.message,
            "messageString": json.dumps(error.message),
            "responseType": error.response_type,
        },
    }
    body = vtl.render(template, body=request.text, context=context).text
    headers = {"Content-Type": _JSON, "x-amzn-RequestId": request_id, "x-amzn-ErrorType": error.error_type}
    for name, source in ((configured.response_parameters if configured is not None else None) or {}).items():
        if name.startswith("gatewayresponse.header."):
            value = _request_value(source, request)
            if value is not None:
                headers[name.removeprefix("gatewayresponse.header.")] = value
    return Response(status, headers, body.encode())


def _request_value(source: str, request: _Request) -> str | None:
    """A gateway response parameter's value: ``'static'`` or ``method.request.header.X``."""
    if len(source) >= 2 and source.startswith("'") and source.endswith("'"):
        return source[1:-1]
    if source.startswith("method.request.header."):
        return request.header(source.removeprefix("method.request.header."))
    return None


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    source_ip: str

    @classmethod
    def of(cls, method, path, query, headers, body, source_ip) -> _Request:
        multi = {
            key: list(value) if isinstance(value, (list, tuple)) else [value]
            for key, value in (query or {}).items()
        }
        return cls(method.upper(), "/" + path.strip("/"), multi, dict(headers or {}), body or b"", source_ip)

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == lowered), None)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def template_params(self, path_params: dict[str, str]) -> dict[str, dict[str, str]]:
        query = {key: values[-1] for key, values in self.query.items() if values}
        return {"path": path_params, "querystring": query, "header": dict(self.headers)}


def _find_api(api_id: str) -> tuple[Any, str, str] | None:
    from moto.apigateway.models import apigateway_backends

    for account, regions in list(apigateway_backends.items()):
        for region, backend in list(regions.items()):
            if api_id in backend.apis:
                return backend.apis[api_id], account, region
    return None


# --------------------------------------------------------------------------- 1. routing


def _route(deployed: _Deployed, method: str, path: str) -> tuple[_Resource, Any, dict[str, str]]:
    segments = [segment for segment in path.split("/") if segment]
    for resource in deployed.resources:
        params = _match(resource.parts, segments)
        if params is not None:
            found = resource.methods.get(method) or resource.methods.get("ANY")
            if found is not None:
                return resource, found, params
    raise _missing_token()


def _match(parts: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for index, part in enumerate(parts):
        if part.startswith("{") and part.endswith("+}"):
            rest = segments[index:]
            if index != len(parts) - 1 or not rest:
                return None
            params[part[1:-2]] = "/".join(rest)
            return params
        if index >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = segments[index]
        elif part != segments[index]:
            return None
    return params if len(parts) == len(segments) else None


# --------------------------------------------------------------------------- 2. context and authorizer


def _context(api, account, region, stage, request: _Request, resource: _Resource, request_id) -> dict:
    now = datetime.datetime.now(datetime.UTC)
    return {
        "accountId": account,
        "apiId": api.id,
        "domainName": f"{api.id}.execute-api.{region}.amazonaws.com",
        "domainPrefix": api.id,
        "extendedRequestId": request_id,
        "httpMethod": request.method,
        "identity": {"sourceIp": request.source_ip, "userAgent": request.header("User-Agent")},
        "path": f"/{stage}{request.path}",
        "protocol": "HTTP/1.1",
        "requestId": request_id,
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "resourceId": resource.id,
        "resourcePath": resource.path,
        "stage": stage,
    }


def _authorize(deployed: _Deployed, method: Any, request: _Request) -> dict[str, str]:
    authorizer = deployed.authorizers.get(method.authorizer_id)
    if authorizer is None or authorizer.type != "COGNITO_USER_POOLS":
        LOG.warning(
            "method %s: authorizer %s is missing or not a user pool", method.http_method, method.authorizer_id
        )
        raise _internal(response_type="AUTHORIZER_CONFIGURATION_ERROR")
    source = authorizer.identity_source or "method.request.header.Authorization"
    token = (request.header(source.rsplit(".", 1)[-1]) or "").strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not token:
        raise _unauthorized()
    try:
        claims = cognito.verify_token(token, authorizer.provider_arns or [])
    except cognito.InvalidToken as error:
        LOG.info("token refused: %s", error)
        raise _unauthorized() from error
    scopes = method.authorization_scopes or []
    if scopes:
        granted = set(str(claims.get("scope", "")).split())
        if claims.get("token_use") != "access" or not granted & set(scopes):
            raise _unauthorized()
    elif claims.get("token_use") != "id":
        raise _unauthorized()
    return _rest_claims(claims)


def _rest_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as REST APIs give them: strings, lists joined with commas, ``exp``/``iat`` as Java dates."""
    result = {}
    for key, value in claims.items():
        if key in ("exp", "iat") and isinstance(value, (int, float)):
            value = time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(value))
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            value = ",".join(str(item) for item in value)
        result[key] = str(value)
    return result


# --------------------------------------------------------------------------- 3-5. execution


@dataclass
class _Backend:
    """The integration's answer, before the integration response maps it."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    error_message: str | None = None  # a Lambda function error (non-proxy), used for selection


def _execute(deployed: _Deployed, method, request: _Request, path_params, context, region) -> Response:
    if method.authorization_type == "COGNITO_USER_POOLS":
        context["authorizer"] = {"claims": _authorize(deployed, method, request)}
    elif (method.authorization_type or "NONE") != "NONE":
        LOG.warning("authorization type %s is not modelled", method.authorization_type)
        raise _internal()
    integration = method.method_integration
    if integration is None:
        raise _internal()
    kind = integration.integration_type
    if kind == "AWS_PROXY":
        return _lambda_proxy(integration, request, path_params, context)
    params = request.template_params(path_params)
    payload = _integration_request(integration, request, params, context)
    if kind == "MOCK":
        backend = _mock(payload)
    elif kind == "AWS" and ":lambda:path/" in (integration.uri or ""):
        backend = _lambda_call(integration.uri, payload)
    elif kind == "AWS" and ":action/" in (integration.uri or ""):
        backend = _service_call(integration.uri, payload, region)
    else:
        LOG.warning("integration %s %s is not modelled", kind, integration.uri)
        raise _internal()
    return _integration_response(integration, backend, request, params, context)


def _integration_request(integration, request: _Request, params, context) -> str:
    templates = {key.lower(): value for key, value in (integration.request_templates or {}).items()}
    content_type = (request.header("Content-Type") or _JSON).split(";", 1)[0].strip().lower()
    if content_type in templates:
        template = templates[content_type]
        if not template:
            return request.text
        return _render(template, request.text, params, context).text
    behaviour = (integration.passthrough_behaviour or "WHEN_NO_MATCH").upper()
    if behaviour == "WHEN_NO_MATCH" or (behaviour == "WHEN_NO_TEMPLATES" and not templates):
        return request.text
    message, error_type = "Unsupported Media Type", "UnsupportedMediaTypeException"
    raise _GatewayError(415, message, error_type, "UNSUPPORTED_MEDIA_TYPE")


def _render(template: str, body: str, params, context) -> vtl.Rendered:
    try:
        return vtl.render(template, body=body, params=params, context=context)
    except Exception as error:
        LOG.warning("mapping template failed: %s", error)
        raise _internal() from error


def _mock(payload: str) -> _Backend:
    if not payload.strip():
        return _Backend(200)
    try:
        status = json.loads(payload).get("statusCode")
    except (ValueError, AttributeError) as error:
        raise _internal() from error
    if not isinstance(status, int):
        raise _internal()
    return _Backend(status)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if hasattr(value, "read"):
        return value.read().decode("utf-8", errors="replace")
    return str(value)


def _service_call(uri: str, payload: str, default_region: str) -> _Backend:
    match = re.match(r"arn:[^:]+:apigateway:([^:]*):([^:]+):action/([A-Za-z0-9]+)", uri)
    if match is None:
        raise _internal()
    region, service, action = match.group(1) or default_region, match.group(2), match.group(3)
    service = _SERVICE_NAMES.get(service, service)
    namespace = _ERROR_NAMESPACES.get(service, "")
    try:
        parameters = json.loads(payload) if payload.strip() else {}
    except ValueError as error:
        return _error_backend(400, "com.amazon.coral.service#SerializationException", str(error))
    if not isinstance(parameters, dict):
        return _error_backend(400, "com.amazon.coral.service#SerializationException", "not a JSON object")
    try:
        output = getattr(client(service, region), xform_name(action))(**parameters)
    except ParamValidationError as error:
        return _error_backend(400, f"{namespace}ValidationException", str(error))
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 400
        details = error.response.get("Error", {})
        return _error_backend(status, namespace + details.get("Code", "Error"), details.get("Message", ""))
    output.pop("ResponseMetadata", None)
    return _Backend(200, json.dumps(output, default=_json_default).encode(), {"Content-Type": _JSON})


def _error_backend(status: int, error_type: str, message: str) -> _Backend:
    body = json.dumps({"__type": error_type, "message": message}).encode()
    return _Backend(status, body, {"Content-Type": _JSON, "x-amzn-ErrorType": error_type.rsplit("#", 1)[-1]})


def _function_arn(uri: str) -> str:
    match = re.search(r":lambda:path/[^/]+/functions/(.+?)/invocations", uri or "")
    if match is None:
        raise _internal()
    return match.group(1)


def _lambda_call(uri: str, payload: str) -> _Backend:
    arn = _function_arn(uri)
    answer = client("lambda", arn.split(":")[3]).invoke(FunctionName=arn, Payload=payload.encode() or b"{}")
    body = answer["Payload"].read()
    if answer.get("FunctionError"):
        try:
            message = str(json.loads(body).get("errorMessage", ""))
        except (ValueError, AttributeError):
            message = ""
        return _Backend(200, body, {"Content-Type": _JSON}, error_message=message)
    return _Backend(200, body, {"Content-Type": _JSON})


def _select(integration: Any, backend: _Backend) -> Any:
    responses = list((integration.integration_responses or {}).values())
    value = backend.error_message if backend.error_message is not None else str(backend.status)
    for response in responses:
        if response.selection_pattern and re.fullmatch(response.selection_pattern, value):
            return response
    default = next((response for response in responses if not response.selection_pattern), None)
    if default is None:
        LOG.warning("no integration response matches %r and none is the default", value)
        raise _internal()
    return default


def _integration_response(integration, backend: _Backend, request: _Request, params, context) -> Response:
    chosen = _select(integration, backend)
    templates = chosen.response_templates or {}
    template = templates.get(request.header("Accept") or "") or templates.get(_JSON)
    if template is None and templates:
        template = next(iter(templates.values()))
    status, body, overrides = int(chosen.status_code), backend.body, {}
    if template:
        rendered = _render(template, backend.body.decode("utf-8", errors="replace"), params, context)
        body, overrides = rendered.text.encode(), rendered.header_overrides
        status = rendered.status_override or status
    headers = {"Content-Type": _JSON, "x-amzn-RequestId": context["requestId"]}
    for name, source in (chosen.response_parameters or {}).items():
        if name.startswith("method.response.header."):
            value = _parameter_value(source, backend)
            if value is not None:
                headers[name.removeprefix("method.response.header.")] = value
    headers.update(overrides)
    return Response(status, headers, body)


def _parameter_value(source: str, backend: _Backend) -> str | None:
    if len(source) >= 2 and source.startswith("'") and source.endswith("'"):
        return source[1:-1]
    if source.startswith("integration.response.header."):
        wanted = source.removeprefix("integration.response.header.").lower()
        return next((v for k, v in backend.headers.items() if k.lower() == wanted), None)
    if source == "integration.response.body":
        return backend.body.decode("utf-8", errors="replace")
    if source.startswith("integration.response.body."):
        try:
            found = vtl.select(
                json.loads(backend.body), "$." + source.removeprefix("integration.response.body.")
            )
        except ValueError:
            return None
        return None if found is None else found if isinstance(found, str) else json.dumps(found)
    return None


# --------------------------------------------------------------------------- Lambda proxy


def _proxy_event(request: _Request, path_params, context) -> dict[str, Any]:
    try:
        body, encoded = (request.body.decode("utf-8"), False) if request.body else (None, False)
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(request.body).decode(), True
    query = {key: values[-1] for key, values in request.query.items() if values}
    return {
        "resource": context["resourcePath"],
        "path": request.path,
        "httpMethod": request.method,
        "headers": dict(request.headers) or None,
        "multiValueHeaders": {key: [value] for key, value in request.headers.items()} or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": dict(request.query) or None,
        "pathParameters": dict(path_params) or None,
        "stageVariables": None,
        "requestContext": {key: value for key, value in context.items() if key != "responseOverride"},
        "body": body,
        "isBase64Encoded": encoded,
    }


_PROXY_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}


def _lambda_proxy(integration, request: _Request, path_params, context) -> Response:
    arn = _function_arn(integration.uri)
    event = _proxy_event(request, path_params, context)
    try:
        answer = client("lambda", arn.split(":")[3]).invoke(
            FunctionName=arn, Payload=json.dumps(event).encode()
        )
        result = json.loads(answer["Payload"].read() or b"null")
    except (ClientError, ValueError) as error:
        LOG.warning("Lambda proxy invocation failed: %s", error)
        raise _internal(502, "DEFAULT_5XX") from error
    if answer.get("FunctionError") or not _valid_proxy_answer(result):
        LOG.warning(
            "Execution failed due to configuration error: Malformed Lambda proxy response: %s", result
        )
        raise _internal(502, "DEFAULT_5XX")
    headers = {"Content-Type": _JSON, "x-amzn-RequestId": context["requestId"]}
    for name, value in (result.get("headers") or {}).items():
        headers[name] = _header_text(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name] = ",".join(
            _header_text(value) for value in (values if isinstance(values, list) else [values])
        )
    body = result.get("body")
    data = b"" if body is None else body.encode() if isinstance(body, str) else json.dumps(body).encode()
    if result.get("isBase64Encoded") and data:
        data = base64.b64decode(data)
    return Response(int(result.get("statusCode") or 200), headers, data)


def _header_text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _valid_proxy_answer(result: Any) -> bool:
    if not isinstance(result, dict) or set(result) - _PROXY_KEYS:
        return False
    if not isinstance(result.get("headers") or {}, dict) or not isinstance(
        result.get("multiValueHeaders") or {}, dict
    ):
        return False
    if result.get("body") is not None and not isinstance(result["body"], str):
        return False
    try:
        int(result.get("statusCode") or 200)
    except (TypeError, ValueError):
        return False
    return True


# --------------------------------------------------------------------------- WSGI front door


def rest_api_app() -> Any:
    """A WSGI app serving every REST API at ``/<apiId>/<stage>/<path>`` (status, headers and body copied)."""
    from werkzeug.wrappers import Request as WsgiRequest
    from werkzeug.wrappers import Response as WsgiResponse

    @WsgiRequest.application
    def app(request: WsgiRequest) -> WsgiResponse:
        parts = request.path.lstrip("/").split("/", 2)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            answer = Response(403, {"Content-Type": _JSON}, json.dumps({"message": "Forbidden"}).encode())
        else:
            answer = invoke(
                parts[0],
                parts[1],
                request.method,
                "/" + (parts[2] if len(parts) > 2 else ""),
                {key: request.args.getlist(key) for key in request.args},
                dict(request.headers.items()),
                request.get_data(),
                source_ip=request.remote_addr or "127.0.0.1",
            )
        return WsgiResponse(answer.body, status=answer.status, headers=list(answer.headers.items()))

    return app
