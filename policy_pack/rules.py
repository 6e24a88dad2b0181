"""The rules every stack of both projects must keep, written once and used twice: by the policy pack under
`pulumi preview --policy-pack policy_pack` (GitHub refuses a pull request that breaks a mandatory one),
and by the unit tests over the resources the mocks record (`tests/test_policy_pack.py`).

A rule sees resources as `Resource`: type, logical name, URN, inputs (the provider's camelCase names, as
both the mocks and the policy engine hand them over), options and dependencies. A check yields one text
per violation. Values a preview does not know yet (new resources' ids and names) are never a violation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from components.iam import AWS_MANDATED_WILDCARDS, UNCONDITIONED_SERVICE_ACTIONS

PACK_NAME = "serverlesspresso"
MANDATORY, ADVISORY = "mandatory", "advisory"
PROJECTS = ("serverlesspresso", "fulfillment")
# Stacks whose data must survive a `pulumi destroy` and a console mistake.
PROTECTED_STACKS = ("prod",)
# Methods anyone may call without signing in, with the reason (every other method needs Cognito).
PUBLIC_METHODS: Mapping[str, str] = {
    "config-service-api-get-config": "the apps read the menu and the shop's settings before anyone signs in",
    "producer-api-get-root": "the fulfillment system's producer API is open by design (seed 003)",
}
# Names that only need to be unique inside a parent the stack owns (the `admin` group, an authorizer).
NAMED_INSIDE_A_STACK_RESOURCE = ("aws:cognito/userGroup:UserGroup", "aws:apigateway/authorizer:Authorizer")
EXPLICIT_NAME_INPUTS = ("name", "namePrefix", "policyName", "layerName", "dashboardName")
REQUIRED_TAGS = ("project", "stack", "owner", "cost-center")
ACCOUNT_COMPONENT = "serverlesspresso:api:ApiGatewayAccount"


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    protect: bool = False
    ignore_changes: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()

    @property
    def stack(self) -> str:
        return self.urn.split(":")[2] if self.urn.startswith("urn:pulumi:") else ""

    @property
    def project(self) -> str:
        parts = self.urn.split("::")
        return parts[1] if len(parts) > 2 else ""

    @classmethod
    def of_policy(cls, resource: Any) -> Resource:
        """From the policy engine's `PolicyResource` or `ResourceValidationArgs`."""
        opts = getattr(resource, "opts", None)
        return cls(
            type=resource.resource_type,
            name=resource.name,
            urn=resource.urn,
            props=dict(resource.props or {}),
            protect=bool(getattr(opts, "protect", False)),
            ignore_changes=tuple(getattr(opts, "ignore_changes", None) or ()),
            dependencies=tuple(d.urn for d in getattr(resource, "dependencies", None) or ()),
        )


Check = Callable[[Sequence[Resource]], Iterator[str]]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    enforcement: str
    check: Check  # over all of a stack's resources
    types: tuple[str, ...] = field(default=())  # the resource types it looks at

    def violations(self, resources: Sequence[Resource]) -> list[str]:
        return [f"{self.name}: {text}" for text in self.check(resources)]


def _of(resources: Iterable[Resource], *types: str) -> list[Resource]:
    return [r for r in resources if r.type in types]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _document(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str) and value.strip().startswith("{"):
        return json.loads(value)
    return None  # not known yet (a preview)


# --------------------------------------------------------------------------- the checks


def log_retention(resources: Sequence[Resource]) -> Iterator[str]:
    for group in _of(resources, "aws:cloudwatch/logGroup:LogGroup"):
        if not group.props.get("retentionInDays"):
            yield f"log group {group.name} keeps its logs forever: set retentionInDays"


def no_wildcards(resources: Sequence[Resource]) -> Iterator[str]:
    for policy in _of(resources, "aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"):
        document = _document(policy.props.get("policy"))
        for statement in (document or {}).get("Statement", []):
            actions = _as_list(statement.get("Action", []))
            broad = [a for a in actions if a == "*" or str(a).endswith(":*")]
            if broad:
                yield f"{policy.name} allows every action of {broad}: name the actions"
            if "*" in _as_list(statement.get("Resource", [])):
                unlisted = [a for a in actions if a not in AWS_MANDATED_WILDCARDS]
                if unlisted:
                    yield f"{policy.name} grants {unlisted} on '*': name the specific ARN"


