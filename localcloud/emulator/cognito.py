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
4. ``USER_SRP_AUTH`` checks the password, as Cognito does (moto answered any proof): ``InitiateAuth`` answers
   the ``PASSWORD_VERIFIER`` challenge with a real salt, ``SRP_B`` (from the user's password verifier) and a
   base64 ``SECRET_BLOCK``; ``RespondToAuthChallenge`` recomputes ``PASSWORD_CLAIM_SIGNATURE`` (the 3072-bit
   group of RFC 3526 §4, g = 2, SHA-256, the key derived with HKDF "Caldera Derived Key", the message pool
   name + user id for SRP + secret block + timestamp) and refuses a wrong one, a timestamp not in the
   form ``Sun Dec 6 20:57:07 UTC 2026`` or a secret block already answered with ``NotAuthorizedException``
   "Incorrect username or password.". Written here because no maintained package on PyPI holds the server
   side of Cognito's variant; the tests' client side is pycognito's ``AWSSRP``.

5. Identity pools hand out credentials as Cognito does (moto answered one fixed key for anyone): ``GetId``
   with ``Logins`` checks the user pool's ID token (signature, issuer, ``aud`` = the pool's app client,
   ``token_use: id``) and gives one user the same identity every time; without ``Logins`` a new guest
   identity, refused when the pool admits no guests. ``GetCredentialsForIdentity`` takes the role as the
   pool's roles and rule-based role mappings say (the first rule whose claim matches; ``Contains`` on a
   list claim such as ``cognito:groups`` means one element equals the value, stricter than a substring),
   asks a signed-in identity for its token again, and issues fresh keys valid for an hour. What each key was
   issued for (identity, role, expiry) is kept (`issued_credentials`): IoT's device gateway decides by it.

Not modelled: token revocation; e-mail delivery of verification codes; how old an SRP timestamp may be.

Tests: ``tests/localcloud/test_emulator_cognito.py``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError

from localcloud.emulator.core import client, run_once

__all__ = [
    "InvalidToken",
    "IssuedCredentials",
    "Tokens",
    "create_user",
    "expire_credentials",
    "install",
    "issued_credentials",
    "issuer",
    "sign_in",
    "verify_token",
]


@run_once
def install() -> None:
    """Answer Set/GetIdentityPoolRoles, check SRP proofs and issue identity credentials; safe to call any
    number of times."""
    _patch_identity_pool_roles()
    _patch_srp()
    _patch_identity_credentials()


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


# --------------------------------------------------------------------------- gap 4: SRP checks the password

# RFC 3526 §4, the 3072-bit MODP group: the N and g of Cognito's SRP-6a.
_N = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
    16,
)
_G = 2
_REFUSED = "Incorrect username or password."
_TIMESTAMP = re.compile(
    r"(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([1-9]|[12]\d|3[01]) "
    r"\d\d:\d\d:\d\d UTC \d{4}"
)


def _padded(value: int) -> str:
    """A non-negative integer's hex as SRP hashes it: even length, ``00`` first if the top bit is set."""
    text = format(value, "x")
    if len(text) % 2:
        return "0" + text
    return "00" + text if text[0] in "89abcdef" else text


def _hash(hex_text: str) -> int:
    return int(hashlib.sha256(bytes.fromhex(hex_text)).hexdigest(), 16)


_K = _hash(_padded(_N) + _padded(_G))


@dataclass(frozen=True)
class _SrpChallenge:
    """What one PASSWORD_VERIFIER challenge needs to check its answer."""

    pool_name: str
    user_id: str
    usernames: frozenset[str]
    verifier: int
    a_public: int
    b_secret: int
    b_public: int


def _verifier(pool_name: str, user_id: str, password: str, salt: str) -> int:
    inner = hashlib.sha256(f"{pool_name}{user_id}:{password}".encode()).hexdigest()
    return pow(_G, _hash(_padded(int(salt, 16)) + inner), _N)


