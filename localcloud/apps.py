"""What the display, barista and customer apps do against a served stack (`localcloud.serve`): read its
settings, sign in against its AWS endpoint (Cognito `InitiateAuth`, unsigned, as the browser SDK does)
and call the REST APIs over HTTP with the access token in `Authorization`. The simulated day and the
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


def sign_in(settings: dict[str, Any], email: str, password: str) -> dict[str, str]:
    """Cognito's answer to a password sign-in: AccessToken, IdToken, RefreshToken."""
    answer = _session().post(
        settings["awsEndpoint"] + "/",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
        data=json.dumps(
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": settings["outputs"]["userPoolWebClientId"],
                "AuthParameters": {"USERNAME": email, "PASSWORD": password},
            }
        ),
        timeout=TIMEOUT_SECONDS,
    )
    answer.raise_for_status()
    return answer.json()["AuthenticationResult"]


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
        return self.settings["outputs"][SERVICES[service]] + path.lstrip("/")

    def call(
        self, method: str, service: str, path: str, *, token: str | None = "access", **kwargs: Any
    ) -> requests.Response:
        """`token`: "access" (what the apps send), "id", None (no header) or a literal header value."""
        headers = dict(kwargs.pop("headers", {}))
        if token in ("access", "id"):
            headers["Authorization"] = (self.tokens or {})["AccessToken" if token == "access" else "IdToken"]
        elif token is not None:
            headers["Authorization"] = token
        return _session().request(
            method, self.url(service, path), headers=headers, timeout=TIMEOUT_SECONDS, **kwargs
        )
