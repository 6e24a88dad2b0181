"""A REST API whose routes are data: per-route Cognito scopes, direct AWS service integrations with one role
each (exactly that action on exactly those resources), Lambda proxies, a CORS preflight on every path, the
gateway's own answers (401, 403, 429, 5xx) with the same CORS headers, a deployment redone whenever anything
it freezes changes, and a stage with access logs and throttling."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components import iam
from components.mapping_templates import template
from components.naming import stack_scoped

CORS_HEADERS = "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token"
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "user": "$context.authorizer.claims.sub",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "integrationError": "$context.integrationErrorMessage",
    }
)
_ALLOW_ORIGIN = "method.response.header.Access-Control-Allow-Origin"
# The answers API Gateway gives itself, before or instead of an integration. Every type not named falls
# back on DEFAULT_4XX or DEFAULT_5XX, headers included; the named ones are those a client of this stack
# meets (a missing or refused token, an unknown route, throttling, a body that is not JSON, a slow or failing
# backend), declared so that each one's CORS headers are visible where the API is read.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
GATEWAY_RESPONSE_TYPES = (
    "DEFAULT_4XX",
    "DEFAULT_5XX",
    "UNAUTHORIZED",
    "ACCESS_DENIED",
    "MISSING_AUTHENTICATION_TOKEN",
    "THROTTLED",
    "BAD_REQUEST_BODY",
    "INTEGRATION_FAILURE",
    "INTEGRATION_TIMEOUT",
)
GATEWAY_MESSAGE_TEMPLATE = '{"message":$context.error.messageString}'


@dataclass(frozen=True)
class Answer:
    """One integration response: the status it gives, the template it renders, the backend status it
    matches (a regex; None for the default answer)."""

    status: int
    template: pulumi.Input[str] | None = None
    selection_pattern: str | None = None


def service_error() -> Answer:
    """What a caller sees when the service behind an API fails: a 500 without AWS's internals."""
    return Answer(500, template("service_error.response"), selection_pattern=r"5\d{2}")


@dataclass(frozen=True)
class ServiceAction:
    """A direct call of one AWS API action (e.g. ``dynamodb:Scan``), no function in between."""

    action: str
    resources: Sequence[pulumi.Input[str]]  # the ARNs the integration's role may call it on
    request_template: pulumi.Input[str]
    answers: Sequence[Answer]

    @property
    def service(self) -> str:
        return self.action.split(":", 1)[0]

    @property
    def operation(self) -> str:
        return self.action.split(":", 1)[1]


@dataclass(frozen=True)
class FunctionProxy:
    """A Lambda proxy integration: the function sees the whole request and shapes the whole answer."""

    function_name: pulumi.Input[str]
    invoke_arn: pulumi.Input[str]

    @classmethod
    def of(cls, function: Any) -> FunctionProxy:
        """The proxy integration of a `LambdaFunction` (anything with ``name`` and ``invoke_arn``)."""
        return cls(function_name=function.name, invoke_arn=function.invoke_arn)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # "/orders/{id}"
    integration: ServiceAction | FunctionProxy
    scopes: tuple[str, ...] | None = None  # None: open to anyone; else a Cognito token with one of these
    query: tuple[str, ...] = ()  # query-string parameters the route reads
    description: str = ""


@dataclass(frozen=True)
class ApiSettings:
    """What every API of a stack shares, from the stack config."""

    region: str
    log_retention_days: int
    throttle_rate_limit: int
    throttle_burst_limit: int
    cors_allow_origin: str
    stage_name: str = "Prod"
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)  # e.g. the account's log role


def slug(method: str | None, path: str) -> str:
    """A readable logical-name part for a path (and method): ``GET /orders/{id}`` → ``get-orders-id``."""
    words = [word for word in re.split(r"[^A-Za-z0-9]+", path) if word]
    return "-".join(([method.lower()] if method else []) + (words or ["root"]))


def source_arn_path(path: str) -> str:
    """The path as it appears in an execute-api ARN: path parameters become ``*``."""
    return re.sub(r"\{[^}]+\}", "*", path)


