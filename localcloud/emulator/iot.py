"""IoT: the data plane the functions publish to, and the device gateway the apps connect to.

Gaps closed:
1. An account's ATS endpoint (``<prefix>-ats.iot.<region>.amazonaws.com``, what ``aws:iot/getEndpoint``
   answers the program) was not a host moto answers, so ``iot-data`` clients built on it got 404; it is
   routed to moto's IoT data plane now.
2. Every ``Publish`` is recorded in order with its topic and parsed payload (`published`), and handed to
   the listeners (`subscribe`) — how `serve` streams each topic to HTTP clients.
3. Who may do what (`is_allowed`), as AWS IoT decides for a Cognito identity: the role's IAM policies
   (inline and managed) must allow; a signed-in identity also needs an IoT policy attached to its identity
   id that allows (cog-iot-policies.html, pub-sub-policy.html); ``*`` and ``?`` are the policies'
   wildcards, MQTT's ``+`` and ``#`` plain characters; the policy variables of a Cognito identity and
   ``iot:ClientId`` are substituted. moto's own evaluator is not used: it does not escape regex characters
   (``+``, ``.``) and denies when an Allow's condition fails.
4. The device gateway (`DeviceGateway`, started by `serve`): MQTT 3.1.1 over secure WebSockets on
   127.0.0.1 with a certificate made at start, in front of Debian's mosquitto (the broker: sessions,
   routing, QoS). A connection is admitted from a SigV4-signed URL (service ``iotdevicegateway``, the
   session token appended after signing) whose credentials an identity pool issued and that have not
   expired: else HTTP 403. Then Connect, Subscribe and Publish are decided per packet and a refusal
   closes the connection (AWS does so for MQTT 3.1.1: its docs give no SUBACK failure code for 3.1.1, and
   its engineers describe the close); a message the identity may not receive is not delivered.
   ``DescribeEndpoint`` (``iot:Data-ATS``) answers the gateway's ``127.0.0.1:<port>`` while it runs.

Not modelled: MQTT 5 (refused), retained messages, persistent sessions across gateway restarts, IoT's
24-hour connection limit, and what happens to a live connection when its credentials expire (AWS does not
document it; the gateway checks them at the upgrade only). Policy conditions are not evaluated (see
`decision`).
"""

from __future__ import annotations

import asyncio
import base64
import calendar
import dataclasses
import getpass
import hashlib
import hmac
import json
import math
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

ATS_HOST = r"https?://[a-z0-9]+-ats\.iot\.(.+)\.amazonaws\.com"
METERED_BYTES = 5 * 1024


@dataclass(frozen=True)
class Message:
    """One publish: its topic and its payload (parsed JSON when it is JSON, else text)."""

    sequence: int
    topic: str
    payload: Any
    raw: bytes = b""


Listener = Callable[[Message], None]
_lock = threading.Lock()
_messages: list[Message] = []
_listeners: list[Listener] = []


def install() -> None:
    import moto.iotdata.urls as urls
    from moto import backend_index
    from moto.iotdata.models import IoTDataPlaneBackend

    if ATS_HOST not in urls.url_bases:
        urls.url_bases.append(ATS_HOST)
        backend_index.backend_url_patterns.append(("iotdata", re.compile(ATS_HOST)))
    original = IoTDataPlaneBackend.publish

    def publish(self: Any, topic: str, payload: bytes) -> None:
        original(self, topic, payload)
        _record(topic, payload)

    IoTDataPlaneBackend.publish = publish
    _patch_describe_endpoint()


def _patch_describe_endpoint() -> None:
    from moto.iot.models import IoTBackend

    original = IoTBackend.describe_endpoint
    if getattr(original, "localcloud", False):
        return

    def describe_endpoint(self: Any, endpoint_type: str) -> Any:
        endpoint = original(self, endpoint_type)
        if endpoint_type == "iot:Data-ATS" and _gateway_address:
            endpoint.endpoint = _gateway_address
        return endpoint

    describe_endpoint.localcloud = True  # type: ignore[attr-defined]
    IoTBackend.describe_endpoint = describe_endpoint


