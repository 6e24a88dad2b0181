"""Evaluate the Pulumi program (or one component) offline, under Pulumi's mocks, and record what it declares.

Used by the unit tests (resources recorded with plausible ids and ARNs) and by the local cloud (a `Mocks`
subclass that creates each resource in the emulator). It stands in for the CLI: it merges `Pulumi.yaml`
defaults with `Pulumi.<stack>.yaml`, as `pulumi up` does, and hands the program its config.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import functools
import hashlib
import json
import runpy
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import settings as pulumi_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
ACCOUNT_ID = "123456789012"


# libyaml's parser where PyYAML was built with it (the same documents, a tenth of the time).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=64)
def _parsed_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_YAML_LOADER)  # a safe loader, C or Python


def yaml_file(path: Path) -> Any:
    """A YAML file's document, parsed once per content (every deploy reads the same project and stack
    files several times); the caller gets its own copy to change."""
    return copy.deepcopy(_parsed_yaml(path.read_text()))


def project_name(repo: Path = REPO_ROOT) -> str:
    return yaml_file(repo / "Pulumi.yaml")["name"]


def stack_names(repo: Path = REPO_ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in repo.glob("Pulumi.*.yaml"))


def project_dirs() -> list[Path]:
    """Every Pulumi project of this repo: the shop (the repo root) and each folder with a Pulumi.yaml."""
    return [REPO_ROOT, *sorted(p.parent for p in REPO_ROOT.glob("*/Pulumi.yaml"))]


def project_dir(project: str | Path = ".") -> Path:
    """A Pulumi project of this repo by folder (``"."``: the shop; ``"fulfillment"``), or any folder path."""
    folder = Path(project)
    folder = (folder if folder.is_absolute() else REPO_ROOT / folder).resolve()
    if not (folder / "Pulumi.yaml").is_file():
        known = ", ".join("." if p == REPO_ROOT else p.name for p in project_dirs())
        raise FileNotFoundError(f"{folder} has no Pulumi.yaml; this repo's projects are: {known}")
    return folder


def declared_secrets(repo: Path = REPO_ROOT) -> list[str]:
    """The project's config keys declared ``secret: true`` in Pulumi.yaml, fully qualified."""
    project = yaml_file(repo / "Pulumi.yaml")
    return [
        f"{project['name']}:{key}" for key, spec in project.get("config", {}).items() if spec.get("secret")
    ]


def stack_config(stack: str, repo: Path = REPO_ROOT) -> dict[str, str]:
    """What the CLI hands the program for `stack`: project defaults overlaid by the stack file, as text."""
    project = yaml_file(repo / "Pulumi.yaml")
    name = project["name"]
    values: dict[str, Any] = {
        f"{name}:{key}": spec["default"]
        for key, spec in project.get("config", {}).items()
        if "default" in spec
    }
    stack_file = repo / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        raise FileNotFoundError(
            f"no stack file {stack_file.name}; stacks are: {', '.join(stack_names(repo))}"
        )
    values.update((yaml_file(stack_file) or {}).get("config", {}))
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()}


@dataclass(frozen=True)
class Registration:
    """One resource as the program declared it: inputs, the state the mocks answered, and its options."""

    type: str
    name: str
    urn: str
    id: str
    inputs: dict[str, Any]
    state: dict[str, Any]
    parent: str
    provider: str
    protect: bool
    retain_on_delete: bool
    ignore_changes: tuple[str, ...]
    dependencies: tuple[str, ...]
    aliases: int


@dataclass
class ProgramRun:
    stack: str
    resources: list[Registration]
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str, type_: str | None = None) -> Registration:
        """The one resource with this logical name (custom resources first: a component shares its name)."""
        matches = [r for r in self.resources if r.name == name and (type_ or r.type) == r.type]
        if len(matches) > 1:
            matches = [r for r in matches if r.type.startswith(("aws:", "pulumi:"))]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]

    def by_urn(self, urn: str) -> Registration:
        return next(r for r in self.resources if r.urn == urn)


