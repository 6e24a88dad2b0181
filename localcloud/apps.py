"""What the display, barista and customer apps do against a served stack (`localcloud.serve`): read its
settings, sign in against its AWS endpoint (Cognito's SRP sign-in, unsigned, as the browser SDK does)
and call the REST APIs over HTTP as the apps do: ``Authorization: Bearer <access token>`` and URLs built
as ``<endpoint><path>`` (the endpoint ends in ``/``, the path starts with one); and listen to the IoT
topics as the apps do: identity-pool credentials, then MQTT over a secure WebSocket to the ``host`` with a
SigV4-signed URL (`RealtimeClient`). The simulated day and the tests use it; it only ever talks to the
loopback addresses the settings name."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

SERVICES = {
    "config": "APIGWEndpointConfigService",
    "orders": "orderManagerEndpoint",
    "validator": "APIGWEndpointValidatorService",
}
TIMEOUT_SECONDS = 30
_connections = threading.local()


def _session() -> requests.Session:
    """This thread's HTTP session: its connections stay open between calls, as a browser keeps them.

    It ignores the environment's proxy settings and ``.netrc``: every address it calls is a loopback one,
    which an ``HTTP_PROXY`` without a matching ``NO_PROXY`` would otherwise send to the proxy (and
    reading the environment for them was a fiftieth of a simulated day's CPU)."""
    session = getattr(_connections, "session", None)
    if session is None:
        session = _connections.session = requests.Session()
        session.trust_env = False
    return session


def _cognito(
    settings: dict[str, Any], action: str, request: dict[str, Any], service: str = "idp"
) -> dict[str, Any]:
    """One unsigned Cognito call (user pool: ``idp``; identity pool: ``identity``) to the served AWS
    endpoint, as the browser SDK makes it."""
    target = {"idp": "AWSCognitoIdentityProviderService", "identity": "AWSCognitoIdentityService"}[service]
    answer = _session().post(
        settings["awsEndpoint"] + "/",
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"{target}.{action}"},
        data=json.dumps(request),
        timeout=TIMEOUT_SECONDS,
    )
    if answer.status_code != 200:
        raise SignInRefused(f"{action}: {answer.status_code} {answer.text}")
    return answer.json()


class SignInRefused(RuntimeError):
    """Cognito refused the sign-in (a wrong password is ``NotAuthorizedException``)."""


def sign_in(settings: dict[str, Any], email: str, password: str) -> dict[str, str]:
    """Sign in as the hosted apps do, with ``USER_SRP_AUTH``: the password never leaves the client, which
    answers Cognito's ``PASSWORD_VERIFIER`` challenge with an SRP proof (pycognito computes it). Returns
    Cognito's AccessToken, IdToken and RefreshToken."""
    from pycognito.aws_srp import AWSSRP

    outputs = settings["outputs"]
    client_id = outputs["userPoolWebClientId"]
    # The SRP arithmetic only: every call goes through this module's HTTP session, never pycognito's.
    srp = AWSSRP(email, password, outputs["userPoolId"], client_id, client=_NO_SDK_CLIENT)
    challenge = _cognito(
        settings,
        "InitiateAuth",
        {"AuthFlow": "USER_SRP_AUTH", "ClientId": client_id, "AuthParameters": srp.get_auth_params()},
    )
    if challenge.get("ChallengeName") != "PASSWORD_VERIFIER":
        raise SignInRefused(f"sign-in of {email} needs challenge {challenge.get('ChallengeName')}")
    proof = srp.process_challenge(challenge["ChallengeParameters"], {"USERNAME": email})
    answer = _cognito(
        settings,
        "RespondToAuthChallenge",
        {"ChallengeName": "PASSWORD_VERIFIER", "ClientId": client_id, "ChallengeResponses": proof},
    )
    return answer["AuthenticationResult"]


_NO_SDK_CLIENT = object()


@dataclass
class AppClient:
    """One signed-in app (or, without tokens, one that is not signed in)."""

    settings: dict[str, Any]
    tokens: dict[str, str] | None = None

    @classmethod
    def signed_in_as(cls, settings: dict[str, Any], role: str) -> AppClient:
        user = settings["users"][role]
        return cls(settings, sign_in(settings, user["email"], user["password"]))

    @property
    def user_id(self) -> str:
        """The caller's `sub`, read from the access token's claims."""
        payload = (self.tokens or {})["AccessToken"].split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]

    def url(self, service: str, path: str) -> str:
        """As the apps build it: the endpoint, which ends in ``/``, then the path, which starts with one
        (``…/Prod//orders``; API Gateway routes it as ``/orders``)."""
        return self.settings["outputs"][SERVICES[service]] + path

    def call(
        self, method: str, service: str, path: str, *, token: str | None = "access", **kwargs: Any
    ) -> requests.Response:
        """`token`: "access" (what the apps send, as ``Bearer <access token>``), "id", None (no header) or
        a literal header value."""
        headers = dict(kwargs.pop("headers", {}))
        if token in ("access", "id"):
            value = (self.tokens or {})["AccessToken" if token == "access" else "IdToken"]
            headers["Authorization"] = f"Bearer {value}"
        elif token is not None:
            headers["Authorization"] = token
        return _session().request(
            method, self.url(service, path), headers=headers, timeout=TIMEOUT_SECONDS, **kwargs
        )