class RestApi(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        routes: Sequence[Route],
        settings: ApiSettings,
        user_pool_arn: pulumi.Input[str] | None = None,
        description: str = "",
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("serverlesspresso:api:RestApi", name, None, opts)
        if any(r.scopes is not None for r in routes) and user_pool_arn is None:
            raise ValueError(f"{name}: a route needs Cognito sign-in but no user pool was given")
        if any(r.scopes == () for r in routes):
            raise ValueError(f"{name}: a signed-in route must name at least one scope")
        self._name, self._settings = name, settings
        self._child = pulumi.ResourceOptions(parent=self)
        # What the deployment freezes, in the order it was declared: each part's type, name and inputs.
        self._frozen: list[dict[str, Any]] = []
        self._parts: list[pulumi.Resource] = []
        self.api = aws.apigateway.RestApi(name, description=description, opts=self._child)
        self.authorizer = (
            self._freeze(
                aws.apigateway.Authorizer,
                f"{name}-cognito",
                rest_api=self.api.id,
                name="cognito",
                type="COGNITO_USER_POOLS",
                provider_arns=[user_pool_arn],
                identity_source="method.request.header.Authorization",
            )
            if user_pool_arn is not None
            else None
        )
        self._resources: dict[str, pulumi.Output[str]] = {"/": self.api.root_resource_id}
        for route in routes:
            self._route(route)
        for path in sorted({r.path for r in routes}):
            self._preflight(path, sorted({r.method for r in routes if r.path == path}))
        for response_type in GATEWAY_RESPONSE_TYPES:
            self._gateway_response(response_type)

        self.deployment = aws.apigateway.Deployment(
            f"{name}-deployment",
            rest_api=self.api.id,
            triggers={"definition": pulumi.Output.json_dumps(self._frozen).apply(_fingerprint_of_text)},
            opts=pulumi.ResourceOptions(parent=self, depends_on=self._parts),
        )
        self.access_logs = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=f"/aws/apigateway/{stack_scoped(name, limit=480)}",
            retention_in_days=settings.log_retention_days,
            opts=self._child,
        )
        self.stage = aws.apigateway.Stage(
            f"{name}-stage",
            rest_api=self.api.id,
            deployment=self.deployment.id,
            stage_name=settings.stage_name,
            access_log_settings={"destination_arn": self.access_logs.arn, "format": ACCESS_LOG_FORMAT},
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(settings.depends_on)),
        )
        aws.apigateway.MethodSettings(
            f"{name}-throttling",
            rest_api=self.api.id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            settings={
                "throttling_rate_limit": settings.throttle_rate_limit,
                "throttling_burst_limit": settings.throttle_burst_limit,
            },
            opts=self._child,
        )
        self.endpoint = self.stage.invoke_url.apply(lambda url: url.rstrip("/") + "/")
        self.register_outputs({"endpoint": self.endpoint})

    def _freeze(
        self,
        kind: type[pulumi.CustomResource],
        logical_name: str,
        /,
        *,
        depends_on: Sequence[pulumi.Resource] = (),
        **inputs: Any,
    ) -> Any:
        """Declare a part of the API that a deployment freezes, and put its inputs into the fingerprint."""
        self._frozen.append({"type": kind.__name__, "name": logical_name, "inputs": inputs})
        options = pulumi.ResourceOptions(parent=self, depends_on=list(depends_on))
        resource = kind(logical_name, **inputs, opts=options)
        self._parts.append(resource)
        return resource

    # ----------------------------------------------------------------------- resources, one per path segment

    def _resource(self, path: str) -> pulumi.Output[str]:
        if path not in self._resources:
            parent_path, _, part = path.rstrip("/").rpartition("/")
            resource = self._freeze(
                aws.apigateway.Resource,
                f"{self._name}-{slug(None, path)}",
                rest_api=self.api.id,
                parent_id=self._resource(parent_path or "/"),
                path_part=part,
            )
            self._resources[path] = resource.id
        return self._resources[path]

    # ----------------------------------------------------------------------- one route

    def _route(self, route: Route) -> None:
        key = f"{self._name}-{slug(route.method, route.path)}"
        resource_id = self._resource(route.path)
        parameters = {f"method.request.querystring.{q}": False for q in route.query}
        parameters.update({f"method.request.path.{p}": True for p in re.findall(r"\{([^}+]+)\}", route.path)})
        signed_in = route.scopes is not None
        method = self._freeze(
            aws.apigateway.Method,
            key,
            rest_api=self.api.id,
            resource_id=resource_id,
            http_method=route.method,
            authorization="COGNITO_USER_POOLS" if signed_in else "NONE",
            authorizer_id=self.authorizer.id if signed_in and self.authorizer else None,
            authorization_scopes=list(route.scopes) if route.scopes else None,
            request_parameters=parameters or None,
        )
        integration = route.integration
        if isinstance(integration, FunctionProxy):
            permission = aws.lambda_.Permission(
                f"{key}-invoke",
                action="lambda:InvokeFunction",
                function=integration.function_name,
                principal="apigateway.amazonaws.com",
                source_arn=self.api.execution_arn.apply(
                    lambda arn: f"{arn}/*/{route.method}{source_arn_path(route.path)}"
                ),
                opts=self._child,
            )
            self._parts.append(permission)
            self._freeze(
                aws.apigateway.Integration,
                key,
                depends_on=[method],
                rest_api=self.api.id,
                resource_id=resource_id,
                http_method=route.method,
                type="AWS_PROXY",
                integration_http_method="POST",
                uri=integration.invoke_arn,
            )
            return

        role = aws.iam.Role(
            f"{key}-role",
            assume_role_policy=iam.assume_role_policy("apigateway.amazonaws.com"),
            opts=self._child,
        )
        policy = aws.iam.RolePolicy(
            f"{key}-policy",
            role=role.id,
            policy=iam.policy_document([iam.allow(integration.action, list(integration.resources))]),
            opts=self._child,
        )
        self._parts.extend([role, policy])
        call = self._freeze(
            aws.apigateway.Integration,
            key,
            depends_on=[method, policy],
            rest_api=self.api.id,
            resource_id=resource_id,
            http_method=route.method,
            type="AWS",
            integration_http_method="POST",
            uri=f"arn:aws:apigateway:{self._settings.region}:{integration.service}:action/"
            f"{integration.operation}",
            credentials=role.arn,
            request_templates={"application/json": integration.request_template},
            passthrough_behavior="NEVER",
        )
        self._answers(key, method, call, integration.answers)

    def _answers(
        self,
        key: str,
        method: aws.apigateway.Method,
        call: aws.apigateway.Integration,
        answers: Sequence[Answer],
    ) -> None:
        origin = {_ALLOW_ORIGIN: f"'{self._settings.cors_allow_origin}'"}
        for answer in answers:
            declared = self._freeze(
                aws.apigateway.MethodResponse,
                f"{key}-{answer.status}",
                depends_on=[method],
                rest_api=method.rest_api,
                resource_id=method.resource_id,
                http_method=method.http_method,
                status_code=str(answer.status),
                response_parameters={_ALLOW_ORIGIN: True},
            )
            self._freeze(
                aws.apigateway.IntegrationResponse,
                f"{key}-{answer.status}",
                depends_on=[call, declared],
                rest_api=method.rest_api,
                resource_id=method.resource_id,
                http_method=method.http_method,
                status_code=str(answer.status),
                selection_pattern=answer.selection_pattern,
                response_templates=(
                    {"application/json": answer.template} if answer.template is not None else None
                ),
                response_parameters=origin,
            )

    # ----------------------------------------------------------------------- CORS preflight, every path

    def _preflight(self, path: str, methods: Sequence[str]) -> None:
        key = f"{self._name}-{slug('options', path)}"
        resource_id = self._resource(path)
        method = self._freeze(
            aws.apigateway.Method,
            key,
            rest_api=self.api.id,
            resource_id=resource_id,
            http_method="OPTIONS",
            authorization="NONE",
        )
        mock = self._freeze(
            aws.apigateway.Integration,
            key,
            depends_on=[method],
            rest_api=self.api.id,
            resource_id=resource_id,
            http_method="OPTIONS",
            type="MOCK",
            request_templates={"application/json": '{"statusCode": 200}'},
        )
        headers = {
            "method.response.header.Access-Control-Allow-Headers": f"'{CORS_HEADERS}'",
            "method.response.header.Access-Control-Allow-Methods": f"'{','.join([*methods, 'OPTIONS'])}'",
            _ALLOW_ORIGIN: f"'{self._settings.cors_allow_origin}'",
        }
        declared = self._freeze(
            aws.apigateway.MethodResponse,
            f"{key}-200",
            depends_on=[method],
            rest_api=self.api.id,
            resource_id=resource_id,
            http_method="OPTIONS",
            status_code="200",
            response_parameters={name: True for name in headers},
        )
        self._freeze(
            aws.apigateway.IntegrationResponse,
            f"{key}-200",
            depends_on=[mock, declared],
            rest_api=self.api.id,
            resource_id=resource_id,
            http_method="OPTIONS",
            status_code="200",
            response_parameters=headers,
            response_templates={"application/json": ""},
        )

    # ----------------------------------------------------------------------- the gateway's own answers

    def _gateway_response(self, response_type: str) -> None:
        """The gateway's own answer of this type (its default status) with the stack's CORS headers, so
        that a browser on another origin reads a 401 or a 429 instead of failing on CORS."""
        self._freeze(
            aws.apigateway.Response,
            f"{self._name}-{response_type.lower().replace('_', '-')}",
            rest_api_id=self.api.id,
            response_type=response_type,
            response_parameters={
                "gatewayresponse.header.Access-Control-Allow-Origin": f"'{self._settings.cors_allow_origin}'",
                "gatewayresponse.header.Access-Control-Allow-Headers": f"'{CORS_HEADERS}'",
            },
            response_templates={"application/json": GATEWAY_MESSAGE_TEMPLATE},
        )