def _record(topic: str, payload: bytes) -> None:
    raw = payload if isinstance(payload, bytes) else str(payload).encode()
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = text
    with _lock:
        message = Message(len(_messages), topic, parsed, raw)
        _messages.append(message)
        listeners = list(_listeners)
    for listener in listeners:
        listener(message)


def published(topic: str | None = None) -> list[Message]:
    """Every message published since the emulator started (of one topic), oldest first."""
    with _lock:
        return [m for m in _messages if topic is None or m.topic == topic]


def usage() -> dict[str, int]:
    """Publishes so far, and how IoT Core meters them: one message per started 5 KB of payload."""
    with _lock:
        sizes = [len(json.dumps(m.payload).encode()) for m in _messages]
    return {
        "messages": len(sizes),
        "billed_messages": sum(max(1, math.ceil(size / METERED_BYTES)) for size in sizes),
    }


def subscribe(listener: Listener) -> Callable[[], None]:
    """Call `listener` with every later message; returns the function that unsubscribes it."""
    with _lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def shutdown() -> None:
    """The emulator session ended: its messages go with it."""
    with _lock:
        _messages.clear()


# --------------------------------------------------------------------------- gap 3: who may do what


def _documents(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, (str, bytes)) else dict(value)


def role_policies(role_arn: str) -> list[dict[str, Any]]:
    """The IAM policies of a role, inline and managed (its default version)."""
    from moto.iam.models import iam_backends

    account = role_arn.split(":")[4]
    partition = role_arn.split(":")[1]
    role = iam_backends[account][partition].get_role_by_arn(role_arn)
    documents = [_documents(document) for document in role.policies.values()]
    for policy in role.managed_policies.values():
        documents.append(_documents(next(v.document for v in policy.versions if v.is_default)))
    return documents


def attached_iot_policies(region: str, account: str, target: str) -> list[dict[str, Any]]:
    """The IoT policies attached to a principal (a Cognito identity id), as AttachPolicy recorded them."""
    from moto.iot.models import iot_backends

    backend = iot_backends[account][region]
    return [
        _documents(policy.document)
        for (principal, _), (_, policy) in backend.principal_policies.items()
        if principal == target
    ]


_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _pattern(text: str, variables: Mapping[str, str]) -> re.Pattern[str] | None:
    """A policy's ARN pattern as a regex: ``*`` any run of characters, ``?`` one, policy variables
    substituted; MQTT's ``+`` and ``#`` are plain characters here (pub-sub-policy.html). None when a variable
    has no value for this request (the statement then does not apply)."""
    parts: list[str] = []
    position = 0
    for match in _VARIABLE.finditer(text):
        parts.append(_glob(text[position : match.start()]))
        name = match.group(1)
        literal = {"*": "*", "?": "?", "$": "$"}.get(name)
        value = literal if literal is not None else variables.get(name)
        if value is None:
            return None
        parts.append(re.escape(value))
        position = match.end()
    parts.append(_glob(text[position:]))
    return re.compile("".join(parts), re.DOTALL)


def _glob(text: str) -> str:
    return "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in text)


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _applies(statement: Mapping[str, Any], action: str, resource: str, variables: Mapping[str, str]) -> bool:
    def acts(pattern: str) -> bool:
        return re.fullmatch(_glob(pattern), action, re.IGNORECASE) is not None

    if "Action" in statement:
        if not any(acts(a) for a in _listed(statement["Action"])):
            return False
    elif any(acts(a) for a in _listed(statement.get("NotAction"))):
        return False
    patterns = [
        _pattern(r, variables) for r in _listed(statement.get("Resource") or statement.get("NotResource"))
    ]
    hit = any(p is not None and p.fullmatch(resource) for p in patterns)
    return hit if "Resource" in statement else not hit


def decision(
    documents: list[dict[str, Any]], action: str, resource: str, variables: Mapping[str, str]
) -> str:
    """``allow``, ``deny`` (an explicit Deny) or ``none`` (nothing allows it), as IAM evaluates policies.
    Conditions are not evaluated here: an Allow with a ``Condition`` allows nothing, a Deny with one denies
    (stricter than AWS can be, never looser)."""
    allowed = False
    for document in documents:
        for statement in _listed_statements(document):
            if not _applies(statement, action, resource, variables):
                continue
            if statement.get("Effect") == "Deny":
                return "deny"
            if statement.get("Effect") == "Allow" and not statement.get("Condition"):
                allowed = True
    return "allow" if allowed else "none"


