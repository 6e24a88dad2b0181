"""AttachRealtimePolicy (`POST /realtime`, any signed-in user): lets the caller's identity-pool identity
use AWS IoT, which a signed-in identity cannot do until an IoT policy is attached to it.

Body: ``{"idToken": "<the caller's Cognito ID token>"}``. The identity id comes from Cognito (``GetId``
with that token), never from the client, and the token must be the caller's. Staff (the `admin` group) get
the stack's staff policy; a customer a policy of its own naming its own topic (`rights`). Calling again
changes nothing: the policy exists and is attached once.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from rights import NotACustomerSub, customer_policy_document, customer_policy_name, token_subject
from shop_common import is_admin, required_env

logger = Logger()
identity_pool_id = required_env("IDENTITY_POOL_ID")
login_provider = required_env("LOGIN_PROVIDER")
iot_arn_prefix = required_env("IOT_ARN_PREFIX")
customer_prefix = required_env("CUSTOMER_POLICY_PREFIX")
staff_policy = required_env("STAFF_POLICY_NAME")
identities = boto3.client("cognito-identity")
iot = boto3.client("iot")
app = APIGatewayRestResolver(cors=CORSConfig(allow_origin=os.environ.get("CORS_ALLOW_ORIGIN", "*")))


def _refused(status: int, message: str) -> Response:
    return Response(status, "application/json", json.dumps({"error": message}))


def _claims_of(token: str) -> dict[str, Any]:
    """The payload of a JWT whose signature Cognito has just checked (GetId refuses any other)."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}


@app.post("/realtime")
def attach_realtime_policy() -> Response | dict[str, Any]:
    claims = app.current_event.request_context.authorizer.claims or {}
    try:
        body = json.loads(app.current_event.body) if app.current_event.body else None
    except ValueError:
        body = None
    token = body.get("idToken") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        return _refused(400, 'The body must be {"idToken": "<your Cognito ID token>"}')
    if not token_subject(_claims_of(token), str(claims.get("sub", ""))):
        return _refused(403, "The ID token is not the caller's")
    try:
        identity_id = identities.get_id(IdentityPoolId=identity_pool_id, Logins={login_provider: token})[
            "IdentityId"
        ]
    except ClientError as error:
        if error.response["Error"]["Code"] != "NotAuthorizedException":
            raise
        return _refused(403, "Cognito refused the ID token")
    if is_admin(claims):
        policy = staff_policy
    else:
        try:
            policy = customer_policy_name(customer_prefix, str(claims["sub"]))
        except NotACustomerSub:
            return _refused(403, "The caller is not a Cognito user")
        try:
            iot.create_policy(
                policyName=policy, policyDocument=customer_policy_document(iot_arn_prefix, str(claims["sub"]))
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise
    iot.attach_policy(policyName=policy, target=identity_id)  # attaching it again is a no-op
    logger.info("Realtime policy attached", extra={"policy": policy, "identity": identity_id})
    return {"identityId": identity_id, "policy": policy}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