def single_source(resources: Sequence[Resource]) -> Iterator[str]:
    for policy in _of(
        resources, "aws:sqs/queuePolicy:QueuePolicy", "aws:cloudwatch/logResourcePolicy:LogResourcePolicy"
    ):
        document = _document(policy.props.get("policy") or policy.props.get("policyDocument"))
        for statement in (document or {}).get("Statement", []):
            if set(_as_list(statement.get("Action", []))) <= set(UNCONDITIONED_SERVICE_ACTIONS):
                continue
            source = (statement.get("Condition") or {}).get("ArnEquals", {}).get("aws:SourceArn")
            if not source:
                yield f"{policy.name} admits {statement.get('Principal')} without an aws:SourceArn condition"


def api_gateway_account_owned(resources: Sequence[Resource]) -> Iterator[str]:
    """AWS keeps one API Gateway logging role per account and region, and destroying the setting resets it:
    only the stack whose config says it owns it (`apiGatewayAccountOwner`) may declare it."""
    owners = [c for c in _of(resources, ACCOUNT_COMPONENT) if c.props.get("owner") in (True, "true")]
    if owners:
        return
    for account in _of(resources, "aws:apigateway/account:Account"):
        yield (
            f"{account.name} sets the account's API Gateway logging role, but this stack does not own it: "
            "set apiGatewayAccountOwner in exactly one stack per account and region"
        )


def target_retries(resources: Sequence[Resource]) -> Iterator[str]:
    for target in _of(resources, "aws:cloudwatch/eventTarget:EventTarget"):
        if "maximumRetryAttempts" not in (target.props.get("retryPolicy") or {}):
            yield f"rule target {target.name} has no retry policy"
        if "arn" not in (target.props.get("deadLetterConfig") or {}):
            yield f"rule target {target.name} has no dead-letter queue"


