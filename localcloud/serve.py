"""`python -m localcloud serve`: the stack deployed into the emulator and served on 127.0.0.1.

Two HTTP servers run beside the emulator, both on werkzeug's threaded server:
- the REST APIs, each at ``http://127.0.0.1:<port>/<apiId>/<stage>/`` (`localcloud.emulator.apigateway`
  executes them: authorizer, mapping templates, integrations);
- an AWS endpoint for boto3 or the AWS CLI (``--endpoint-url``): moto's server mode, sharing the same
  in-process state, so a client signs in with Cognito there and calls the APIs with the access token.

Beside the APIs, ``<iotFeed><topic>`` (``iotFeed`` = ``http://127.0.0.1:<port>/iot/``) streams what the
apps would receive on an IoT topic as server-sent events: one ``data:`` line per message, the published
``{type, detail}`` JSON (``?replay=1`` first sends what the topic already had). Three users are created in
the stack's user pool (the admin and the barista in the `admin` group), and everything a client needs is
written, once it is all ready, to the outputs file. ``--project fulfillment`` serves the order fulfillment
instead: its Producer API is open (SYSTEM §9), so there is no user pool and no users.
"""

from __future__ import annotations

import argparse
import json
import logging
import queue
import re
import secrets
import shutil
import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from localcloud.stack_options import checked_config, project_argument, secret_overrides, stack_argument

HOST = "127.0.0.1"
IOT_FEED_PATH = "/iot"
KEEPALIVE_SECONDS = 15
USERS = {"admin": ("admin",), "barista": ("admin",), "customer": ()}
EXECUTE_API = re.compile(r"^https://(?P<api>[^.]+)\.execute-api\.[^/]+/(?P<stage>[^/]+)/?$")


@dataclass(frozen=True)
class User:
    email: str
    password: str

    def as_json(self) -> dict[str, str]:
        return {"email": self.email, "password": self.password}