def _challenge(pool_id: str, user: Any, user_id: str, srp_a: str) -> tuple[str, _SrpChallenge]:
    """A new salt and challenge for this user and client value A (``NotAuthorized`` if A is invalid)."""
    from moto.cognitoidp.exceptions import NotAuthorizedError

    try:
        a_public = int(srp_a, 16)
    except (TypeError, ValueError) as error:
        raise NotAuthorizedError(_REFUSED) from error
    if a_public % _N == 0:
        raise NotAuthorizedError(_REFUSED)
    salt = format(secrets.randbelow(255) + 1, "02x") + secrets.token_hex(15)  # no leading zero byte
    pool_name = pool_id.split("_", 1)[1]
    verifier = _verifier(pool_name, user_id, user.password or "", salt)
    while True:
        b_secret = secrets.randbits(256)
        b_public = (_K * verifier + pow(_G, b_secret, _N)) % _N
        if b_public:
            break
    usernames = frozenset({user.username, user_id})
    return salt, _SrpChallenge(pool_name, user_id, usernames, verifier, a_public, b_secret, b_public)


def _expected_signature(challenge: _SrpChallenge, secret_block: bytes, timestamp: str) -> bytes:
    u = _hash(_padded(challenge.a_public) + _padded(challenge.b_public))
    shared = pow(challenge.a_public * pow(challenge.verifier, u, _N), challenge.b_secret, _N)
    key_material = hmac.new(
        bytes.fromhex(_padded(u)), bytes.fromhex(_padded(shared)), hashlib.sha256
    ).digest()
    key = hmac.new(key_material, b"Caldera Derived Key\x01", hashlib.sha256).digest()[:16]
    message = challenge.pool_name.encode() + challenge.user_id.encode() + secret_block + timestamp.encode()
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest())


def _valid_timestamp(text: str) -> bool:
    if not _TIMESTAMP.fullmatch(text):
        return False
    try:
        parsed = datetime.datetime.strptime(text, "%a %b %d %H:%M:%S UTC %Y")
    except ValueError:
        return False
    return parsed.strftime("%a") == text[:3]  # the weekday must be that date's


def _answer_is_proof(challenge: _SrpChallenge, responses: dict[str, str]) -> bool:
    timestamp = responses.get("TIMESTAMP") or ""
    if responses.get("USERNAME") not in challenge.usernames or not _valid_timestamp(timestamp):
        return False
    try:
        block = base64.b64decode(responses.get("PASSWORD_CLAIM_SECRET_BLOCK") or "", validate=True)
    except ValueError:
        return False
    expected = _expected_signature(challenge, block, timestamp)
    return hmac.compare_digest(expected, (responses.get("PASSWORD_CLAIM_SIGNATURE") or "").encode())


def _patch_srp() -> None:
    from moto.cognitoidp.exceptions import NotAuthorizedError
    from moto.cognitoidp.models import CognitoIdpBackend

    initiate_auth = CognitoIdpBackend.initiate_auth
    respond_to_auth_challenge = CognitoIdpBackend.respond_to_auth_challenge

    def initiate_srp(self: Any, client_id: str, auth_flow: str, auth_parameters: dict[str, str]) -> Any:
        result = initiate_auth(self, client_id, auth_flow, auth_parameters)
        if result.get("ChallengeName") != "PASSWORD_VERIFIER":
            return result
        parameters = result["ChallengeParameters"]
        session = parameters["SECRET_BLOCK"]  # moto keys the sign-in by the block it sends
        _, pool = self.sessions[session]
        user = self.admin_get_user(pool.id, parameters["USERNAME"])
        try:
            salt, challenge = _challenge(
                pool.id, user, parameters["USER_ID_FOR_SRP"], auth_parameters["SRP_A"]
            )
        except NotAuthorizedError:
            del self.sessions[session]
            raise
        block = base64.b64encode(secrets.token_bytes(96)).decode()
        self.sessions[block] = self.sessions.pop(session)
        self.__dict__.setdefault("localcloud_srp", {})[block] = challenge
        parameters.update({"SALT": salt, "SRP_B": format(challenge.b_public, "x"), "SECRET_BLOCK": block})
        result.pop("Session", None)  # Cognito sends none with this challenge
        return result

    def respond_with_proof(
        self: Any, session: str, client_id: str, challenge_name: str, responses: dict[str, str]
    ) -> Any:
        if challenge_name == "PASSWORD_VERIFIER":
            block = responses.get("PASSWORD_CLAIM_SECRET_BLOCK") or ""
            challenge = self.__dict__.get("localcloud_srp", {}).pop(block, None)  # answered once
            if challenge is None or not _answer_is_proof(challenge, responses):
                self.sessions.pop(block, None)
                raise NotAuthorizedError(_REFUSED)
        return respond_to_auth_challenge(self, session, client_id, challenge_name, responses)

    CognitoIdpBackend.initiate_auth = initiate_srp
    CognitoIdpBackend.respond_to_auth_challenge = respond_with_proof


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