# The service and ARN shape of each resource type the program declares; ids/ARNs the mocks make up.
_ARN_SHAPES: dict[str, str] = {
    "aws:dynamodb/table:Table": "arn:aws:dynamodb:{region}:{account}:table/{name}",
    "aws:sqs/queue:Queue": "arn:aws:sqs:{region}:{account}:{name}",
    "aws:lambda/function:Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "aws:lambda/layerVersion:LayerVersion": "arn:aws:lambda:{region}:{account}:layer:{name}:1",
    "aws:sfn/stateMachine:StateMachine": "arn:aws:states:{region}:{account}:stateMachine:{name}",
    "aws:cloudwatch/eventBus:EventBus": "arn:aws:events:{region}:{account}:event-bus/{name}",
    "aws:cloudwatch/eventRule:EventRule": "arn:aws:events:{region}:{account}:rule/{bus}/{name}",
    "aws:cloudwatch/logGroup:LogGroup": "arn:aws:logs:{region}:{account}:log-group:{name}",
    "aws:iam/role:Role": "arn:aws:iam::{account}:role/{name}",
    "aws:sns/topic:Topic": "arn:aws:sns:{region}:{account}:{name}",
    "aws:kms/key:Key": "arn:aws:kms:{region}:{account}:key/{name}",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
    "aws:cloudwatch/eventConnection:EventConnection": "arn:aws:events:{region}:{account}:connection/{name}/1",
    "aws:cloudwatch/eventApiDestination:EventApiDestination": (
        "arn:aws:events:{region}:{account}:api-destination/{name}/1"
    ),
}
# Input that carries the physical name, where it is not `name`.
NAME_INPUTS: dict[str, str] = {
    "aws:lambda/layerVersion:LayerVersion": "layerName",
    "aws:cloudwatch/dashboard:Dashboard": "dashboardName",
}