class FrontDoor:
    """The two servers of one served stack, and its IoT device gateway (None without mosquitto);
    `local_url` maps an API's AWS URL to its local one."""

    def __init__(self, api_server: BaseWSGIServer, aws_server: BaseWSGIServer, gateway: Any = None):
        self._api_server = api_server
        self._aws_server = aws_server
        self.gateway = gateway
        self.api_base = f"http://{HOST}:{api_server.server_port}/"
        self.iot_feed = f"{self.api_base}{IOT_FEED_PATH.strip('/')}/"
        self.journey = f"{self.api_base}{JOURNEY_PATH.strip('/')}/"
        self.aws_endpoint = f"http://{HOST}:{aws_server.server_port}"

    def local_url(self, url: str) -> str:
        match = EXECUTE_API.match(url)
        if match is None:
            raise ValueError(f"{url!r} is not an API Gateway stage URL")
        return f"{self.api_base}{match['api']}/{match['stage']}/"

    def outputs(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        """The stack's outputs with every API endpoint replaced by its local URL, and the IoT ``host`` by
        the device gateway's ``127.0.0.1:<port>``."""
        local = {
            key: self.local_url(value) if isinstance(value, str) and EXECUTE_API.match(value) else value
            for key, value in outputs.items()
        }
        if self.gateway is not None and "host" in local:
            local["host"] = self.gateway.address
        return local


def _event(message: Any) -> bytes:
    return f"data: {json.dumps(message.payload, separators=(',', ':'))}\n\n".encode()


def iot_feed_app(stopped: threading.Event) -> Any:
    """WSGI app: ``/<topic>`` streams the topic's messages as server-sent events until the client or the
    server goes away."""
    from localcloud.emulator import iot

    @Request.application
    def feed(request: Request) -> Response:
        topic = request.path.strip("/")
        if not topic:
            topics = sorted({message.topic for message in iot.published()})
            return Response(json.dumps(topics), content_type="application/json")
        arrived: queue.Queue[Any] = queue.Queue()
        unsubscribe = iot.subscribe(lambda message: message.topic == topic and arrived.put(message))
        backlog = iot.published(topic) if request.args.get("replay") else []
        seen = backlog[-1].sequence if backlog else -1

        def stream() -> Iterator[bytes]:
            try:
                yield b": serverlesspresso " + topic.encode() + b"\n\n"
                yield from (_event(message) for message in backlog)
                idle = 0.0
                while not stopped.is_set():
                    try:
                        message = arrived.get(timeout=0.5)
                    except queue.Empty:
                        idle += 0.5
                        if idle >= KEEPALIVE_SECONDS:
                            idle = 0.0
                            yield b": keepalive\n\n"
                        continue
                    idle = 0.0
                    if message.sequence > seen:
                        yield _event(message)
            finally:
                unsubscribe()

        return Response(
            stream(),
            content_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"},
            direct_passthrough=True,
        )

    return feed


JOURNEY_PATH = "/journey"
STAFF_GROUP = "admin"


def journey_app(outputs: Mapping[str, Any]) -> Any:
    """WSGI app: ``/<orderId>`` answers that order's journey (`localcloud.journey`) to the staff alone: an
    access token of the `admin` group in ``Authorization`` (``Bearer`` or raw). HTML, or JSON when the
    request accepts ``application/json``; 401 without a valid token, 403 for anyone else, 404 for an
    order with no event."""
    import boto3

    from localcloud import journey
    from localcloud.emulator import cognito

    region = str(outputs.get("region") or "us-east-1")
    pool_id, group = str(outputs.get("userPoolId", "")), str(outputs.get("allEventsLogGroup", ""))

    @Request.application
    def answer(request: Request) -> Response:
        order_id = request.path.strip("/")
        token = (request.headers.get("Authorization") or "").strip()
        token = token[7:].strip() if token[:7].lower() == "bearer " else token
        account = boto3.client("sts", region_name=region).get_caller_identity()["Account"]
        try:
            claims = cognito.verify_token(
                token, [f"arn:aws:cognito-idp:{region}:{account}:userpool/{pool_id}"]
            )
        except cognito.InvalidToken:
            return _json_answer(401, {"message": "Unauthorized"})
        groups = claims.get("cognito:groups") or []
        if claims.get("token_use") != "access" or STAFF_GROUP not in groups:
            return _json_answer(403, {"message": "Only the admin group may read an order's journey"})
        steps = journey.steps(journey.log_events(boto3.client("logs", region_name=region), group), order_id)
        if not order_id or not steps:
            return _json_answer(404, {"message": f"No event of order {order_id!r} in {group}"})
        if request.accept_mimetypes.best == "application/json":
            return _json_answer(200, {"orderId": order_id, "steps": [step.__dict__ for step in steps]})
        return Response(journey.page(order_id, steps), content_type="text/html; charset=utf-8")

    return answer


def _json_answer(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


SHUTDOWN_POLL_SECONDS = 0.05  # how often a server's loop looks for a shutdown (the library's: 0.5 s)


@contextmanager
def _served(server: BaseWSGIServer, name: str) -> Iterator[BaseWSGIServer]:
    """``server`` answering on its own thread until the block ends, then shut down (werkzeug's loop
    closes the socket as it ends)."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS}, name=name, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join()


@contextmanager
def serving(
    api_port: int = 0, aws_port: int = 0, outputs: Mapping[str, Any] | None = None
) -> Iterator[FrontDoor]:
    """Serve the emulator's REST APIs and an AWS endpoint on 127.0.0.1 (port 0: any free port); with the
    shop's `outputs`, also each order's journey for the staff at ``/journey/<orderId>``."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    from localcloud.emulator.apigateway import rest_api_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # moto's server mode, as its ThreadedMotoServer builds it, on a loop that stops within 50 ms: with
    # the library's half-second poll every served stack took up to a second to shut down.
    aws_app = DomainDispatcherApplication(create_backend_app)
    aws = make_server(HOST, aws_port, aws_app, threaded=True, request_handler=MotoRequestHandler)
    stopped = threading.Event()
    mounts = {IOT_FEED_PATH: iot_feed_app(stopped)}
    if outputs and "userPoolId" in outputs:
        mounts[JOURNEY_PATH] = journey_app(outputs)
    app = DispatcherMiddleware(rest_api_app(), mounts)
    api = make_server(HOST, api_port, app, threaded=True)
    try:  # started last: nothing that could still fail leaves a broker process behind
        gateway = _device_gateway() if outputs and "userPoolId" in outputs else None
    except BaseException:
        aws.server_close()
        api.server_close()
        raise
    try:
        with _served(aws, "localcloud-aws-endpoint"), _served(api, "localcloud-rest-apis"):
            try:
                yield FrontDoor(api, aws, gateway)
            finally:
                stopped.set()  # ends the IoT feeds' streams before the API server waits for its requests
    finally:
        if gateway is not None:
            gateway.stop()


MOSQUITTO = ("mosquitto", "/usr/sbin/mosquitto")


def mosquitto() -> str | None:
    """Debian's mosquitto (``/usr/sbin`` is not on every user's PATH)."""
    return next((found for name in MOSQUITTO if (found := shutil.which(name))), None)


def _device_gateway() -> Any:
    """The IoT device gateway in front of mosquitto; None (the apps' realtime is then off) without it."""
    from localcloud.emulator.iot import DeviceGateway

    executable = mosquitto()
    if executable is None:
        logging.getLogger(__name__).warning(
            "No mosquitto: no app can connect to IoT (apt-get install mosquitto); the SSE feed still runs"
        )
        return None
    return DeviceGateway(executable)


def create_users(user_pool_id: str, domain: str = "serverlesspresso.local") -> dict[str, User]:
    """The admin, the barista (both staff: the `admin` group) and a customer, each with a fresh password."""
    from localcloud.emulator.cognito import create_user

    users = {}
    for role, groups in USERS.items():
        user = User(f"{role}@{domain}", secrets.token_urlsafe(12))
        create_user(user_pool_id, user.email, user.password, groups)
        users[role] = user
    return users


def settings_document(outputs: Mapping[str, Any], front: FrontDoor, users: Mapping[str, User]) -> dict:
    """What the outputs file holds: scripts may rely on these keys. With the device gateway,
    ``iotCertificate`` is the file of its self-signed certificate (what a client trusts) and
    ``iotCertificateSpki`` its public key's SHA-256 (Chromium's ``--ignore-certificate-errors-spki-list``)."""
    document = {
        "outputs": front.outputs(outputs),
        "awsEndpoint": front.aws_endpoint,
        "iotFeed": front.iot_feed,
        "journey": front.journey,
        "users": {role: user.as_json() for role, user in users.items()},
    }
    if front.gateway is not None:
        document["iotCertificate"] = str(front.gateway.certificate)
        document["iotCertificateSpki"] = front.gateway.spki_sha256
    return document


def add_arguments(parser: argparse.ArgumentParser) -> None:
    stack_argument(parser)
    project_argument(parser)
    parser.add_argument("--port", type=int, default=4510, help="port of the REST APIs (0: any free port)")
    parser.add_argument(
        "--aws-port", type=int, default=None, help="port of the AWS endpoint (default: --port + 1; 0: any)"
    )
    parser.add_argument("--outputs-file", type=Path, help="write outputs, endpoint and users here when ready")


def command(args: argparse.Namespace, console: Any) -> int:
    from localcloud.cloud import LocalCloud

    for name, port in (("--port", args.port), ("--aws-port", args.aws_port)):
        if port is not None and not 0 <= port <= 65535:
            raise SystemExit(f"{name} must be a port from 0 to 65535, got {port}")
    aws_port = args.aws_port if args.aws_port is not None else (args.port + 1 if args.port else 0)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with (
        LocalCloud.running(
            args.stack,
            checked_config(args.config, args.stack, repo=args.project),
            repo=args.project,
            secrets=secret_overrides(args.secret),
        ) as cloud,
        serving(args.port, aws_port, cloud.outputs) as front,
    ):
        has_apps = "userPoolId" in cloud.outputs  # the shop's front door; the fulfillment API is open
        users = create_users(cloud.outputs["userPoolId"]) if has_apps else {}
        document = settings_document(cloud.outputs, front, users)
        for key, url in document["outputs"].items():
            if isinstance(url, str) and url.startswith(front.api_base):
                console.print(f"{key}: {url}")
        console.print(f"AWS endpoint (boto3 / aws --endpoint-url): {front.aws_endpoint}")
        if has_apps:
            if front.gateway is not None:
                console.print(f"IoT (MQTT over wss, SigV4): wss://{front.gateway.address}/mqtt")
            console.print(f"IoT topics as server-sent events: curl -N {front.iot_feed}serverlesspresso-admin")
            console.print(f"An order's journey (staff token): {front.journey}<orderId>")
        for role, user in users.items():
            console.print(f"user {role}: {user.email} / {user.password}")
        if args.outputs_file:
            temporary = args.outputs_file.with_name(args.outputs_file.name + ".tmp")
            temporary.write_text(json.dumps(document, indent=2))
            temporary.replace(args.outputs_file)  # appears whole, never half-written
            console.print(f"outputs written to {args.outputs_file}")
        console.print(f"Serving stack {args.stack!r}; Ctrl-C or SIGTERM stops it.")
        stop.wait()
        console.print("Stopping.")
    return 0