# --------------------------------------------------------------------------- gap 5: identity credentials

CREDENTIALS_SECONDS = 3600  # what GetCredentialsForIdentity issues (one hour)


@dataclass(frozen=True)
class IssuedCredentials:
    """One set of identity-pool credentials: whose, for which role, until when (epoch seconds)."""

    access_key_id: str
    secret_key: str
    session_token: str
    identity_id: str
    identity_pool_id: str
    role_arn: str
    authenticated: bool
    expires_at: float


@dataclass(frozen=True)
class _PoolIdentity:
    pool_id: str
    provider: str | None  # the Logins key of a signed-in identity; None for a guest
    subject: str | None


def _identity_state(backend: Any) -> dict[str, Any]:
    return backend.__dict__.setdefault(
        "localcloud_identities", {"identities": {}, "by_subject": {}, "credentials": {}}
    )


def _not_authorized(message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError("NotAuthorizedException", message)


def _login_claims(backend: Any, pool: Any, logins: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The one login of this pool's user pools and its verified ID-token claims."""
    providers = {p["ProviderName"]: p["ClientId"] for p in pool.cognito_identity_providers}
    if len(logins) != 1:
        raise _not_authorized("Invalid login token. Exactly one login is accepted here.")
    [(provider, token)] = logins.items()
    if provider not in providers:
        raise _not_authorized(f"Invalid login token. {provider} is not a provider of this identity pool.")
    region, _, pool_id = provider.partition(".amazonaws.com/")
    region = region.removeprefix("cognito-idp.")
    arn = f"arn:aws:cognito-idp:{region}:{backend.account_id}:userpool/{pool_id}"
    try:
        claims = verify_token(token, [arn])
    except InvalidToken as error:
        raise _not_authorized(f"Invalid login token. {error}") from error
    if claims.get("token_use") != "id" or claims.get("aud") != providers[provider]:
        raise _not_authorized("Invalid login token. Not an ID token of this pool's app client.")
    return provider, claims


def _rule_matches(rule: dict[str, Any], claims: dict[str, Any]) -> bool:
    value, wanted = claims.get(rule["Claim"]), rule["Value"]
    values = [str(v) for v in value] if isinstance(value, list) else [] if value is None else [str(value)]
    match rule["MatchType"]:
        case "Equals":
            return values == [wanted]
        case "NotEqual":
            return values != [wanted]
        case "StartsWith":
            return any(v.startswith(wanted) for v in values)
        case "Contains":
            return wanted in values if isinstance(value, list) else any(wanted in v for v in values)
    return False


def _role_for(backend: Any, pool_id: str, provider: str | None, claims: dict[str, Any]) -> str:
    attachment = backend.__dict__.get("localcloud_pool_roles", {}).get(pool_id, {})
    roles, mappings = attachment.get("Roles", {}), attachment.get("RoleMappings", {})
    if provider is not None:
        mapping = mappings.get(f"{provider}:{claims.get('aud')}")
        if mapping and mapping.get("Type") == "Rules":
            rules = mapping.get("RulesConfiguration", {}).get("Rules", [])
            chosen = next((rule["RoleARN"] for rule in rules if _rule_matches(rule, claims)), None)
            if chosen:
                return chosen
            if mapping.get("AmbiguousRoleResolution") == "Deny":
                raise _not_authorized("No rule of the role mapping matched the token.")
    role = roles.get("authenticated" if provider is not None else "unauthenticated")
    if not role:
        from moto.core.exceptions import JsonRESTError

        raise JsonRESTError(
            "InvalidIdentityPoolConfigurationException", "The pool has no role for this identity."
        )
    return role


def _patch_identity_credentials() -> None:
    from moto.cognitoidentity.exceptions import ResourceNotFoundError
    from moto.cognitoidentity.responses import CognitoIdentityResponse

    def get_id(self: Any) -> str:
        backend = self.backend
        pool_id = self._get_param("IdentityPoolId")
        pool = backend.identity_pools.get(pool_id)
        if pool is None:
            raise ResourceNotFoundError(pool_id)
        state = _identity_state(backend)
        logins = self._get_param("Logins") or {}
        if logins:
            provider, claims = _login_claims(backend, pool, logins)
            key = (pool_id, provider, claims["sub"])
            identity_id = state["by_subject"].get(key)
            if identity_id is None:
                identity_id = f"{backend.region_name}:{uuid.uuid4()}"
                state["by_subject"][key] = identity_id
                state["identities"][identity_id] = _PoolIdentity(pool_id, provider, claims["sub"])
                backend.pools_identities[pool_id]["Identities"].append({"IdentityId": identity_id})
        else:
            if not pool.allow_unauthenticated_identities:
                raise _not_authorized("Unauthenticated access is not supported for this identity pool.")
            identity_id = f"{backend.region_name}:{uuid.uuid4()}"
            state["identities"][identity_id] = _PoolIdentity(pool_id, None, None)
            backend.pools_identities[pool_id]["Identities"].append({"IdentityId": identity_id})
        return json.dumps({"IdentityId": identity_id})

    def get_credentials_for_identity(self: Any) -> str:
        backend = self.backend
        identity_id = self._get_param("IdentityId")
        state = _identity_state(backend)
        identity = state["identities"].get(identity_id)
        if identity is None:
            raise ResourceNotFoundError(f"Identity '{identity_id}' not found.")
        claims: dict[str, Any] = {}
        logins = self._get_param("Logins") or {}
        if identity.provider is not None:
            pool = backend.identity_pools[identity.pool_id]
            if not logins:
                raise _not_authorized(
                    "Invalid login token. This identity is signed in: its login is required."
                )
            provider, claims = _login_claims(backend, pool, logins)
            if (provider, claims["sub"]) != (identity.provider, identity.subject):
                raise _not_authorized("Invalid login token. The login is not this identity's.")
        elif logins:
            raise _not_authorized("Invalid login token. A guest identity takes no login here.")
        role = _role_for(backend, identity.pool_id, identity.provider, claims)
        issued = IssuedCredentials(
            access_key_id="ASIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16)),
            secret_key=secrets.token_urlsafe(30),
            session_token=secrets.token_urlsafe(96),
            identity_id=identity_id,
            identity_pool_id=identity.pool_id,
            role_arn=role,
            authenticated=identity.provider is not None,
            expires_at=time.time() + CREDENTIALS_SECONDS,
        )
        state["credentials"][issued.access_key_id] = issued
        return json.dumps(
            {
                "IdentityId": identity_id,
                "Credentials": {
                    "AccessKeyId": issued.access_key_id,
                    "SecretKey": issued.secret_key,
                    "SessionToken": issued.session_token,
                    "Expiration": issued.expires_at,
                },
            }
        )

    CognitoIdentityResponse.get_id = get_id
    CognitoIdentityResponse.get_credentials_for_identity = get_credentials_for_identity


_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _identity_backends() -> Iterator[Any]:
    from moto.cognitoidentity.models import cognitoidentity_backends

    for account in list(cognitoidentity_backends):
        yield from list(cognitoidentity_backends[account].values())


def issued_credentials(access_key_id: str) -> IssuedCredentials | None:
    """What GetCredentialsForIdentity issued this key for (None: no identity pool issued it)."""
    for backend in _identity_backends():
        issued = _identity_state(backend)["credentials"].get(access_key_id)
        if issued is not None:
            return issued
    return None


def expire_credentials(access_key_id: str) -> None:
    """Tests: the key as it is an hour after it was issued."""
    for backend in _identity_backends():
        credentials = _identity_state(backend)["credentials"]
        if access_key_id in credentials:
            credentials[access_key_id] = dataclasses.replace(
                credentials[access_key_id], expires_at=time.time() - 1
            )


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
