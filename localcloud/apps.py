"""What the display, barista and customer apps do against a served stack (`localcloud.serve`): read its
settings, sign in against its AWS endpoint (Cognito's SRP sign-in, unsigned, as the browser SDK does)
and call the REST APIs over HTTP as the apps do: ``Authorization: Bearer <access token>`` and URLs built
as ``<endpoint><path>`` (the endpoint ends in ``/``, the path starts with one). The simulated day and the
tests use it; it only ever talks to the loopback addresses the settings name."""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass
from typing import Any

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


def _cognito(settings: dict[str, Any], action: str, request: dict[str, Any]) -> dict[str, Any]:
    """One unsigned Cognito user-pool call to the served AWS endpoint, as the browser SDK makes it."""
    answer = _session().post(
        settings["awsEndpoint"] + "/",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{action}",
        },
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