# ---------------------------------------------------------------------------------------------- realtime


@dataclass(frozen=True)
class IdentityCredentials:
    identity_id: str
    access_key_id: str
    secret_key: str
    session_token: str


def identity_credentials(settings: dict[str, Any], id_token: str | None = None) -> IdentityCredentials:
    """The identity pool's credentials: a guest's without a token (what the workshop's apps use), a
    signed-in user's with its ID token."""
    outputs = settings["outputs"]
    logins = {}
    if id_token:
        logins = {f"cognito-idp.{outputs['region']}.amazonaws.com/{outputs['userPoolId']}": id_token}
    identity = _cognito(
        settings,
        "GetId",
        {"IdentityPoolId": outputs["poolId"], **({"Logins": logins} if logins else {})},
        "identity",
    )["IdentityId"]
    request = {"IdentityId": identity, **({"Logins": logins} if logins else {})}
    credentials = _cognito(settings, "GetCredentialsForIdentity", request, "identity")["Credentials"]
    return IdentityCredentials(
        identity, credentials["AccessKeyId"], credentials["SecretKey"], credentials["SessionToken"]
    )


def signed_mqtt_path(
    host: str, region: str, credentials: IdentityCredentials, now: float | None = None
) -> str:
    """``/mqtt?<query>`` as AWS IoT's SDKs sign it: SigV4 for service ``iotdevicegateway``, only ``host``
    signed, the empty payload's hash, and the session token appended after the signature."""
    moment = time.gmtime(time.time() if now is None else now)
    amz_date, day = time.strftime("%Y%m%dT%H%M%SZ", moment), time.strftime("%Y%m%d", moment)
    scope = f"{day}/{region}/iotdevicegateway/aws4_request"
    query = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"{credentials.access_key_id}/{scope}",
        "X-Amz-Date": amz_date,
        "X-Amz-SignedHeaders": "host",
    }
    encoded = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query.items()))
    canonical = f"GET\n/mqtt\n{encoded}\nhost:{host}\n\nhost\n{hashlib.sha256(b'').hexdigest()}"
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = f"AWS4{credentials.secret_key}".encode()
    for part in (day, region, "iotdevicegateway", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    token = quote(credentials.session_token, safe="-_.~")
    return f"/mqtt?{encoded}&X-Amz-Signature={signature}&X-Amz-Security-Token={token}"


class RealtimeClient:
    """An app's MQTT 3.1.1 connection over secure WebSockets to the served stack's IoT ``host``, with a
    SigV4-signed URL (paho-mqtt). `messages` collects ``(topic, payload)`` as they arrive; `refused` says
    whether the gateway closed the connection."""

    def __init__(
        self, settings: dict[str, Any], credentials: IdentityCredentials, client_id: str, path: str = ""
    ):
        import paho.mqtt.client as mqtt

        host, port = settings["outputs"]["host"].rsplit(":", 1)
        self.messages: list[tuple[str, Any]] = []
        self.closed = threading.Event()
        self._acks: dict[int, list[int]] = {}
        self._acked = threading.Condition()
        self._connected = threading.Event()
        self.connect_code: Any = None
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            transport="websockets",
            protocol=mqtt.MQTTv311,
        )
        client.ws_set_options(
            path=path or signed_mqtt_path(f"{host}:{port}", settings["outputs"]["region"], credentials)
        )
        client.tls_set(ca_certs=settings["iotCertificate"])
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        self._client = client
        try:
            client.connect(host, int(port), keepalive=30)
        except (OSError, mqtt.WebsocketConnectionError) as error:
            self.closed.set()
            self.connect_code = error
            return
        client.loop_start()

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self.connect_code = reason
        self._connected.set()

    def _on_disconnect(self, *_: Any) -> None:
        with self._acked:
            self.closed.set()
            self._acked.notify_all()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        try:
            payload: Any = json.loads(message.payload)
        except ValueError:
            payload = message.payload.decode(errors="replace")
        self.messages.append((message.topic, payload))

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        with self._acked:
            self._acks[mid] = [int(getattr(r, "value", r)) for r in reasons]
            self._acked.notify_all()

    def connected(self, limit: float = TIMEOUT_SECONDS) -> bool:
        """True once the broker accepted the connection; False when it was refused or closed."""
        for _ in range(int(limit / 0.05)):
            if self._connected.is_set() and not self.closed.is_set():
                return getattr(self.connect_code, "value", self.connect_code) == 0
            if self.closed.is_set():
                return False
            time.sleep(0.05)
        return False

    def subscribe(self, topic: str, limit: float = TIMEOUT_SECONDS) -> bool:
        """True when the subscription was granted; False when it was refused (a SUBACK failure, or the
        gateway closing the connection as AWS IoT does for MQTT 3.1.1)."""
        _, mid = self._client.subscribe(topic, qos=1)
        with self._acked:
            granted = self._acked.wait_for(lambda: mid in self._acks or self.closed.is_set(), timeout=limit)
        if not granted:
            raise TimeoutError(f"no answer to the subscription to {topic}")
        return mid in self._acks and all(code < 0x80 for code in self._acks[mid])

    def of(self, topic: str) -> list[Any]:
        return [payload for t, payload in list(self.messages) if t == topic]

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
