"""Materialise the real Pulumi program into moto, or into any AWS-compatible endpoint: `MotoMocks` creates
every declared resource through boto3.

The program is evaluated by `localcloud.program.run` exactly as for the unit tests, but the mocks answer
each registration by creating (or updating) the resource in the emulator and returning moto's real ids
and ARNs, so references between resources are real. `deploy` is this project's `pulumi up`:

- a `StackState` remembers what the previous deploy declared (type, logical name, inputs, id, state), so
  a second deploy against the same emulator creates nothing twice: unchanged inputs keep the resource as
  it is; changed inputs are applied in place (function code/configuration, state machine definition, log
  retention, rule pattern, targets, queue attributes, ...), like the provider's update;
- `ignore_changes` of the previous deploy is honoured (the seed `TableItem`s declare `["item"]`): such
  inputs keep their recorded value, so an item is never rewritten by a later deploy;
- a `TableItem` is created with `attribute_not_exists` on its key (create-only, like the provider);
- a resource type this module cannot create is answered with plausible ids (so the program completes)
  and LISTED in `DeploySummary.unsupported`; nothing is dropped silently.

Physical names: RecordingMocks' autonaming (logical name + a suffix stable per stack), or the name the
program chose. Approximations: resources that a later deploy no longer declares are reported as
`removed` but left in the emulator; replacements (e.g. a table's key change) are applied as updates where
moto allows it and otherwise reported. Layers are published with their real content and the in-process
runtime puts their `python/` folders on the path; what this virtualenv already has (the pinned Powertools)
is found first, as the same version.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import threading
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pulumi
from botocore.config import Config

from localcloud import program
from localcloud.program import RecordingMocks

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


@dataclass
class Deployed:
    """One resource as the last deploy left it (what Pulumi keeps in its state file)."""

    type: str
    name: str
    id: str
    inputs: dict[str, Any]
    fingerprint: str
    state: dict[str, Any]
    ignore_changes: tuple[str, ...] = ()


@dataclass
class StackState:
    """The stack's state between deploys, keyed by (type, logical name)."""

    resources: dict[tuple[str, str], Deployed] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[Deployed]:
        return [r for r in self.resources.values() if r.type == type_]

    def named(self, name: str, type_: str | None = None) -> Deployed:
        matches = [r for r in self.resources.values() if r.name == name and (type_ in (None, r.type))]
        if len(matches) != 1:
            known = sorted({r.name for r in self.resources.values() if type_ in (None, r.type)})
            raise KeyError(f"{len(matches)} resources named {name!r}; known: {', '.join(known)}")
        return matches[0]


@dataclass
class DeploySummary:
    """What one deploy did: every resource with its action, types it could not create, and leftovers."""

    stack: str
    actions: list[tuple[str, str, str]] = field(default_factory=list)  # (type, logical name, action)
    unsupported: list[tuple[str, str]] = field(default_factory=list)  # (type, logical name)
    removed: list[tuple[str, str]] = field(default_factory=list)

    def by_type(self) -> dict[str, dict[str, int]]:
        """{type: {"created": n, "updated": n, "unchanged": n}} for every type deployed."""
        counts: dict[str, dict[str, int]] = {}
        for type_, _, action in self.actions:
            counts.setdefault(type_, {CREATED: 0, UPDATED: 0, UNCHANGED: 0})[action] += 1
        return dict(sorted(counts.items()))

    def count(self, action: str) -> int:
        return sum(1 for _, _, done in self.actions if done == action)

    def action_of(self, name: str, type_: str | None = None) -> str:
        matches = [done for t, n, done in self.actions if n == name and type_ in (None, t)]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r} in this deploy")
        return matches[0]


# --------------------------------------------------------------------------- inputs → comparable text