def _listed_statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


@dataclass(frozen=True)
class Principal:
    """Who a device-gateway connection is: the identity its credentials were issued to."""

    identity_id: str
    identity_pool_id: str
    role_arn: str
    authenticated: bool
    region: str
    account: str
    client_id: str = ""


def is_allowed(principal: Principal, action: str, resource: str) -> bool:
    """AWS IoT's decision for a Cognito identity: its role's IAM policies must allow; a signed-in
    identity also needs an attached IoT policy that allows (both must, cog-iot-policies.html); a guest is
    decided by its role alone (pub-sub-policy.html)."""
    variables = {
        "cognito-identity.amazonaws.com:sub": principal.identity_id,
        "cognito-identity.amazonaws.com:aud": principal.identity_pool_id,
        "iot:ClientId": principal.client_id,
    }
    arn = f"arn:aws:iot:{principal.region}:{principal.account}:{resource}"
    if decision(role_policies(principal.role_arn), action, arn, variables) != "allow":
        return False
    if not principal.authenticated:
        return True
    attached = attached_iot_policies(principal.region, principal.account, principal.identity_id)
    return decision(attached, action, arn, variables) == "allow"


# --------------------------------------------------------------------------- gap 4: the device gateway

MQTT_PATH = "/mqtt"
SUBPROTOCOLS = ("mqttv3.1", "mqtt")  # what AWS's SDKs offer for MQTT 3.1.1 and 5
SIGNING_SERVICE = "iotdevicegateway"
SIGNATURE_WINDOW_SECONDS = 15 * 60  # SigV4's allowed clock difference
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MQTT_3_1_1 = 4
BRIDGE_QOS = 1  # the publishers' QoS (functions/publish_to_apps)
CONNECT, PUBLISH, PUBACK, SUBSCRIBE = 1, 3, 4, 8


