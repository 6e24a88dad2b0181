"""Cognito: what the front door needs beyond moto's user pools and identity pools.

moto holds user pools, app clients (without secret), groups, users and identity pools, signs tokens with
``USER_PASSWORD_AUTH``/refresh, and serves each pool's JWKS at
``https://cognito-idp.<region>.amazonaws.com/<poolId>/.well-known/jwks.json`` inside the mock. Its tokens
are RS256 JWTs: ``iss`` is ``https://cognito-idp.<region>.amazonaws.com/<poolId>``; the access token
carries ``sub``, ``client_id``, ``token_use: access``, ``scope: aws.cognito.signin.user.admin`` and
``cognito:groups`` (a list, when the user is in a group); the ID token ``aud``, ``email``,
``token_use: id`` and ``cognito:groups``.

1. ``SetIdentityPoolRoles`` raised ``NotImplementedError`` and ``GetIdentityPoolRoles`` did not exist: both
   are answered now, the attachment kept on moto's identity backend (so it ends with the mock).
2. ``verify_token(token, user_pool_arns)``: what a user-pool authorizer checks — signature against the
   issuing pool's key, ``iss`` one of the given pools, ``exp`` not past, ``token_use`` ``id`` or ``access``.
3. Test and tooling helpers: ``create_user`` (a CONFIRMED user with a permanent password, in groups) and
   ``sign_in`` (``USER_PASSWORD_AUTH`` → tokens).

Not modelled: the identity pool's role attachment has no effect on the credentials moto hands out; SRP
does not check the password (moto); token revocation; e-mail delivery of verification codes.

Tests: ``tests/localcloud/test_emulator_cognito.py``.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError

from localcloud.emulator.core import client, run_once

__all__ = ["InvalidToken", "Tokens", "create_user", "install", "issuer", "sign_in", "verify_token"]


@run_once
def install() -> None:
    """Answer Set/GetIdentityPoolRoles; safe to call any number of times."""
    _patch_identity_pool_roles()


# --------------------------------------------------------------------------- gap 1: identity pool roles


def _patch_identity_pool_roles() -> None:
    from moto.cognitoidentity.responses import CognitoIdentityResponse

    def set_identity_pool_roles(self) -> str:
        pool_id = self._get_param("IdentityPoolId")
        self.backend.describe_identity_pool(pool_id)  # raises ResourceNotFoundException if absent
        attachments = self.backend.__dict__.setdefault("localcloud_pool_roles", {})
        attachments[pool_id] = {
            "Roles": self._get_param("Roles") or {},
            "RoleMappings": self._get_param("RoleMappings") or {},
        }
        return ""

    def get_identity_pool_roles(self) -> str:
        pool_id = self._get_param("IdentityPoolId")
        self.backend.describe_identity_pool(pool_id)
        attachment = self.backend.__dict__.get("localcloud_pool_roles", {}).get(pool_id, {})
        return json.dumps({"IdentityPoolId": pool_id, "Roles": {}, "RoleMappings": {}, **attachment})

    CognitoIdentityResponse.set_identity_pool_roles = set_identity_pool_roles
    CognitoIdentityResponse.get_identity_pool_roles = get_identity_pool_roles


# --------------------------------------------------------------------------- gap 2: token verification


class InvalidToken(Exception):
    """The token is not one the given user pools issued, or it expired (API Gateway answers 401)."""


def issuer(region: str, pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"


def _unverified_claims(token: str) -> dict[str, Any]:
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as error:
        raise InvalidToken("not a JWT") from error
    if not isinstance(claims, dict):
        raise InvalidToken("not a JWT")
    return claims


def _pool_arns(user_pool_arns: Iterable[str]) -> dict[str, tuple[str, str, str]]:
    """issuer URL → (account, region, pool id) for each user pool ARN."""
    pools = {}
    for arn in user_pool_arns:
        parts = arn.split(":", 5)
        if len(parts) == 6 and parts[5].startswith("userpool/"):
            region, account, pool_id = parts[3], parts[4], parts[5].split("/", 1)[1]
            pools[issuer(region, pool_id)] = (account, region, pool_id)
    return pools


def verify_token(token: str, user_pool_arns: Sequence[str], *, now: int | None = None) -> dict[str, Any]:
    """The claims of a token one of these user pools signed, still valid; else ``InvalidToken``."""
    from moto.cognitoidp.models import cognitoidp_backends

    claims = _unverified_claims(token)
    pool = _pool_arns(user_pool_arns).get(claims.get("iss"))
    if pool is None:
        raise InvalidToken("issued by no user pool of this authorizer")
    account, region, pool_id = pool
    user_pool = cognitoidp_backends[account][region].user_pools.get(pool_id)
    if user_pool is None:
        raise InvalidToken(f"user pool {pool_id} does not exist")
    try:
        decoded = jwt.decode(token, user_pool.json_web_key, algorithms=["RS256"])
        jwt.JWTClaimsRegistry(
            now=now if now is not None else int(time.time()),
            iss={"essential": True, "value": issuer(region, pool_id)},
            exp={"essential": True},
            token_use={"essential": True, "values": ["id", "access"]},
        ).validate(decoded.claims)
    except (JoseError, ValueError) as error:
        raise InvalidToken(str(error)) from error
    return dict(decoded.claims)


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str
    refresh_token: str
    expires_in: int


def _idp(pool_id: str) -> Any:
    return client("cognito-idp", pool_id.split("_", 1)[0])


def create_user(pool_id: str, email: str, password: str, groups: Sequence[str] = ()) -> str:
    """A CONFIRMED user with a verified e-mail, a permanent password and these groups; returns its ``sub``."""
    idp = _idp(pool_id)
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    idp.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=password, Permanent=True)
    for group in groups:
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)
    attributes = idp.admin_get_user(UserPoolId=pool_id, Username=email)["UserAttributes"]
    return next(attribute["Value"] for attribute in attributes if attribute["Name"] == "sub")


def sign_in(pool_id: str, client_id: str, email: str, password: str) -> Tokens:
    """Sign in with ``USER_PASSWORD_AUTH``, as the apps' Amplify client would, and return the tokens."""
    answer = _idp(pool_id).initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    if "AuthenticationResult" not in answer:
        raise RuntimeError(f"sign-in of {email} needs challenge {answer.get('ChallengeName')}")
    result = answer["AuthenticationResult"]
    return Tokens(result["IdToken"], result["AccessToken"], result["RefreshToken"], int(result["ExpiresIn"]))