def _fingerprint_value(value: Any) -> Any:
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {key: _fingerprint_value(item) for key, item in sorted(value.assets.items())}}
    if isinstance(value, pulumi.FileAsset):
        path = Path(value.path)
        return {"file": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    if isinstance(value, pulumi.FileArchive):
        return {"dir": str(value.path)}  # a whole installed package: its version is pinned, not hashed
    if isinstance(value, pulumi.StringAsset):
        return {"text": value.text}
    if isinstance(value, Mapping):
        return {str(key): _fingerprint_value(item) for key, item in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_fingerprint_value(item) for item in value]
    return value


def fingerprint(inputs: Mapping[str, Any]) -> str:
    return json.dumps(_fingerprint_value(inputs), sort_keys=True, default=str)


# Zip entries get one fixed time and mode, so the same files always make the same bytes.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_ZIP_FILE_MODE = 0o644 << 16


def archive_zip(archive: pulumi.AssetArchive) -> bytes:
    """The deployment package the provider would upload for an `AssetArchive` of files and folders.

    Reproducible: entries in name order, each with a fixed time and mode, and no bytecode, so two builds
    of the same sources (from two fresh installs, say) give byte-identical archives.
    """
    entries: dict[str, bytes] = {}
    for key, asset in archive.assets.items():
        if isinstance(asset, pulumi.FileAsset):
            entries[key] = Path(asset.path).read_bytes()
        elif isinstance(asset, pulumi.StringAsset):
            entries[key] = asset.text.encode()
        elif isinstance(asset, pulumi.FileArchive):
            root = Path(asset.path)
            for path in root.rglob("*"):
                if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
                    entries[f"{key}/{path.relative_to(root).as_posix()}"] = path.read_bytes()
        else:
            raise TypeError(f"unsupported asset {asset!r} at {key}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, content in sorted(entries.items()):
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = _ZIP_FILE_MODE
            bundle.writestr(info, content)
    return buffer.getvalue()


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _name_of(reference: str) -> str:
    """A role/function given by ARN or by name → the name."""
    return reference.rsplit("/", 1)[-1].rsplit(":", 1)[-1] if reference.startswith("arn:") else reference


def _filter_criteria(criteria: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The provider's ``filterCriteria.filters[].pattern`` as Lambda's ``FilterCriteria``."""
    if not criteria:
        return None
    return {"Filters": [{"Pattern": item["pattern"]} for item in criteria.get("filters") or []]}


def _destination_config(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    destination = ((config or {}).get("onFailure") or {}).get("destinationArn")
    return {"OnFailure": {"Destination": destination}} if destination else None


def _scaling_config(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    maximum = (config or {}).get("maximumConcurrency")
    return {"MaximumConcurrency": int(maximum)} if maximum else None


def _without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _pascal(value: Any) -> Any:
    """Pulumi's camelCase inputs as the AWS API's PascalCase (deeply); whole floats become ints."""
    if isinstance(value, Mapping):
        return {key[:1].upper() + key[1:]: _pascal(item) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [_pascal(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _pascal_free(value: Any) -> Any:
    """camelCase inputs for an API that is camelCase itself (API Gateway): only drops None, whole floats."""
    if isinstance(value, Mapping):
        return {key: _pascal_free(item) for key, item in value.items() if item is not None}
    if isinstance(value, (list, tuple)):
        return [_pascal_free(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _method_key(inputs: Mapping[str, Any]) -> dict[str, str]:
    return {
        "restApiId": inputs["restApi"],
        "resourceId": inputs["resourceId"],
        "httpMethod": inputs["httpMethod"],
    }


def _api_id(prefix: str, key: Mapping[str, str], *more: str) -> str:
    """The provider's ids for methods and their parts: ``agm-<api>-<resource>-<METHOD>[-<status>]``."""
    return "-".join([prefix, key["restApiId"], key["resourceId"], key["httpMethod"], *more])


def _method_response_args(response: Mapping[str, Any]) -> dict[str, Any]:
    return _without_none(
        {
            "statusCode": response["statusCode"],
            "responseParameters": response.get("responseParameters") or None,
            "responseModels": response.get("responseModels") or None,
        }
    )


def _integration_response_args(response: Mapping[str, Any]) -> dict[str, Any]:
    templates = response.get("responseTemplates")
    return _without_none(
        {
            "statusCode": response["statusCode"],
            "selectionPattern": response.get("selectionPattern") or None,
            "responseTemplates": {k: v or "" for k, v in templates.items()} if templates else None,
            "responseParameters": response.get("responseParameters") or None,
            "contentHandling": response.get("contentHandling"),
        }
    )


# --------------------------------------------------------------------------- an endpoint over HTTP

# Every call to the one endpoint: StartSyncExecution's `sync-` host prefix would name another host.
ONE_HOST = Config(inject_host_prefix=False)


def endpoint_session(region: str) -> boto3.session.Session:
    """A session for an AWS-compatible endpoint: the environment's credentials, or any key when there are
    none (an emulator takes any; without one boto3 would refuse to sign at all)."""
    session = boto3.session.Session(region_name=region)
    if session.get_credentials() is not None:
        return session
    return boto3.session.Session(region_name=region, aws_access_key_id="local", aws_secret_access_key="local")


# --------------------------------------------------------------------------- the mocks


Answer = tuple[str, dict[str, Any]]


class MotoMocks(RecordingMocks):
    """Pulumi mocks whose `new_resource` creates or updates the resource in moto (see the module doc)."""

    def __init__(
        self, region: str, state: StackState, summary: DeploySummary, endpoint_url: str | None = None
    ):
        super().__init__(region)
        self.state = state
        self.summary = summary
        self.endpoint_url = endpoint_url  # None: the in-process emulator (moto), else that endpoint over HTTP
        self.seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        session = boto3.session.Session(region_name=region)
        self._clients: dict[str, Any] = {}
        self._session = session if endpoint_url is None else endpoint_session(region)
        if endpoint_url is not None:
            self.account_id = self.client("sts").get_caller_identity()["Account"]
        self._creators: dict[str, Callable[[str, dict[str, Any], Deployed | None], Answer]] = {
            "aws:dynamodb/table:Table": self._table,
            "aws:dynamodb/tableItem:TableItem": self._table_item,
            "aws:cloudwatch/eventBus:EventBus": self._event_bus,
            "aws:cloudwatch/eventRule:EventRule": self._event_rule,
            "aws:cloudwatch/eventTarget:EventTarget": self._event_target,
            "aws:cloudwatch/logGroup:LogGroup": self._log_group,
            "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": self._log_resource_policy,
            "aws:sqs/queue:Queue": self._queue,
            "aws:sqs/queuePolicy:QueuePolicy": self._queue_policy,
            "aws:iam/role:Role": self._role,
            "aws:iam/rolePolicy:RolePolicy": self._role_policy,
            "aws:lambda/layerVersion:LayerVersion": self._layer_version,
            "aws:lambda/function:Function": self._function,
            "aws:lambda/permission:Permission": self._permission,
            "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": self._event_invoke_config,
            "aws:lambda/eventSourceMapping:EventSourceMapping": self._event_source_mapping,
            "aws:sfn/stateMachine:StateMachine": self._state_machine,
            "aws:cloudwatch/dashboard:Dashboard": self._dashboard,
            "aws:cloudwatch/metricAlarm:MetricAlarm": self._metric_alarm,
            "aws:sns/topic:Topic": self._topic,
            "aws:apigateway/restApi:RestApi": self._rest_api,
            "aws:apigateway/resource:Resource": self._api_resource,
            "aws:apigateway/authorizer:Authorizer": self._api_authorizer,
            "aws:apigateway/method:Method": self._api_method,
            "aws:apigateway/integration:Integration": self._api_integration,
            "aws:apigateway/methodResponse:MethodResponse": self._api_method_response,
            "aws:apigateway/integrationResponse:IntegrationResponse": self._api_integration_response,
            "aws:apigateway/deployment:Deployment": self._api_deployment,
            "aws:apigateway/stage:Stage": self._api_stage,
            "aws:apigateway/methodSettings:MethodSettings": self._api_method_settings,
            "aws:apigateway/response:Response": self._api_gateway_response,
            "aws:apigateway/account:Account": self._api_account,
            "aws:cognito/userPool:UserPool": self._user_pool,
            "aws:cognito/userPoolClient:UserPoolClient": self._user_pool_client,
            "aws:cognito/userGroup:UserGroup": self._user_group,
            "aws:cognito/identityPool:IdentityPool": self._identity_pool,
            "aws:cognito/identityPoolRoleAttachment:IdentityPoolRoleAttachment": self._identity_pool_roles,
            "aws:cloudwatch/eventConnection:EventConnection": self._event_connection,
            "aws:cloudwatch/eventApiDestination:EventApiDestination": self._event_api_destination,
            "aws:kms/key:Key": self._kms_key,
            "aws:sns/topicSubscription:TopicSubscription": self._topic_subscription,
            "aws:cloudwatch/logMetricFilter:LogMetricFilter": self._log_metric_filter,
            "aws:iot/policy:Policy": self._iot_policy,
        }

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(
                service,
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                config=ONE_HOST if self.endpoint_url else None,
            )
        return self._clients[service]

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> Answer:
        if not args.custom or args.typ.startswith("pulumi:"):
            return super().new_resource(args)
        key = (args.typ, args.name)
        with self._lock:
            self.seen.add(key)
            creator = self._creators.get(args.typ)
            if creator is None:
                self.summary.unsupported.append(key)
                return super().new_resource(args)
            prior = self.state.resources.get(key)
            inputs = dict(args.inputs)
            if prior is not None:
                for ignored in prior.ignore_changes:
                    if ignored in prior.inputs:
                        inputs[ignored] = prior.inputs[ignored]
            print_ = fingerprint(inputs)
            if prior is not None and prior.fingerprint == print_:
                self.summary.actions.append((args.typ, args.name, UNCHANGED))
                return prior.id, dict(prior.state)
            physical = self.physical_name(args)
            id_, state = creator(physical, inputs, prior)
            self.state.resources[key] = Deployed(
                args.typ,
                args.name,
                id_,
                inputs,
                print_,
                state,
                prior.ignore_changes if prior else (),
            )
            self.summary.actions.append((args.typ, args.name, UPDATED if prior else CREATED))
            return id_, dict(state)

    # ----------------------------------------------------------------------- DynamoDB

    def _table(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        ddb = self.client("dynamodb")
        provisioned = inputs.get("billingMode") == "PROVISIONED"
        throughput = {
            "ReadCapacityUnits": _int(inputs.get("readCapacity")) or 1,
            "WriteCapacityUnits": _int(inputs.get("writeCapacity")) or 1,
        }

        def key_schema(spec: Mapping[str, Any]) -> list[dict[str, str]]:
            keys = [{"AttributeName": spec.get("hashKey") or inputs["hashKey"], "KeyType": "HASH"}]
            if spec.get("rangeKey"):
                keys.append({"AttributeName": spec["rangeKey"], "KeyType": "RANGE"})
            return keys

        def projection(spec: Mapping[str, Any]) -> dict[str, Any]:
            result: dict[str, Any] = {"ProjectionType": spec.get("projectionType", "ALL")}
            if spec.get("nonKeyAttributes"):
                result["NonKeyAttributes"] = list(spec["nonKeyAttributes"])
            return result

        stream = (
            {"StreamEnabled": True, "StreamViewType": inputs.get("streamViewType") or "NEW_AND_OLD_IMAGES"}
            if inputs.get("streamEnabled")
            else {"StreamEnabled": False}
        )
        if prior is None:
            request: dict[str, Any] = {
                "TableName": name,
                "AttributeDefinitions": [
                    {"AttributeName": a["name"], "AttributeType": a["type"]} for a in inputs["attributes"]
                ],
                "KeySchema": key_schema({"hashKey": inputs["hashKey"], "rangeKey": inputs.get("rangeKey")}),
                "BillingMode": inputs.get("billingMode") or "PROVISIONED",
                "StreamSpecification": stream,
                "SSESpecification": {
                    "Enabled": bool((inputs.get("serverSideEncryption") or {}).get("enabled"))
                },
                "DeletionProtectionEnabled": bool(inputs.get("deletionProtectionEnabled")),
            }
            if provisioned:
                request["ProvisionedThroughput"] = throughput
            gsis = [
                {"IndexName": g["name"], "KeySchema": key_schema(g), "Projection": projection(g)}
                | ({"ProvisionedThroughput": throughput} if provisioned else {})
                for g in inputs.get("globalSecondaryIndexes") or []
            ]
            if gsis:
                request["GlobalSecondaryIndexes"] = gsis
            lsis = [
                {
                    "IndexName": index["name"],
                    "KeySchema": key_schema({"rangeKey": index["rangeKey"]}),
                    "Projection": projection(index),
                }
                for index in inputs.get("localSecondaryIndexes") or []
            ]
            if lsis:
                request["LocalSecondaryIndexes"] = lsis
            ddb.create_table(**request)
        else:
            update: dict[str, Any] = {
                "TableName": name,
                "BillingMode": inputs.get("billingMode") or "PROVISIONED",
                "DeletionProtectionEnabled": bool(inputs.get("deletionProtectionEnabled")),
            }
            if provisioned:
                update["ProvisionedThroughput"] = throughput
            if bool(prior.inputs.get("streamEnabled")) != bool(inputs.get("streamEnabled")):
                update["StreamSpecification"] = stream
            ddb.update_table(**update)
        ddb.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": bool((inputs.get("pointInTimeRecovery") or {}).get("enabled"))
            },
        )
        table = ddb.describe_table(TableName=name)["Table"]
        state = {**inputs, "name": name, "arn": table["TableArn"]}
        if table.get("LatestStreamArn"):
            state["streamArn"] = table["LatestStreamArn"]
            state["streamLabel"] = table.get("LatestStreamLabel")
        return name, state

    def _table_item(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        item = json.loads(inputs["item"])
        hash_key = inputs["hashKey"]
        condition = {}
        if prior is None:  # create-only, as the provider does
            condition = {
                "ConditionExpression": "attribute_not_exists(#key)",
                "ExpressionAttributeNames": {"#key": hash_key},
            }
        self.client("dynamodb").put_item(TableName=inputs["tableName"], Item=item, **condition)
        key_value = next(iter(item[hash_key].values()))
        range_value = next(iter(item[inputs["rangeKey"]].values())) if inputs.get("rangeKey") else ""
        return f"{inputs['tableName']}|{hash_key}|{key_value}|{range_value}", dict(inputs)

    # ----------------------------------------------------------------------- EventBridge

    def _event_bus(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        events = self.client("events")
        if prior is None:
            arn = events.create_event_bus(Name=name)["EventBusArn"]
        else:
            arn = events.describe_event_bus(Name=name)["Arn"]
        return name, {**inputs, "name": name, "arn": arn}

    def _event_rule(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        bus = inputs.get("eventBusName") or "default"
        request = _without_none(
            {
                "Name": name,
                "EventBusName": bus,
                "EventPattern": inputs.get("eventPattern"),
                "ScheduleExpression": inputs.get("scheduleExpression"),
                "Description": inputs.get("description"),
                "RoleArn": inputs.get("roleArn"),
                "State": inputs.get("state") or "ENABLED",
            }
        )
        arn = self.client("events").put_rule(**request)["RuleArn"]
        return f"{bus}/{name}", {**inputs, "name": name, "arn": arn}

    def _event_target(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        bus = inputs.get("eventBusName") or "default"
        target_id = inputs.get("targetId") or name
        target: dict[str, Any] = {"Id": target_id, "Arn": inputs["arn"]}
        if inputs.get("roleArn"):
            target["RoleArn"] = inputs["roleArn"]
        if inputs.get("input") is not None:
            target["Input"] = inputs["input"]
        if inputs.get("inputPath") is not None:
            target["InputPath"] = inputs["inputPath"]
        transformer = inputs.get("inputTransformer")
        if transformer:
            target["InputTransformer"] = _without_none(
                {
                    "InputPathsMap": transformer.get("inputPaths"),
                    "InputTemplate": transformer["inputTemplate"],
                }
            )
        retry = inputs.get("retryPolicy")
        if retry:
            target["RetryPolicy"] = _without_none(
                {
                    "MaximumRetryAttempts": _int(retry.get("maximumRetryAttempts")),
                    "MaximumEventAgeInSeconds": _int(retry.get("maximumEventAgeInSeconds")),
                }
            )
        dead_letter = inputs.get("deadLetterConfig")
        if dead_letter and dead_letter.get("arn"):
            target["DeadLetterConfig"] = {"Arn": dead_letter["arn"]}
        http = inputs.get("httpTarget")
        if http:
            target["HttpParameters"] = _without_none(
                {
                    "HeaderParameters": http.get("headerParameters"),
                    "QueryStringParameters": http.get("queryStringParameters"),
                    "PathParameterValues": http.get("pathParameterValues"),
                }
            )
        result = self.client("events").put_targets(Rule=inputs["rule"], EventBusName=bus, Targets=[target])
        if result.get("FailedEntryCount"):
            raise RuntimeError(f"event target {name}: {result['FailedEntries']}")
        return f"{bus}-{inputs['rule']}-{target_id}", {**inputs, "targetId": target_id}

    # ----------------------------------------------------------------------- CloudWatch Logs

    def _log_group(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        logs = self.client("logs")
        if prior is None:
            logs.create_log_group(logGroupName=name)
        retention = _int(inputs.get("retentionInDays"))
        if retention:
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
        elif prior is not None:
            logs.delete_retention_policy(logGroupName=name)
        arn = f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{name}"
        return name, {**inputs, "name": name, "arn": arn}

    def _log_resource_policy(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        policy_name = inputs["policyName"]
        self.client("logs").put_resource_policy(
            policyName=policy_name, policyDocument=inputs["policyDocument"]
        )
        return policy_name, dict(inputs)

    # ----------------------------------------------------------------------- SQS

    _QUEUE_ATTRIBUTES = {
        "visibilityTimeoutSeconds": "VisibilityTimeout",
        "messageRetentionSeconds": "MessageRetentionPeriod",
        "receiveWaitTimeSeconds": "ReceiveMessageWaitTimeSeconds",
        "delaySeconds": "DelaySeconds",
        "maxMessageSize": "MaximumMessageSize",
        "redrivePolicy": "RedrivePolicy",
        "sqsManagedSseEnabled": "SqsManagedSseEnabled",
        "kmsMasterKeyId": "KmsMasterKeyId",
        "policy": "Policy",
    }

    def _queue(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        sqs = self.client("sqs")
        attributes = {}
        for key, attribute in self._QUEUE_ATTRIBUTES.items():
            value = inputs.get(key)
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, float):
                value = str(int(value))
            attributes[attribute] = str(value)
        if inputs.get("fifoQueue"):
            attributes["FifoQueue"] = "true"
        if prior is None:
            url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        else:
            url = prior.id
            if attributes:
                sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, {**inputs, "name": name, "arn": arn, "url": url}

    def _queue_policy(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        self.client("sqs").set_queue_attributes(
            QueueUrl=inputs["queueUrl"], Attributes={"Policy": inputs["policy"]}
        )
        return inputs["queueUrl"], dict(inputs)

    # ----------------------------------------------------------------------- IAM

    def _role(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        iam = self.client("iam")
        if prior is None:
            role = iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=inputs["assumeRolePolicy"],
                Path=inputs.get("path") or "/",
                Description=inputs.get("description") or "",
            )["Role"]
        else:
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=inputs["assumeRolePolicy"])
            role = iam.get_role(RoleName=name)["Role"]
        return name, {**inputs, "name": name, "arn": role["Arn"], "uniqueId": role["RoleId"]}

    def _role_policy(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        role = _name_of(inputs["role"])
        self.client("iam").put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=inputs["policy"])
        return f"{role}:{name}", {**inputs, "name": name}

    # ----------------------------------------------------------------------- Lambda

    def _layer_version(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        layer = self.client("lambda").publish_layer_version(
            **_without_none(
                {
                    "LayerName": name,
                    "Content": {"ZipFile": archive_zip(inputs["code"])},
                    "CompatibleRuntimes": inputs.get("compatibleRuntimes"),
                    "CompatibleArchitectures": inputs.get("compatibleArchitectures"),
                    "Description": inputs.get("description"),
                }
            )
        )
        arn = layer["LayerVersionArn"]
        state = {**inputs, "layerName": name, "arn": arn, "layerArn": layer["LayerArn"]}
        state["version"] = str(layer["Version"])
        return arn, state

    def _function(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        lam = self.client("lambda")
        configuration = _without_none(
            {
                "Role": inputs["role"],
                "Handler": inputs.get("handler"),
                "Runtime": inputs.get("runtime"),
                "Description": inputs.get("description"),
                "Timeout": _int(inputs.get("timeout")),
                "MemorySize": _int(inputs.get("memorySize")),
                "Environment": {"Variables": dict((inputs.get("environment") or {}).get("variables") or {})},
                "Layers": list(inputs.get("layers") or []),
                "TracingConfig": {"Mode": (inputs.get("tracingConfig") or {}).get("mode") or "PassThrough"},
            }
        )
        code = archive_zip(inputs["code"])
        if prior is None:
            lam.create_function(
                FunctionName=name,
                Code={"ZipFile": code},
                Architectures=list(inputs.get("architectures") or ["x86_64"]),
                **configuration,
            )
        else:
            lam.update_function_configuration(FunctionName=name, **configuration)
            if fingerprint({"code": inputs["code"]}) != fingerprint({"code": prior.inputs["code"]}):
                lam.update_function_code(FunctionName=name, ZipFile=code)
        reserved = _int(inputs.get("reservedConcurrentExecutions"))
        if reserved is not None and reserved >= 0:
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
        elif prior is not None:
            lam.delete_function_concurrency(FunctionName=name)
        arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
        state = {
            **inputs,
            "name": name,
            "arn": arn,
            "qualifiedArn": f"{arn}:$LATEST",
            "version": "$LATEST",
            "invokeArn": (
                f"arn:aws:apigateway:{self.region}:lambda:path/2015-03-31/functions/{arn}/invocations"
            ),
        }
        return name, state

    def _permission(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        lam = self.client("lambda")
        function = inputs["function"]
        statement_id = inputs.get("statementId") or name
        if prior is not None:
            with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
                lam.remove_permission(
                    FunctionName=_name_of(prior.inputs["function"]), StatementId=statement_id
                )
        lam.add_permission(
            **_without_none(
                {
                    "FunctionName": function,
                    "StatementId": statement_id,
                    "Action": inputs["action"],
                    "Principal": inputs["principal"],
                    "SourceArn": inputs.get("sourceArn"),
                    "SourceAccount": inputs.get("sourceAccount"),
                }
            )
        )
        return statement_id, {**inputs, "statementId": statement_id}

    def _event_invoke_config(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        destinations = {}
        for outcome, key in (("onFailure", "OnFailure"), ("onSuccess", "OnSuccess")):
            target = ((inputs.get("destinationConfig") or {}).get(outcome) or {}).get("destination")
            if target:
                destinations[key] = {"Destination": target}
        self.client("lambda").put_function_event_invoke_config(
            **_without_none(
                {
                    "FunctionName": inputs["functionName"],
                    "MaximumRetryAttempts": _int(inputs.get("maximumRetryAttempts")),
                    "MaximumEventAgeInSeconds": _int(inputs.get("maximumEventAgeInSeconds")),
                    "DestinationConfig": destinations or None,
                }
            )
        )
        return inputs["functionName"], dict(inputs)

    def _event_source_mapping(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        lam = self.client("lambda")
        settings = _without_none(
            {
                "FunctionName": inputs["functionName"],
                "BatchSize": _int(inputs.get("batchSize")),
                "MaximumBatchingWindowInSeconds": _int(inputs.get("maximumBatchingWindowInSeconds")),
                "FunctionResponseTypes": list(inputs.get("functionResponseTypes") or []),
                "Enabled": inputs.get("enabled", True),
                "MaximumRetryAttempts": _int(inputs.get("maximumRetryAttempts")),
                "BisectBatchOnFunctionError": inputs.get("bisectBatchOnFunctionError"),
                "FilterCriteria": _filter_criteria(inputs.get("filterCriteria")),
                "DestinationConfig": _destination_config(inputs.get("destinationConfig")),
                "ScalingConfig": _scaling_config(inputs.get("scalingConfig")),
            }
        )
        if prior is None:
            if inputs.get("startingPosition"):
                settings["StartingPosition"] = inputs["startingPosition"]
            mapping = lam.create_event_source_mapping(EventSourceArn=inputs["eventSourceArn"], **settings)
        else:
            mapping = lam.update_event_source_mapping(UUID=prior.id, **settings)
        uuid = mapping["UUID"]
        return uuid, {**inputs, "uuid": uuid, "functionArn": mapping["FunctionArn"]}

    # ----------------------------------------------------------------------- Step Functions

    def _state_machine(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        sfn = self.client("stepfunctions")
        logging_input = inputs.get("loggingConfiguration") or {}
        logging_configuration: dict[str, Any] = {
            "level": logging_input.get("level") or "OFF",
            "includeExecutionData": bool(logging_input.get("includeExecutionData")),
        }
        if logging_input.get("logDestination"):
            logging_configuration["destinations"] = [
                {"cloudWatchLogsLogGroup": {"logGroupArn": logging_input["logDestination"]}}
            ]
        tracing = {"enabled": bool((inputs.get("tracingConfiguration") or {}).get("enabled"))}
        if prior is None:
            arn = sfn.create_state_machine(
                name=name,
                definition=inputs["definition"],
                roleArn=inputs["roleArn"],
                type=inputs.get("type") or "STANDARD",
                loggingConfiguration=logging_configuration,
                tracingConfiguration=tracing,
            )["stateMachineArn"]
        else:
            arn = prior.id
            if (inputs.get("type") or "STANDARD") != (prior.inputs.get("type") or "STANDARD"):
                raise RuntimeError(f"state machine {name}: changing its type needs a replacement")
            sfn.update_state_machine(
                stateMachineArn=arn,
                definition=inputs["definition"],
                roleArn=inputs["roleArn"],
                loggingConfiguration=logging_configuration,
                tracingConfiguration=tracing,
            )
        return arn, {**inputs, "name": name, "arn": arn}

    # ----------------------------------------------------------------------- CloudWatch, SNS

    def _dashboard(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        self.client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=inputs["dashboardBody"])
        arn = f"arn:aws:cloudwatch::{self.account_id}:dashboard/{name}"
        return name, {**inputs, "dashboardName": name, "dashboardArn": arn}

    def _metric_alarm(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        request = _without_none(
            {
                "AlarmName": name,
                "AlarmDescription": inputs.get("alarmDescription"),
                "Namespace": inputs.get("namespace"),
                "MetricName": inputs.get("metricName"),
                "Dimensions": [
                    {"Name": key, "Value": value} for key, value in (inputs.get("dimensions") or {}).items()
                ],
                "Statistic": inputs.get("statistic"),
                "Period": _int(inputs.get("period")),
                "EvaluationPeriods": _int(inputs["evaluationPeriods"]),
                "Threshold": float(inputs.get("threshold") or 0),
                "ComparisonOperator": inputs["comparisonOperator"],
                "TreatMissingData": inputs.get("treatMissingData"),
                "AlarmActions": list(inputs.get("alarmActions") or []),
                "OKActions": list(inputs.get("okActions") or []),
            }
        )
        self.client("cloudwatch").put_metric_alarm(**request)
        arn = f"arn:aws:cloudwatch:{self.region}:{self.account_id}:alarm:{name}"
        return name, {**inputs, "name": name, "arn": arn}

    def _topic(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        attributes = {"KmsMasterKeyId": inputs["kmsMasterKeyId"]} if inputs.get("kmsMasterKeyId") else {}
        arn = self.client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        return arn, {**inputs, "name": name, "arn": arn}

    def _iot_policy(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        iot = self.client("iot")
        policy_name = inputs.get("name") or name
        if prior is None:
            answer = iot.create_policy(policyName=policy_name, policyDocument=inputs["policy"])
        else:
            iot.create_policy_version(
                policyName=policy_name, policyDocument=inputs["policy"], setAsDefault=True
            )
            answer = iot.get_policy(policyName=policy_name)
        return policy_name, {**inputs, "name": policy_name, "arn": answer["policyArn"]}

    # ----------------------------------------------------------------------- API Gateway (REST v1)
    # moto has no UpdateIntegration/UpdateMethod/UpdateIntegrationResponse/UpdateResource, re-putting a
    # method drops its integration and re-putting an integration drops its responses: an update is a
    # delete + re-put that puts back what hangs below (method responses, integration, its responses).

    def _rest_api(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        apigw = self.client("apigateway")
        if inputs.get("body"):
            raise RuntimeError(f"rest api {name}: OpenAPI bodies are not emulated; declare resources instead")
        if prior is None:
            settings = _without_none(
                {
                    "binaryMediaTypes": inputs.get("binaryMediaTypes"),
                    "endpointConfiguration": _pascal_free(inputs.get("endpointConfiguration")),
                    "apiKeySource": inputs.get("apiKeySource"),
                    "disableExecuteApiEndpoint": inputs.get("disableExecuteApiEndpoint"),
                }
            )
            api = apigw.create_rest_api(name=name, description=inputs.get("description") or "", **settings)
        else:
            apigw.update_rest_api(
                restApiId=prior.id,
                patchOperations=[
                    {"op": "replace", "path": "/name", "value": name},
                    {"op": "replace", "path": "/description", "value": inputs.get("description") or ""},
                ],
            )
            api = apigw.get_rest_api(restApiId=prior.id)
        api_id = api["id"]
        state = {
            **inputs,
            "name": name,
            "rootResourceId": api["rootResourceId"],
            "executionArn": f"arn:aws:execute-api:{self.region}:{self.account_id}:{api_id}",
            "arn": f"arn:aws:apigateway:{self.region}::/restapis/{api_id}",
            "createdDate": str(api.get("createdDate", "")),
        }
        return api_id, state

    def _api_resource(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        apigw = self.client("apigateway")
        if prior is not None:  # moto cannot move or rename a path: a new resource, what hangs below follows
            api_id = prior.inputs["restApi"]
            items = apigw.get_resources(restApiId=api_id, limit=500)["items"]
            doomed = [prior.id]
            for item in items:  # parents are listed before their children
                if item.get("parentId") in doomed:
                    doomed.append(item["id"])
            for resource_id in reversed(doomed):
                with contextlib.suppress(apigw.exceptions.NotFoundException, KeyError):
                    apigw.delete_resource(restApiId=api_id, resourceId=resource_id)
        resource = apigw.create_resource(
            restApiId=inputs["restApi"], parentId=inputs["parentId"], pathPart=inputs["pathPart"]
        )
        return resource["id"], {**inputs, "path": resource["path"]}

    def _api_authorizer(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        apigw = self.client("apigateway")
        api_id = inputs["restApi"]
        settings = _without_none(
            {
                "name": inputs.get("name") or name,
                "type": inputs.get("type") or "TOKEN",
                "providerARNs": inputs.get("providerArns"),
                "authorizerUri": inputs.get("authorizerUri"),
                "authorizerCredentials": inputs.get("authorizerCredentials"),
                "identitySource": inputs.get("identitySource") or "method.request.header.Authorization",
                "identityValidationExpression": inputs.get("identityValidationExpression"),
                "authorizerResultTtlInSeconds": _int(inputs.get("authorizerResultTtlInSeconds")),
            }
        )
        if prior is not None:  # moto cannot patch provider ARNs: a new authorizer, methods follow its id
            with contextlib.suppress(apigw.exceptions.NotFoundException):
                apigw.delete_authorizer(restApiId=prior.inputs["restApi"], authorizerId=prior.id)
        authorizer_id = apigw.create_authorizer(restApiId=api_id, **settings)["id"]
        arn = f"arn:aws:apigateway:{self.region}::/restapis/{api_id}/authorizers/{authorizer_id}"
        return authorizer_id, {**inputs, "arn": arn}

    def _api_method(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        apigw = self.client("apigateway")
        key = _method_key(inputs)
        below = None
        if prior is not None:
            if _method_key(prior.inputs) == key:
                below = apigw.get_method(**key)
            with contextlib.suppress(apigw.exceptions.NotFoundException, KeyError):
                apigw.delete_method(**_method_key(prior.inputs))
        apigw.put_method(
            **key,
            **_without_none(
                {
                    "authorizationType": inputs.get("authorization") or "NONE",
                    "authorizerId": inputs.get("authorizerId"),
                    "authorizationScopes": inputs.get("authorizationScopes"),
                    "apiKeyRequired": inputs.get("apiKeyRequired"),
                    "requestParameters": inputs.get("requestParameters"),
                    "requestModels": inputs.get("requestModels"),
                    "requestValidatorId": inputs.get("requestValidatorId"),
                    "operationName": inputs.get("operationName"),
                }
            ),
        )
        if below is not None:
            for response in (below.get("methodResponses") or {}).values():
                apigw.put_method_response(**key, **_method_response_args(response))
            if below.get("methodIntegration"):
                self._put_integration(key, below["methodIntegration"])
        return _api_id("agm", key), dict(inputs)

    def _put_integration(self, key: dict[str, str], integration: Mapping[str, Any]) -> None:
        """Re-put an integration as `get_integration` describes it, with its integration responses."""
        apigw = self.client("apigateway")
        fields = ("type", "uri", "credentials", "requestParameters", "passthroughBehavior", "contentHandling")
        fields += ("cacheNamespace", "cacheKeyParameters", "connectionType", "connectionId", "tlsConfig")
        settings = _without_none({field: integration.get(field) for field in fields})
        if integration.get("httpMethod"):
            settings["integrationHttpMethod"] = integration["httpMethod"]
        if integration.get("requestTemplates"):
            settings["requestTemplates"] = {k: v or "" for k, v in integration["requestTemplates"].items()}
        if integration.get("timeoutInMillis"):
            settings["timeoutInMillis"] = int(integration["timeoutInMillis"])
        apigw.put_integration(**key, **settings)
        for response in (integration.get("integrationResponses") or {}).values():
            apigw.put_integration_response(**key, **_integration_response_args(response))

    def _api_integration(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        apigw = self.client("apigateway")
        key = _method_key(inputs)
        responses: list[dict[str, Any]] = []
        if prior is not None:
            if _method_key(prior.inputs) == key:
                with contextlib.suppress(apigw.exceptions.NotFoundException):
                    responses = list(
                        (apigw.get_integration(**key).get("integrationResponses") or {}).values()
                    )
            with contextlib.suppress(apigw.exceptions.NotFoundException, KeyError, AttributeError):
                apigw.delete_integration(**_method_key(prior.inputs))
        self._put_integration(
            key,
            {
                "type": inputs["type"],
                "httpMethod": inputs.get("integrationHttpMethod"),
                "uri": inputs.get("uri") or "",
                "credentials": inputs.get("credentials"),
                "requestTemplates": inputs.get("requestTemplates"),
                "requestParameters": inputs.get("requestParameters"),
                "passthroughBehavior": inputs.get("passthroughBehavior"),
                "contentHandling": inputs.get("contentHandling"),
                "timeoutInMillis": inputs.get("timeoutMilliseconds"),
                "cacheNamespace": inputs.get("cacheNamespace"),
                "cacheKeyParameters": inputs.get("cacheKeyParameters"),
                "connectionType": inputs.get("connectionType"),
                "connectionId": inputs.get("connectionId"),
                "integrationResponses": {r["statusCode"]: r for r in responses},
            },
        )
        return _api_id("agi", key), dict(inputs)

    def _api_method_response(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        apigw = self.client("apigateway")
        key = _method_key(inputs)
        if prior is not None and (_method_key(prior.inputs), prior.inputs["statusCode"]) != (
            key,
            inputs["statusCode"],
        ):
            with contextlib.suppress(apigw.exceptions.NotFoundException, KeyError):
                apigw.delete_method_response(
                    **_method_key(prior.inputs), statusCode=prior.inputs["statusCode"]
                )
        apigw.put_method_response(**key, **_method_response_args(inputs))
        return _api_id("agmr", key, inputs["statusCode"]), dict(inputs)

    def _api_integration_response(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        apigw = self.client("apigateway")
        key = _method_key(inputs)
        if prior is not None and (_method_key(prior.inputs), prior.inputs["statusCode"]) != (
            key,
            inputs["statusCode"],
        ):
            with contextlib.suppress(apigw.exceptions.NotFoundException, KeyError, AttributeError):
                apigw.delete_integration_response(
                    **_method_key(prior.inputs), statusCode=prior.inputs["statusCode"]
                )
        apigw.put_integration_response(**key, **_integration_response_args(inputs))
        return _api_id("agir", key, inputs["statusCode"]), dict(inputs)

    def _api_deployment(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        # Changed triggers replace a deployment: a new one, the stage then moves to it (the old one stays).
        api_id = inputs["restApi"]
        deployment = self.client("apigateway").create_deployment(
            restApiId=api_id,
            description=inputs.get("description") or "",
            **_without_none({"stageName": inputs.get("stageName"), "variables": inputs.get("variables")}),
        )
        state = {
            **inputs,
            "createdDate": str(deployment.get("createdDate", "")),
            "executionArn": f"arn:aws:execute-api:{self.region}:{self.account_id}:{api_id}/",
            "invokeUrl": f"https://{api_id}.execute-api.{self.region}.amazonaws.com/",
        }
        return deployment["id"], state

    def _api_stage(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        apigw = self.client("apigateway")
        api_id, stage = inputs["restApi"], inputs["stageName"]
        if prior is not None and (prior.inputs["restApi"], prior.inputs["stageName"]) != (api_id, stage):
            with contextlib.suppress(apigw.exceptions.NotFoundException):
                apigw.delete_stage(restApiId=prior.inputs["restApi"], stageName=prior.inputs["stageName"])
            prior = None
        if prior is None:
            apigw.create_stage(
                restApiId=api_id,
                stageName=stage,
                deploymentId=inputs["deployment"],
                description=inputs.get("description") or "",
                variables=dict(inputs.get("variables") or {}),
                tracingEnabled=bool(inputs.get("xrayTracingEnabled")),
            )
        patches = [
            {"op": "replace", "path": "/deploymentId", "value": inputs["deployment"]},
            {"op": "replace", "path": "/description", "value": inputs.get("description") or ""},
            {
                "op": "replace",
                "path": "/tracingEnabled",
                "value": str(bool(inputs.get("xrayTracingEnabled"))),
            },
        ]
        logs = inputs.get("accessLogSettings") or {}
        if logs:
            patches += [
                {
                    "op": "replace",
                    "path": "/accessLogSettings/destinationArn",
                    "value": logs["destinationArn"],
                },
                {"op": "replace", "path": "/accessLogSettings/format", "value": logs["format"]},
            ]
        elif prior is not None and prior.inputs.get("accessLogSettings"):
            patches.append({"op": "remove", "path": "/accessLogSettings"})
        apigw.update_stage(restApiId=api_id, stageName=stage, patchOperations=patches)
        state = {
            **inputs,
            "invokeUrl": f"https://{api_id}.execute-api.{self.region}.amazonaws.com/{stage}",
            "executionArn": f"arn:aws:execute-api:{self.region}:{self.account_id}:{api_id}/{stage}",
            "arn": f"arn:aws:apigateway:{self.region}::/restapis/{api_id}/stages/{stage}",
        }
        return f"ags-{api_id}-{stage}", state

    _METHOD_SETTINGS = {
        "throttlingBurstLimit": ("throttling/burstLimit", int),
        "throttlingRateLimit": ("throttling/rateLimit", float),
        "metricsEnabled": ("metrics/enabled", bool),
        "loggingLevel": ("logging/loglevel", str),
        "dataTraceEnabled": ("logging/dataTrace", bool),
        "cachingEnabled": ("caching/enabled", bool),
        "cacheTtlInSeconds": ("caching/ttlInSeconds", int),
        "cacheDataEncrypted": ("caching/dataEncrypted", bool),
        "requireAuthorizationForCacheControl": ("caching/requireAuthorizationForCacheControl", bool),
        "unauthorizedCacheControlHeaderStrategy": ("caching/unauthorizedCacheControlHeaderStrategy", str),
    }

    def _api_method_settings(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        """Recorded on moto's stage (``methodSettings`` of GetStage); the executor does not throttle."""
        patches = []
        for key, value in (inputs.get("settings") or {}).items():
            if key in self._METHOD_SETTINGS and value is not None:
                path, kind = self._METHOD_SETTINGS[key]
                text = str(value).lower() if kind is bool else str(kind(value))
                patches.append({"op": "replace", "path": f"/{inputs['methodPath']}/{path}", "value": text})
        self.client("apigateway").update_stage(
            restApiId=inputs["restApi"], stageName=inputs["stageName"], patchOperations=patches
        )
        return f"{inputs['restApi']}-{inputs['stageName']}-{inputs['methodPath']}", dict(inputs)

    def _api_gateway_response(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        apigw = self.client("apigateway")
        api_id, response_type = inputs["restApiId"], inputs["responseType"]
        if prior is not None and (prior.inputs["restApiId"], prior.inputs["responseType"]) != (
            api_id,
            response_type,
        ):
            apigw.delete_gateway_response(
                restApiId=prior.inputs["restApiId"], responseType=prior.inputs["responseType"]
            )
        apigw.put_gateway_response(
            restApiId=api_id,
            responseType=response_type,
            **_without_none(
                {
                    "statusCode": inputs.get("statusCode"),
                    "responseParameters": inputs.get("responseParameters"),
                    "responseTemplates": inputs.get("responseTemplates"),
                }
            ),
        )
        return f"aggr-{api_id}-{response_type}", dict(inputs)

    def _api_account(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        apigw = self.client("apigateway")
        if inputs.get("cloudwatchRoleArn"):
            patch = {"op": "replace", "path": "/cloudwatchRoleArn", "value": inputs["cloudwatchRoleArn"]}
            apigw.update_account(patchOperations=[patch])
        limits = apigw.get_account().get("throttleSettings") or {}
        state = {
            **inputs,
            "throttleSettings": [
                {"burstLimit": limits.get("burstLimit"), "rateLimit": limits.get("rateLimit")}
            ],
        }
        return "api-gateway-account", state

    # ----------------------------------------------------------------------- Cognito

    _POOL_CREATE_ONLY = ("UsernameAttributes", "AliasAttributes", "Schema", "UsernameConfiguration")

    def _user_pool(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        idp = self.client("cognito-idp")
        email = dict(inputs.get("emailConfiguration") or {})
        if "fromEmailAddress" in email:
            email["from"] = email.pop("fromEmailAddress")
        settings = _without_none(
            {
                "Policies": {"PasswordPolicy": _pascal(inputs["passwordPolicy"])}
                if inputs.get("passwordPolicy")
                else None,
                "AutoVerifiedAttributes": inputs.get("autoVerifiedAttributes"),
                "UsernameAttributes": inputs.get("usernameAttributes"),
                "AliasAttributes": inputs.get("aliasAttributes"),
                "Schema": _pascal(inputs.get("schemas")),
                "UsernameConfiguration": _pascal(inputs.get("usernameConfiguration")),
                "VerificationMessageTemplate": _pascal(inputs.get("verificationMessageTemplate")),
                "MfaConfiguration": inputs.get("mfaConfiguration"),
                "AccountRecoverySetting": _pascal(inputs.get("accountRecoverySetting")),
                "AdminCreateUserConfig": _pascal(inputs.get("adminCreateUserConfig")),
                "EmailConfiguration": _pascal(email) if email else None,
                "DeletionProtection": inputs.get("deletionProtection"),
            }
        )
        if prior is None:
            pool_id = idp.create_user_pool(PoolName=name, **settings)["UserPool"]["Id"]
        else:
            pool_id = prior.id
            changeable = {key: value for key, value in settings.items() if key not in self._POOL_CREATE_ONLY}
            idp.update_user_pool(UserPoolId=pool_id, **changeable)
        pool = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
        state = {
            **inputs,
            "name": name,
            "arn": pool["Arn"],
            "endpoint": f"cognito-idp.{self.region}.amazonaws.com/{pool_id}",
            "creationDate": str(pool.get("CreationDate", "")),
            "lastModifiedDate": str(pool.get("LastModifiedDate", "")),
            "estimatedNumberOfUsers": pool.get("EstimatedNumberOfUsers", 0),
        }
        return pool_id, state

    _CLIENT_SETTINGS = {
        "explicitAuthFlows": "ExplicitAuthFlows",
        "allowedOauthFlows": "AllowedOAuthFlows",
        "allowedOauthScopes": "AllowedOAuthScopes",
        "allowedOauthFlowsUserPoolClient": "AllowedOAuthFlowsUserPoolClient",
        "callbackUrls": "CallbackURLs",
        "logoutUrls": "LogoutURLs",
        "defaultRedirectUri": "DefaultRedirectURI",
        "supportedIdentityProviders": "SupportedIdentityProviders",
        "readAttributes": "ReadAttributes",
        "writeAttributes": "WriteAttributes",
        "refreshTokenValidity": "RefreshTokenValidity",
        "accessTokenValidity": "AccessTokenValidity",
        "idTokenValidity": "IdTokenValidity",
        "tokenValidityUnits": "TokenValidityUnits",
        "preventUserExistenceErrors": "PreventUserExistenceErrors",
        "enableTokenRevocation": "EnableTokenRevocation",
    }

    def _user_pool_client(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        idp = self.client("cognito-idp")
        settings = _without_none(
            {api: _pascal(inputs.get(key)) for key, api in self._CLIENT_SETTINGS.items()}
        )
        pool_id = inputs["userPoolId"]
        if prior is not None and prior.inputs["userPoolId"] != pool_id:
            prior = None
        if prior is None:
            client = idp.create_user_pool_client(
                UserPoolId=pool_id,
                ClientName=name,
                GenerateSecret=bool(inputs.get("generateSecret")),
                **settings,
            )["UserPoolClient"]
        else:
            client = idp.update_user_pool_client(
                UserPoolId=pool_id, ClientId=prior.id, ClientName=name, **settings
            )["UserPoolClient"]
        return client["ClientId"], {**inputs, "name": name, "clientSecret": client.get("ClientSecret", "")}

    def _user_group(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        idp = self.client("cognito-idp")
        settings = _without_none(
            {
                "UserPoolId": inputs["userPoolId"],
                "GroupName": name,
                "Description": inputs.get("description"),
                "RoleArn": inputs.get("roleArn"),
                "Precedence": _int(inputs.get("precedence")),
            }
        )
        if prior is None:
            idp.create_group(**settings)
        else:
            idp.update_group(**settings)
        return f"{inputs['userPoolId']}/{name}", {**inputs, "name": name}

    def _identity_pool(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        identity = self.client("cognito-identity")
        settings = _without_none(
            {
                "IdentityPoolName": inputs.get("identityPoolName") or name,
                "AllowUnauthenticatedIdentities": bool(inputs.get("allowUnauthenticatedIdentities")),
                "AllowClassicFlow": inputs.get("allowClassicFlow"),
                "DeveloperProviderName": inputs.get("developerProviderName"),
                "CognitoIdentityProviders": _pascal(inputs.get("cognitoIdentityProviders")),
                "SupportedLoginProviders": inputs.get("supportedLoginProviders"),
                "OpenIdConnectProviderARNs": inputs.get("openidConnectProviderArns"),
                "SamlProviderARNs": inputs.get("samlProviderArns"),
            }
        )
        if prior is None:
            pool_id = identity.create_identity_pool(**settings)["IdentityPoolId"]
        else:
            pool_id = prior.id
            identity.update_identity_pool(IdentityPoolId=pool_id, **settings)
        arn = f"arn:aws:cognito-identity:{self.region}:{self.account_id}:identitypool/{pool_id}"
        return pool_id, {**inputs, "identityPoolName": settings["IdentityPoolName"], "arn": arn}

    def _identity_pool_roles(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        if self.endpoint_url is None:
            from localcloud.emulator import cognito

            cognito.install()  # SetIdentityPoolRoles is ours: moto raises NotImplementedError
        mappings = {}
        for mapping in inputs.get("roleMappings") or []:
            rules = [_pascal(rule) for rule in mapping.get("mappingRules") or []]
            for rule in rules:
                rule["RoleARN"] = rule.pop("RoleArn")
            mappings[mapping["identityProvider"]] = _without_none(
                {
                    "Type": mapping["type"],
                    "AmbiguousRoleResolution": mapping.get("ambiguousRoleResolution"),
                    "RulesConfiguration": {"Rules": rules} if rules else None,
                }
            )
        self.client("cognito-identity").set_identity_pool_roles(
            IdentityPoolId=inputs["identityPoolId"],
            Roles=dict(inputs.get("roles") or {}),
            RoleMappings=mappings,
        )
        return inputs["identityPoolId"], dict(inputs)

    # ----------------------------------------------------------------------- EventBridge API destinations

    def _event_connection(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        """Only API-key auth (what the program declares); moto keeps the key in a Secrets Manager secret."""
        from pulumi.runtime.rpc import unwrap_rpc_secret

        auth = unwrap_rpc_secret(inputs["authParameters"])
        api_key = auth.get("apiKey")
        if inputs["authorizationType"] != "API_KEY" or not api_key:
            raise RuntimeError(f"event connection {name}: only API_KEY authorization is supported offline")
        key = {"ApiKeyName": api_key["key"], "ApiKeyValue": unwrap_rpc_secret(api_key["value"])}
        events = self.client("events")
        settings = {
            "Name": name,
            "AuthorizationType": "API_KEY",
            "AuthParameters": {"ApiKeyAuthParameters": key},
            "Description": inputs.get("description") or "",
        }
        if prior is None:
            events.create_connection(**settings)
        else:
            events.update_connection(**settings)
            # moto's UpdateConnection leaves the secret as it was: write the key where a delivery reads it.
            stored = {"api_key_name": key["ApiKeyName"], "api_key_value": key["ApiKeyValue"]}
            self.client("secretsmanager").put_secret_value(
                SecretId=prior.state["secretArn"], SecretString=json.dumps(stored)
            )
        described = events.describe_connection(Name=name)
        state = {
            **inputs,
            "name": name,
            "arn": described["ConnectionArn"],
            "secretArn": described["SecretArn"],
        }
        return name, state

    def _event_api_destination(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        events = self.client("events")
        settings = _without_none(
            {
                "Name": name,
                "ConnectionArn": inputs["connectionArn"],
                "InvocationEndpoint": inputs["invocationEndpoint"],
                "HttpMethod": inputs["httpMethod"],
                "InvocationRateLimitPerSecond": _int(inputs.get("invocationRateLimitPerSecond")),
                "Description": inputs.get("description") or "",
            }
        )
        if prior is None:
            events.create_api_destination(**settings)
        else:
            events.update_api_destination(**settings)
        arn = events.describe_api_destination(Name=name)["ApiDestinationArn"]
        return name, {**inputs, "name": name, "arn": arn}

    # ----------------------------------------------------------------------- KMS, alarm delivery

    def _kms_key(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        kms = self.client("kms")
        if prior is None:
            metadata = kms.create_key(
                **_without_none({"Description": inputs.get("description"), "Policy": inputs.get("policy")})
            )["KeyMetadata"]
            key_id = metadata["KeyId"]
        else:
            key_id = prior.id
            if inputs.get("policy"):
                kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=inputs["policy"])
            kms.update_key_description(KeyId=key_id, Description=inputs.get("description") or "")
        if inputs.get("enableKeyRotation"):
            kms.enable_key_rotation(KeyId=key_id)
        elif prior is not None:
            kms.disable_key_rotation(KeyId=key_id)
        arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
        return key_id, {**inputs, "arn": arn, "keyId": key_id}

    def _topic_subscription(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        sns = self.client("sns")
        if prior is not None:
            sns.unsubscribe(SubscriptionArn=prior.id)
        arn = sns.subscribe(
            TopicArn=inputs["topic"],
            Protocol=inputs["protocol"],
            Endpoint=inputs["endpoint"],
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        return arn, {**inputs, "arn": arn}

    def _log_metric_filter(self, name: str, inputs: dict[str, Any], prior: Deployed | None) -> Answer:
        logs = self.client("logs")
        if prior is not None and prior.inputs["logGroupName"] != inputs["logGroupName"]:
            logs.delete_metric_filter(logGroupName=prior.inputs["logGroupName"], filterName=name)
        transformation = inputs["metricTransformation"]
        logs.put_metric_filter(
            logGroupName=inputs["logGroupName"],
            filterName=name,
            filterPattern=inputs["pattern"],
            metricTransformations=[
                _without_none(
                    {
                        "metricName": transformation["name"],
                        "metricNamespace": transformation["namespace"],
                        "metricValue": transformation["value"],
                        "defaultValue": float(transformation["defaultValue"])
                        if transformation.get("defaultValue") is not None
                        else None,
                    }
                )
            ],
        )
        return name, {**inputs, "name": name}


# --------------------------------------------------------------------------- deploy = pulumi up


def qualified_config(overrides: Mapping[str, Any] | None, repo: Path = program.REPO_ROOT) -> dict[str, str]:
    """Config overrides as the CLI hands them over: fully qualified keys, values as text."""
    project = program.project_name(repo)
    result = {}
    for key, value in (overrides or {}).items():
        qualified = key if ":" in key else f"{project}:{key}"
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (list, dict)):
            text = json.dumps(value)
        else:
            text = str(value)
        result[qualified] = text
    return result


def deploy(
    stack: str,
    state: StackState,
    *,
    config: Mapping[str, Any] | None = None,
    program_fn: Callable[[], Any] | None = None,
    repo: Path = program.REPO_ROOT,
    secrets: Mapping[str, Any] | None = None,
    endpoint_url: str | None = None,
) -> tuple[program.ProgramRun, DeploySummary]:
    """Evaluate the program for `stack` and create/update its resources in the running emulator, or, with
    `endpoint_url`, in that AWS-compatible endpoint over HTTP (nothing of the emulator is used then).

    `repo` is the project's folder; `secrets` are set like `pulumi config set --secret` (keys with or
    without the project prefix)."""
    values = program.stack_config(stack, repo)
    overrides = qualified_config(config, repo)
    region = {**values, **overrides}.get("aws:region", "us-east-1")
    summary = DeploySummary(stack=stack)
    mocks = MotoMocks(region, state, summary, endpoint_url)
    saved_region = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region
    try:
        secret_values = qualified_config(secrets, repo)
        run = program.run(stack, program_fn, config=overrides, mocks=mocks, repo=repo, secrets=secret_values)
    finally:
        if saved_region is not None:
            os.environ["AWS_DEFAULT_REGION"] = saved_region
    for registration in run.resources:
        deployed = state.resources.get((registration.type, registration.name))
        if deployed is not None:
            deployed.ignore_changes = registration.ignore_changes
    summary.removed = sorted(key for key in state.resources if key not in mocks.seen)
    return run, summary