class Refused(Exception):
    """The gateway refuses: at the WebSocket upgrade an HTTP status, later the connection is closed."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _uri_encode(text: str) -> str:
    return quote(text, safe="-_.~")


def _signing_key(secret: str, day: str, region: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (day, region, SIGNING_SERVICE, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def principal_of(target: str, headers: Mapping[str, str], now: float) -> Principal:
    """Who a ``GET /mqtt?<SigV4 query>`` upgrade is, from credentials an identity pool issued; `Refused`
    otherwise. As AWS IoT signs it: service ``iotdevicegateway``, the session token appended after signing
    (it is not part of the canonical query), the empty payload's hash."""
    url = urlsplit(target)
    if url.path != MQTT_PATH:
        raise Refused(404, f"no endpoint at {url.path}")
    pairs = parse_qsl(url.query, keep_blank_values=True)
    params = dict(pairs)
    needed = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature")
    if missing := [name for name in needed if not params.get(name)]:
        raise Refused(403, "The request is not signed: missing " + ", ".join(missing))
    if len(params) != len(pairs) or params["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
        raise Refused(403, "The request signature is malformed")
    scope = params["X-Amz-Credential"].split("/")
    if len(scope) != 5 or scope[3] != SIGNING_SERVICE or scope[4] != "aws4_request":
        raise Refused(403, f"Credential should be scoped to service '{SIGNING_SERVICE}'")
    access_key, day, region = scope[0], scope[1], scope[2]
    try:
        signed_at = calendar.timegm(time.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
    except ValueError as error:
        raise Refused(403, "X-Amz-Date is not a SigV4 date") from error
    if params["X-Amz-Date"][:8] != day:
        raise Refused(403, "Credential should be scoped to the day of X-Amz-Date")
    if abs(now - signed_at) > SIGNATURE_WINDOW_SECONDS:
        raise Refused(403, "Signature expired: X-Amz-Date is more than 15 minutes from now")
    expires = params.get("X-Amz-Expires")
    if expires is not None and (not expires.isdigit() or now > signed_at + int(expires)):
        raise Refused(403, "The signed URL expired (X-Amz-Expires)")
    from localcloud.emulator import cognito

    issued = cognito.issued_credentials(access_key)
    if issued is None:
        raise Refused(403, "The security token included in the request is invalid")
    if params.get("X-Amz-Security-Token") != issued.session_token:
        raise Refused(403, "The security token included in the request is invalid")
    if issued.expires_at <= now:
        raise Refused(403, "The security token included in the request is expired")
    signed_headers = params["X-Amz-SignedHeaders"].split(";")
    lowered = {name.lower(): value for name, value in headers.items()}
    if "host" not in signed_headers or any(name not in lowered for name in signed_headers):
        raise Refused(403, "The host header must be signed")
    query = sorted(
        (_uri_encode(k), _uri_encode(v))
        for k, v in pairs
        if k not in ("X-Amz-Signature", "X-Amz-Security-Token")
    )
    canonical = "\n".join(
        [
            "GET",
            MQTT_PATH,
            "&".join(f"{k}={v}" for k, v in query),
            "".join(f"{name}:{' '.join(lowered[name].split())}\n" for name in signed_headers),
            ";".join(signed_headers),
            EMPTY_SHA256,
        ]
    )
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            params["X-Amz-Date"],
            f"{day}/{region}/{SIGNING_SERVICE}/aws4_request",
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    expected = hmac.new(
        _signing_key(issued.secret_key, day, region), to_sign.encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
        raise Refused(403, "The request signature we calculated does not match the signature you provided")
    return Principal(
        identity_id=issued.identity_id,
        identity_pool_id=issued.identity_pool_id,
        role_arn=issued.role_arn,
        authenticated=issued.authenticated,
        region=region,
        account=issued.role_arn.split(":")[4],
    )


# MQTT framing, only as far as deciding needs: packets are cut at their length and passed on unchanged;
# the protocol itself (sessions, QoS, keep-alive, routing) is the broker's.
def _packets(buffer: bytearray) -> Iterator[bytes]:
    """Take every complete MQTT packet off the front of ``buffer``."""
    while len(buffer) >= 2:
        length, multiplier, index = 0, 1, 1
        while True:
            if index >= len(buffer):
                return
            byte = buffer[index]
            length += (byte & 0x7F) * multiplier
            multiplier *= 128
            index += 1
            if not byte & 0x80:
                break
            if index > 4:
                raise Refused(400, "malformed MQTT remaining length")
        if len(buffer) < index + length:
            return
        packet = bytes(buffer[: index + length])
        del buffer[: index + length]
        yield packet


def _body(packet: bytes) -> bytes:
    index = 1
    while packet[index] & 0x80:
        index += 1
    return packet[index + 1 :]


def _string(data: bytes, offset: int) -> tuple[str, int]:
    if offset + 2 > len(data):
        raise Refused(400, "malformed MQTT string")
    size = int.from_bytes(data[offset : offset + 2], "big")
    if offset + 2 + size > len(data):
        raise Refused(400, "malformed MQTT string")
    return data[offset + 2 : offset + 2 + size].decode("utf-8"), offset + 2 + size


def connect_fields(packet: bytes) -> tuple[int, str]:
    """A CONNECT's protocol level and client id."""
    body = _body(packet)
    _, offset = _string(body, 0)
    if offset + 4 > len(body):
        raise Refused(400, "malformed CONNECT")
    return body[offset], _string(body, offset + 4)[0]


def subscribe_filters(packet: bytes) -> list[str]:
    body, offset, filters = _body(packet), 2, []
    while offset < len(body):
        topic_filter, offset = _string(body, offset)
        filters.append(topic_filter)
        offset += 1  # requested QoS
    return filters


def publish_topic(packet: bytes) -> str:
    return _string(_body(packet), 0)[0]


@dataclass
class Refusal:
    identity_id: str
    action: str
    resource: str


class Broker:
    """Debian's mosquitto on a free loopback port, MQTT over TCP, reached only through the gateway."""

    def __init__(self, executable: str, workdir: Path):
        self.port = _free_port()
        self.log = workdir / "mosquitto.log"
        config = workdir / "mosquitto.conf"
        lines = [
            f"listener {self.port} {HOST}",
            "allow_anonymous true",
            "persistence false",
            "max_qos 1",  # AWS IoT Core supports QoS 0 and 1
            f"log_dest file {self.log}",
            "log_type error",
            "log_type warning",
            f"user {getpass.getuser()}",  # as root mosquitto would switch users and lose its files
        ]
        config.write_text("\n".join(lines) + "\n")
        errors = workdir / "mosquitto.stderr"
        with errors.open("wb") as stderr:  # the child keeps its own handle
            self.process = subprocess.Popen(
                [executable, "-c", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
        deadline = time.monotonic() + BROKER_START_SECONDS
        while not _accepts(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                said = " ".join(p.read_text(errors="replace") for p in (self.log, errors) if p.exists())
                raise RuntimeError(f"mosquitto did not start: {said[-500:]}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


BROKER_START_SECONDS = 10
BROKER_START_ATTEMPTS = 3
HOST = "127.0.0.1"


def _started_broker(executable: str, workdir: Path) -> Broker:
    """A running broker: another process may take the free port between choosing it and mosquitto binding
    it, so a failed start is tried again on another port."""
    for attempt in range(1, BROKER_START_ATTEMPTS + 1):
        try:
            return Broker(executable, workdir)
        except RuntimeError:
            if attempt == BROKER_START_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((HOST, port)) == 0


def _certificate(workdir: Path) -> tuple[Path, Path, str]:
    """A self-signed certificate for 127.0.0.1 and localhost (a day long), its key, and its public key's
    SHA-256 in base64 (what Chromium's ``--ignore-certificate-errors-spki-list`` takes)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localcloud iot")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = workdir / "iot.pem", workdir / "iot.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return cert_file, key_file, base64.b64encode(hashlib.sha256(spki).digest()).decode()


class DeviceGateway:
    """AWS IoT's device gateway on 127.0.0.1: MQTT over secure WebSockets at ``wss://<address>/mqtt``.

    Each connection is admitted from its SigV4-signed URL (`principal_of`), then every packet the client
    sends is decided as AWS IoT decides it (`is_allowed`: Connect on its client id, Subscribe on each topic
    filter, Publish on the topic) and every message the broker delivers is checked for Receive (dropped
    when refused). A refusal closes the connection, as AWS does for MQTT 3.1.1 (it answers no SUBACK
    failure code there). Every IoT publish of the stack reaches the broker, at the publishers' QoS.
    """

    def __init__(self, mosquitto: str):
        import paho.mqtt.client as mqtt
        from websockets.asyncio.server import serve

        self._workdir = Path(tempfile.mkdtemp(prefix="localcloud-iot-"))
        self.refusals: list[Refusal] = []
        self.broker = _started_broker(mosquitto, self._workdir)
        try:
            self.certificate, key_file, self.spki_sha256 = _certificate(self._workdir)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.certificate, key_file)
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._loop.run_forever, name="localcloud-iot-gateway", daemon=True
            )
            self._thread.start()

            async def start() -> Any:
                return await serve(
                    self._connection,
                    HOST,
                    0,
                    ssl=context,
                    process_request=self._admit,
                    select_subprotocol=_subprotocol,
                    compression=None,
                )

            self._server = asyncio.run_coroutine_threadsafe(start(), self._loop).result(timeout=10)
            self.port = self._server.sockets[0].getsockname()[1]
            self.address = f"{HOST}:{self.port}"
            connected = threading.Event()
            self._bridge = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="localcloud-publisher")
            self._bridge.on_connect = lambda *_: connected.set()
            self._bridge.connect(HOST, self.broker.port)
            self._bridge.loop_start()
            if not connected.wait(BROKER_START_SECONDS):
                raise RuntimeError("the IoT bridge could not connect to mosquitto")
            self._unsubscribe = subscribe(
                lambda message: self._bridge.publish(message.topic, message.raw, BRIDGE_QOS)
            )
        except BaseException:
            self.stop()  # whatever started is stopped: no broker process outlives a failed start
            raise
        global _gateway_address
        _gateway_address = self.address

    def _admit(self, connection: Any, request: Any) -> Any:
        offered = [
            p.strip() for value in request.headers.get_all("Sec-WebSocket-Protocol") for p in value.split(",")
        ]
        try:
            if not set(offered) & set(SUBPROTOCOLS):
                raise Refused(400, "Sec-WebSocket-Protocol must offer mqtt or mqttv3.1")
            connection.localcloud_principal = principal_of(
                request.path, dict(request.headers.raw_items()), time.time()
            )
        except Refused as refused:
            return connection.respond(refused.status, f"{refused}\n")
        return None

    def _allowed(self, principal: Principal, action: str, resource: str) -> bool:
        if is_allowed(principal, action, resource):
            return True
        self.refusals.append(Refusal(principal.identity_id, action, resource))
        return False

    async def _connection(self, websocket: Any) -> None:
        principal: Principal = websocket.localcloud_principal
        reader, writer = await asyncio.open_connection(HOST, self.broker.port)

        async def from_client() -> None:
            nonlocal principal
            pending, connected = bytearray(), False
            async for frame in websocket:
                if isinstance(frame, str):
                    raise Refused(400, "MQTT travels in binary frames")
                pending.extend(frame)
                for packet in _packets(pending):
                    kind = packet[0] >> 4
                    if not connected:
                        if kind != CONNECT:
                            raise Refused(400, "the first packet must be CONNECT")
                        level, client_id = connect_fields(packet)
                        if level != MQTT_3_1_1:
                            raise Refused(400, f"MQTT protocol level {level}: only 3.1.1 is emulated")
                        principal = dataclasses.replace(principal, client_id=client_id)
                        if not self._allowed(principal, "iot:Connect", f"client/{client_id}"):
                            raise Refused(403, f"not allowed to connect as {client_id}")
                        connected = True
                    elif kind == CONNECT:
                        raise Refused(400, "a second CONNECT")
                    elif kind == SUBSCRIBE:
                        for topic_filter in subscribe_filters(packet):
                            if not self._allowed(principal, "iot:Subscribe", f"topicfilter/{topic_filter}"):
                                raise Refused(403, f"not allowed to subscribe to {topic_filter}")
                    elif kind == PUBLISH:
                        topic = publish_topic(packet)
                        if not self._allowed(principal, "iot:Publish", f"topic/{topic}"):
                            raise Refused(403, f"not allowed to publish to {topic}")
                    writer.write(packet)
                await writer.drain()

        async def from_broker() -> None:
            pending = bytearray()
            while data := await reader.read(65536):
                pending.extend(data)
                for packet in _packets(pending):
                    if packet[0] >> 4 == PUBLISH:
                        topic = publish_topic(packet)
                        if not self._allowed(principal, "iot:Receive", f"topic/{topic}"):
                            if (packet[0] >> 1) & 3 == 1:  # the broker still wants its QoS 1 acknowledged
                                packet_id = _body(packet)[2 + len(topic.encode()) : 4 + len(topic.encode())]
                                writer.write(bytes([PUBACK << 4, 2]) + packet_id)
                            continue
                    await websocket.send(packet)

        tasks = [asyncio.ensure_future(from_client()), asyncio.ensure_future(from_broker())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if isinstance(task.exception(), (Refused, UnicodeDecodeError)):
                    await websocket.close(1008, str(task.exception())[:120])
        finally:
            for task in tasks:
                task.cancel()
            writer.close()
            await websocket.close()

    def stop(self) -> None:
        global _gateway_address
        _gateway_address = None
        if hasattr(self, "_unsubscribe"):
            self._unsubscribe()
        if hasattr(self, "_bridge"):
            self._bridge.loop_stop()
            self._bridge.disconnect()
        if hasattr(self, "_server"):

            async def close() -> None:
                self._server.close()
                await self._server.wait_closed()

            asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        if hasattr(self, "_thread"):
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self.broker.stop()
        shutil.rmtree(self._workdir, ignore_errors=True)


def _subprotocol(connection: Any, offered: Sequence[str]) -> str | None:
    return next((protocol for protocol in offered if protocol in SUBPROTOCOLS), None)


_gateway_address: str | None = None


def gateway_address() -> str | None:
    """``127.0.0.1:<port>`` of the running device gateway (what DescribeEndpoint answers), if one runs."""
    return _gateway_address