def _rest_api_state(region: str, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    execution_arn = f"arn:aws:execute-api:{region}:{ACCOUNT_ID}:{id_}"
    return {"id": id_, "rootResourceId": f"{id_}-root", "executionArn": execution_arn}


def _stage_state(region: str, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    api, stage = inputs["restApi"], inputs["stageName"]
    return {
        "id": f"ags-{api}-{stage}",
        "invokeUrl": f"https://{api}.execute-api.{region}.amazonaws.com/{stage}",
        "executionArn": f"arn:aws:execute-api:{region}:{ACCOUNT_ID}:{api}/{stage}",
        "arn": f"arn:aws:apigateway:{region}::/restapis/{api}/stages/{stage}",
    }


def _user_pool_state(region: str, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    pool = f"{region}_{id_[:9]}"
    return {
        "id": pool,
        "arn": f"arn:aws:cognito-idp:{region}:{ACCOUNT_ID}:userpool/{pool}",
        "endpoint": f"cognito-idp.{region}.amazonaws.com/{pool}",
    }


# Ids and ARNs of the front-door types, shaped as AWS shapes them (the program reads them back).
_FRONT_DOOR_STATE: dict[str, Callable[[str, str, Mapping[str, Any]], dict[str, Any]]] = {
    "aws:apigateway/restApi:RestApi": _rest_api_state,
    "aws:apigateway/stage:Stage": _stage_state,
    "aws:cognito/userPool:UserPool": _user_pool_state,
    "aws:cognito/identityPool:IdentityPool": lambda region, id_, _: {
        "id": f"{region}:{id_}",
        "arn": f"arn:aws:cognito-identity:{region}:{ACCOUNT_ID}:identitypool/{region}:{id_}",
    },
    **{
        type_: (lambda region, id_, _: {"id": id_})
        for type_ in (
            "aws:apigateway/resource:Resource",
            "aws:apigateway/authorizer:Authorizer",
            "aws:apigateway/deployment:Deployment",
            "aws:cognito/userPoolClient:UserPoolClient",
        )
    },
}


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers like the provider would: autonames, ids and ARNs; `call` answers the data sources we use."""

    def __init__(self, region: str, account_id: str = ACCOUNT_ID):
        self.region = region
        self.account_id = account_id

    @staticmethod
    def _seed(args: pulumi.runtime.MockResourceArgs) -> str:
        """What a made-up name or id derives from: two projects' stacks of one name never share one."""
        return f"{pulumi.get_project()}:{pulumi.get_stack()}:{args.typ}:{args.name}"

    def physical_name(self, args: pulumi.runtime.MockResourceArgs) -> str:
        key = NAME_INPUTS.get(args.typ, "name")
        if args.inputs.get(key):
            return args.inputs[key]
        # Like Pulumi's random suffix: differs between stacks, stable between runs of one stack.
        suffix = hashlib.sha256(self._seed(args).encode()).hexdigest()[:7]
        prefix = args.inputs.get("namePrefix")
        return f"{prefix}{suffix}" if prefix else f"{args.name}-{suffix}"

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        name = self.physical_name(args)
        state = dict(args.inputs)
        state.setdefault(NAME_INPUTS.get(args.typ, "name"), name)
        shape = _ARN_SHAPES.get(args.typ)
        if shape:
            bus = args.inputs.get("eventBusName") or "default"
            state["arn"] = shape.format(region=self.region, account=ACCOUNT_ID, name=name, bus=bus)
        if args.typ == "aws:sqs/queue:Queue":
            state["url"] = f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT_ID}/{name}"
            return state["url"], state
        if args.typ == "aws:dynamodb/table:Table" and args.inputs.get("streamEnabled"):
            state["streamArn"] = f"{state['arn']}/stream/2026-01-01T00:00:00.000"
        if args.typ in _FRONT_DOOR_STATE:
            resource_id = hashlib.sha256(self._seed(args).encode()).hexdigest()
            state.update(_FRONT_DOOR_STATE[args.typ](self.region, resource_id[:10], args.inputs))
            return state["id"], state
        if args.typ == "aws:lambda/function:Function":
            state["invokeArn"] = (
                f"arn:aws:apigateway:{self.region}:lambda:path/2015-03-31/functions/"
                f"{state['arn']}/invocations"
            )
        return state.get("arn", name), state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            account = self.account_id
            return {"accountId": account, "arn": f"arn:aws:iam::{account}:user/test", "userId": "test"}
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}
        if args.token == "aws:iot/getEndpoint:getEndpoint":
            # Stable per stack, as an account's endpoint is (moto would answer a new host every call).
            prefix = hashlib.sha256(f"{pulumi.get_stack()}:iot".encode()).hexdigest()[:14]
            address = f"{prefix}-ats.iot.{self.region}.amazonaws.com"
            return {"endpointAddress": address, "endpointType": "iot:Data-ATS", "id": self.region}
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com"}
        raise NotImplementedError(f"the mocks do not answer {args.token}")


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Keeps the resource options that `MockResourceArgs` leaves out (protect, retain_on_delete, ...),
    and the event loop each worker thread that called it was given (`close_thread_loops`)."""

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self._thread_loops: set[asyncio.AbstractEventLoop] = set()
        self._loops_lock = threading.Lock()

    def _note_thread_loop(self) -> None:
        if threading.current_thread() is threading.main_thread():
            return  # the program's own loop, closed by `run`
        with contextlib.suppress(RuntimeError):  # no loop: the call never needed one
            loop = asyncio.get_event_loop()
            with self._loops_lock:
                self._thread_loops.add(loop)

    def close_thread_loops(self) -> int:
        """Close the loops the mock monitor gave its worker threads (``_ensure_event_loop``), once those
        threads are gone; returns how many. Left open, each was finalised by the garbage collector
        together with its self-pipe sockets in no set order, and a loop finalised after its sockets
        unregistered file descriptor -1 from its selector (``ValueError: Invalid file descriptor: -1``)."""
        with self._loops_lock:
            loops, self._thread_loops = self._thread_loops, set()
        for loop in loops:
            if not loop.is_closed() and not loop.is_running():
                loop.close()
        return len(loops)

    def Invoke(self, request):  # the gRPC method name
        try:
            return super().Invoke(request)
        finally:
            self._note_thread_loop()

    def ReadResource(self, request):  # the gRPC method name
        try:
            return super().ReadResource(request)
        finally:
            self._note_thread_loop()

    def RegisterResource(self, request):  # the gRPC method name
        try:
            return self._register(request)
        finally:
            self._note_thread_loop()

    def _register(self, request):
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        registered = self.resources[response.urn]
        inputs = pulumi.runtime.rpc.deserialize_properties(request.object)
        self.registrations.append(
            Registration(
                type=request.type,
                name=request.name,
                urn=response.urn,
                id=registered.id,
                inputs=inputs,
                state=dict(registered.state),
                parent=request.parent,
                provider=request.provider,
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                ignore_changes=tuple(request.ignoreChanges),
                dependencies=tuple(request.dependencies),
                aliases=len(request.aliases) + len(request.aliasURNs),
            )
        )
        return response


def _no_stack_trace() -> Any:
    from pulumi.runtime.proto import source_pb2

    return source_pb2.StackTrace()


def run(
    stack: str,
    program: Callable[[], Any] | None = None,
    *,
    config: Mapping[str, str] | None = None,
    mocks: pulumi.runtime.Mocks | None = None,
    repo: Path = REPO_ROOT,
    secrets: Mapping[str, str] | None = None,
) -> ProgramRun:
    """Evaluate `program` (default: the project's `__main__.py`, the project being the folder `repo`)
    for `stack` and return what it declared.

    `config` overrides single keys (fully qualified, e.g. ``{"serverlesspresso:capacity": "3"}``);
    `secrets` are keys set as secrets, as `pulumi config set --secret` would (e.g. the partner's API key).
    """
    values = stack_config(stack, repo)
    values.update(config or {})
    values.update(secrets or {})
    region = values.get("aws:region", "us-east-1")
    mocks = mocks or RecordingMocks(region)
    monitor = RecordingMonitor(mocks)
    loop = asyncio.new_event_loop()
    # The SDK calls the monitor on the loop's default executor; an executor of our own can be waited
    # for, so the loops its threads were given are closed only once no thread can use them.
    executor = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="pulumi-mocks")
    loop.set_default_executor(executor)
    asyncio.set_event_loop(loop)
    # The SDK walks (and reads the source of) the whole Python stack for every resource, to tell the
    # engine where it was declared; a mock monitor discards that, and it was a quarter of a run's time.
    saved_stack_trace = pulumi_resource._get_stack_trace
    pulumi_resource._get_stack_trace = _no_stack_trace
    try:
        pulumi.runtime.set_all_config(values, list(secrets or {}))
        pulumi.runtime.set_mocks(
            mocks, project=project_name(repo), stack=stack, preview=False, monitor=monitor
        )
        if program is None:
            runpy.run_path(str(repo / "__main__.py"), run_name="__pulumi__")
        else:
            program()
        loop.run_until_complete(pulumi.runtime.stack.wait_for_rpcs())
        root = pulumi_settings.get_root_resource()
        outputs = {
            key: loop.run_until_complete(pulumi.Output.from_input(value).future())
            for key, value in (getattr(root, "outputs", None) or {}).items()
        }
        return ProgramRun(stack=stack, resources=list(monitor.registrations), outputs=outputs)
    finally:
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        pulumi_resource._get_stack_trace = saved_stack_trace
        pulumi_settings.reset_options()
        pulumi.runtime.set_all_config({}, [])
        asyncio.set_event_loop(None)
        loop.close()
        executor.shutdown(wait=True)
        monitor.close_thread_loops()