def _fingerprint_of_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# The Pulumi projects of this repo that serve REST APIs. They share the region's one account setting, so
# every project's role must admit all of their access logs, or the last `pulumi up` would cut the others off.
API_PROJECTS = ("serverlesspresso", "fulfillment")


class ApiGatewayAccount(pulumi.ComponentResource):
    """The region's one API Gateway setting that lets stages write access logs: a role CloudWatch Logs
    trusts. AWS holds one per account and region, and every stack of every project of this repo there
    relies on it, so exactly one stack owns it (`owner`, from its config `apiGatewayAccountOwner`) and it
    may write only to these projects' access-log groups (`API_PROJECTS`). In any other stack this
    component declares nothing, and `depends_on` is empty: that stack's stages rely on the owner's."""

    def __init__(self, name: str, *, owner: bool, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverlesspresso:api:ApiGatewayAccount", name, {"owner": owner}, opts)
        self.account: aws.apigateway.Account | None = None
        self.depends_on: list[pulumi.Resource] = []
        if not owner:
            self.register_outputs({})
            return
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-role", assume_role_policy=iam.assume_role_policy("apigateway.amazonaws.com"), opts=child
        )
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self))
        where = pulumi.Output.all(region.region, identity.account_id)
        groups = [
            where.apply(
                lambda values, project=project: (
                    f"arn:aws:logs:{values[0]}:{values[1]}:log-group:/aws/apigateway/{project}-*"
                )
            )
            for project in API_PROJECTS
        ]
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=iam.policy_document(
                [
                    iam.allow(
                        ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                        [*groups, *(group.apply(lambda arn: f"{arn}:*") for group in groups)],
                    ),
                    iam.allow_mandated_wildcard(["logs:DescribeLogGroups"]),
                ]
            ),
            opts=child,
        )
        self.account = aws.apigateway.Account(
            name,
            cloudwatch_role_arn=role.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.depends_on = [self.account]
        self.register_outputs({})