def function_failures(resources: Sequence[Resource]) -> Iterator[str]:
    configs = _of(resources, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    for function in _of(resources, "aws:lambda/function:Function"):
        mine = [c for c in configs if function.urn in c.dependencies]
        if not any(
            ((c.props.get("destinationConfig") or {}).get("onFailure") or {}).get("destination") for c in mine
        ):
            yield f"function {function.name} has no on-failure destination for its asynchronous invocations"
        if not (function.props.get("loggingConfig") or {}).get("logGroup"):
            yield f"function {function.name} logs to an implicit log group (no retention): set loggingConfig"


def stream_consumers(resources: Sequence[Resource]) -> Iterator[str]:
    for mapping in _of(resources, "aws:lambda/eventSourceMapping:EventSourceMapping"):
        if not mapping.props.get("startingPosition"):  # only stream sources have one (SQS has none)
            continue
        destination = ((mapping.props.get("destinationConfig") or {}).get("onFailure") or {}).get(
            "destinationArn"
        )
        if not destination or mapping.props.get("maximumRetryAttempts") in (None, -1):
            yield f"stream consumer {mapping.name} needs bounded retries and an on-failure destination"


def queues_encrypted(resources: Sequence[Resource]) -> Iterator[str]:
    for queue in _of(resources, "aws:sqs/queue:Queue"):
        if queue.props.get("sqsManagedSseEnabled") is not True and not queue.props.get("kmsMasterKeyId"):
            yield f"queue {queue.name} is not encrypted at rest"


def tables_encrypted(resources: Sequence[Resource]) -> Iterator[str]:
    for table in _of(resources, "aws:dynamodb/table:Table"):
        if (table.props.get("serverSideEncryption") or {}).get("enabled") is not True:
            yield f"table {table.name} does not turn server-side encryption on"


def seeds_create_only(resources: Sequence[Resource]) -> Iterator[str]:
    for item in _of(resources, "aws:dynamodb/tableItem:TableItem"):
        if "item" not in item.ignore_changes:
            yield f"seed item {item.name} would be rewritten by a later pulumi up: ignore_changes=['item']"


def dead_letters_alarmed(resources: Sequence[Resource]) -> Iterator[str]:
    alarms = [
        a
        for a in _of(resources, "aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.props.get("namespace") == "AWS/SQS"
    ]
    for queue in _of(resources, "aws:sqs/queue:Queue"):
        if queue.name.endswith("-dlq") and not any(
            queue.urn in alarm.dependencies and alarm.props.get("alarmActions") for alarm in alarms
        ):
            yield f"dead-letter queue {queue.name} raises no alarm: a message there waits for a person"


def _method_paths(resources: Sequence[Resource]) -> dict[str, dict[str, Resource]]:
    """Methods grouped by the path resource they hang off (the API itself for `/`)."""
    path_urns = {
        r.urn for r in _of(resources, "aws:apigateway/resource:Resource", "aws:apigateway/restApi:RestApi")
    }
    paths: dict[str, dict[str, Resource]] = {}
    for method in _of(resources, "aws:apigateway/method:Method"):
        owners = [d for d in method.dependencies if d in path_urns]
        resource_path = next(
            (d for d in owners if ":apigateway/resource:" in d), owners[0] if owners else method.urn
        )
        paths.setdefault(resource_path, {})[str(method.props.get("httpMethod"))] = method
    return paths


def api_methods_signed_in(resources: Sequence[Resource]) -> Iterator[str]:
    for method in _of(resources, "aws:apigateway/method:Method"):
        if method.props.get("httpMethod") == "OPTIONS" or method.name in PUBLIC_METHODS:
            continue
        if method.props.get("authorization") != "COGNITO_USER_POOLS" or not method.props.get(
            "authorizationScopes"
        ):
            yield f"method {method.name} can be called without a Cognito token and scope"


def api_paths_preflight(resources: Sequence[Resource]) -> Iterator[str]:
    mocks = _of(resources, "aws:apigateway/integration:Integration")
    for methods in _method_paths(resources).values():
        preflight = methods.get("OPTIONS")
        names = ", ".join(sorted(m.name for m in methods.values()))
        if preflight is None:
            yield f"the path of {names} answers no CORS preflight (OPTIONS)"
            continue
        if preflight.props.get("authorization") != "NONE" or not any(
            preflight.urn in i.dependencies and i.props.get("type") == "MOCK" for i in mocks
        ):
            yield f"the preflight {preflight.name} must be an open MOCK"


def physical_names_scoped(resources: Sequence[Resource]) -> Iterator[str]:
    for resource in resources:
        if not resource.type.startswith("aws:") or resource.type in NAMED_INSIDE_A_STACK_RESOURCE:
            continue
        for key in EXPLICIT_NAME_INPUTS:
            value = resource.props.get(key)
            if isinstance(value, str) and value and f"{resource.project}-{resource.stack}" not in value:
                yield f"{resource.name} hard-codes {key}={value!r}: derive it from the project and stack"


def prod_data_protected(resources: Sequence[Resource]) -> Iterator[str]:
    for table in _of(resources, "aws:dynamodb/table:Table"):
        if table.stack not in PROTECTED_STACKS:
            continue
        if not table.protect:
            yield f"table {table.name} of {table.stack} is not protected against pulumi destroy"
        if table.props.get("deletionProtectionEnabled") is not True:
            yield f"table {table.name} of {table.stack} has no deletion protection"
        if (table.props.get("pointInTimeRecovery") or {}).get("enabled") is not True:
            yield f"table {table.name} of {table.stack} cannot be recovered (point-in-time recovery off)"


def provider_tags(resources: Sequence[Resource]) -> Iterator[str]:
    for provider in _of(resources, "pulumi:providers:aws"):
        tags = _document(provider.props.get("defaultTags"))
        missing = [t for t in REQUIRED_TAGS if not ((tags or {}).get("tags") or {}).get(t)]
        if tags is not None and missing:
            yield f"provider {provider.name} does not tag every resource with {missing}"


RULES: tuple[Rule, ...] = (
    Rule(
        "log-group-retention",
        "Every log group has a retention period.",
        MANDATORY,
        log_retention,
        types=("aws:cloudwatch/logGroup:LogGroup",),
    ),
    Rule(
        "no-wildcard-resources",
        "Statements name specific ARNs; '*' only for the AWS-mandated actions (components/iam.py).",
        MANDATORY,
        no_wildcards,
        types=("aws:iam/rolePolicy:RolePolicy",),
    ),
    Rule(
        "resource-policy-single-source",
        "A resource policy admits one source ARN.",
        MANDATORY,
        single_source,
        types=("aws:sqs/queuePolicy:QueuePolicy", "aws:cloudwatch/logResourcePolicy:LogResourcePolicy"),
    ),
    Rule(
        "api-gateway-account-owned",
        "Only the stack that owns it (apiGatewayAccountOwner) sets the region's API Gateway logging role.",
        MANDATORY,
        api_gateway_account_owned,
        types=("aws:apigateway/account:Account",),
    ),
    Rule(
        "rule-target-retry-and-dlq",
        "Every rule target retries and dead-letters.",
        MANDATORY,
        target_retries,
        types=("aws:cloudwatch/eventTarget:EventTarget",),
    ),
    Rule(
        "function-failures-kept",
        "Every function keeps failed asynchronous events and logs to a log group with retention.",
        MANDATORY,
        function_failures,
        types=("aws:lambda/function:Function",),
    ),
    Rule(
        "stream-consumer-dlq",
        "Every stream consumer retries a bounded number of times into an on-failure destination.",
        MANDATORY,
        stream_consumers,
        types=("aws:lambda/eventSourceMapping:EventSourceMapping",),
    ),
    Rule(
        "dead-letter-queue-alarm",
        "Every dead-letter queue raises an alarm.",
        MANDATORY,
        dead_letters_alarmed,
        types=("aws:sqs/queue:Queue",),
    ),
    Rule(
        "queue-encryption",
        "Every queue is encrypted at rest.",
        MANDATORY,
        queues_encrypted,
        types=("aws:sqs/queue:Queue",),
    ),
    Rule(
        "table-encryption",
        "Every table is encrypted at rest.",
        MANDATORY,
        tables_encrypted,
        types=("aws:dynamodb/table:Table",),
    ),
    Rule(
        "seed-items-create-only",
        "Seed items are written once, never reset.",
        MANDATORY,
        seeds_create_only,
        types=("aws:dynamodb/tableItem:TableItem",),
    ),
    Rule(
        "api-methods-signed-in",
        "Every API method needs a Cognito token with a scope, except the listed public ones.",
        MANDATORY,
        api_methods_signed_in,
        types=("aws:apigateway/method:Method",),
    ),
    Rule(
        "api-cors-preflight",
        "Every API path answers the CORS preflight.",
        MANDATORY,
        api_paths_preflight,
        types=("aws:apigateway/method:Method",),
    ),
    Rule(
        "prod-data-protected",
        "Production tables are protected and recoverable.",
        MANDATORY,
        prod_data_protected,
        types=("aws:dynamodb/table:Table",),
    ),
    Rule(
        "physical-names-scoped",
        "Names we choose carry the project and stack, so stacks never collide.",
        ADVISORY,
        physical_names_scoped,
        types=("aws:cloudwatch/logGroup:LogGroup",),
    ),
    Rule(
        "provider-default-tags",
        "Every resource is tagged for its owner and cost centre.",
        ADVISORY,
        provider_tags,
        types=("pulumi:providers:aws",),
    ),
)


def as_policy(rule: Rule) -> Any:
    """The rule as a Pulumi stack-validation policy (it needs the other resources: alarms, options, ...)."""
    from pulumi_policy import EnforcementLevel, StackValidationPolicy

    def validate(args: Any, report_violation: Callable[..., None]) -> None:
        for text in rule.check([Resource.of_policy(r) for r in args.resources]):
            report_violation(text)

    level = EnforcementLevel.MANDATORY if rule.enforcement == MANDATORY else EnforcementLevel.ADVISORY
    return StackValidationPolicy(
        name=rule.name, description=rule.description, validate=validate, enforcement_level=level
    )
