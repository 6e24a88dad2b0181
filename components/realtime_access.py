"""Who may listen to the shop's IoT topics (setting `realtimeAccess`).

- `guests` (the workshop's apps): the identity pool's guests may connect and hear every shop topic.
- `signedIn`: guests hear the config topic only; signed-in customers their own topic and the config topic;
  the `admin` group (its own role, by the identity pool's role mapping) the staff topic and the config
  topic. A signed-in identity may use IoT only where both its role and an IoT policy attached to it allow
  (https://docs.aws.amazon.com/iot/latest/developerguide/cog-iot-policies.html), so `POST /realtime`
  attaches one: the stack's staff policy, or a policy per customer naming its own topic
  (`functions/realtime_access/rights.py` says why per customer).
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components import iam
from components.identity import ADMIN_SCOPE, Identity
from components.lambda_function import FunctionSettings, LambdaFunction
from components.naming import stack_scoped
from components.rest_api import ApiSettings, FunctionProxy, RestApi, Route


def _function_rules() -> Any:
    """The function's own rules module: one source for the topic names and the policies' shape."""
    path = Path(__file__).resolve().parents[1] / "functions" / "realtime_access" / "rights.py"
    spec = importlib.util.spec_from_file_location("realtime_access_rights", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rights = _function_rules()

ALL_TOPICS = f"{rights.TOPIC_PREFIX}*"
CUSTOMER_TOPICS = f"{rights.TOPIC_PREFIX}user-*"


class RealtimeAccess(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        mode: str,
        identity: Identity,
        function_settings: FunctionSettings,
        api_settings: ApiSettings,
        code_dir: Path,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("serverlesspresso:realtime:RealtimeAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        caller = aws.get_caller_identity_output(opts=invoke)
        region = aws.get_region_output(opts=invoke).region
        self.iot_arn_prefix = pulumi.Output.concat("arn:aws:iot:", region, ":", caller.account_id, ":")
        self.endpoint: pulumi.Output[str] | None = None

        def listen(role_name: str, role: aws.iam.Role, topics: Sequence[str]) -> None:
            aws.iam.RolePolicy(
                f"{name}-{role_name}-listen",
                role=role.id,
                policy=self.iot_arn_prefix.apply(
                    lambda prefix: json.dumps(rights.listen_policy(prefix, topics))
                ),
                opts=child,
            )

        if mode == "guests":
            # The workshop's apps listen as guests: every shop topic, and no signed-in identity needs IoT.
            listen("guest", identity.unauthenticated_role, [ALL_TOPICS])
            self.register_outputs({})
            return
        if identity.staff_role is None:
            raise ValueError(
                "realtimeAccess signedIn needs the identity pool's staff role (Identity staff_role)"
            )
        listen("guest", identity.unauthenticated_role, [rights.CONFIG_TOPIC])
        listen("customer", identity.authenticated_role, [rights.CONFIG_TOPIC, CUSTOMER_TOPICS])
        listen("staff", identity.staff_role, [rights.CONFIG_TOPIC, rights.STAFF_TOPIC])
        self.staff_policy = aws.iot.Policy(
            f"{name}-staff",
            name=stack_scoped("staff-realtime", limit=128),
            policy=self.iot_arn_prefix.apply(
                lambda prefix: json.dumps(
                    rights.listen_policy(prefix, [rights.CONFIG_TOPIC, rights.STAFF_TOPIC])
                )
            ),
            opts=child,
        )
        customer_prefix = stack_scoped("customer-", limit=128 - 36)
        self.attach = LambdaFunction(
            f"{name}-attach",
            code_dir=code_dir,
            handler="attach.handler",
            settings=function_settings,
            environment={
                "IDENTITY_POOL_ID": identity.identity_pool_id,
                "LOGIN_PROVIDER": identity.login_provider,
                "IOT_ARN_PREFIX": self.iot_arn_prefix,
                "CUSTOMER_POLICY_PREFIX": customer_prefix,
                "STAFF_POLICY_NAME": self.staff_policy.name,
                "CORS_ALLOW_ORIGIN": api_settings.cors_allow_origin,
            },
            statements=[
                iam.allow(
                    "iot:CreatePolicy",
                    pulumi.Output.concat(self.iot_arn_prefix, "policy/", customer_prefix, "*"),
                ),
                iam.allow_mandated_wildcard(["iot:AttachPolicy"]),
            ],
            description="Attaches a signed-in identity's IoT policy (staff or its own customer topic)",
            opts=child,
        )
        self.api = RestApi(
            f"{name}-api",
            routes=[
                Route(
                    "POST",
                    "/realtime",
                    FunctionProxy.of(self.attach),
                    scopes=(ADMIN_SCOPE,),
                )
            ],
            settings=api_settings,
            user_pool_arn=identity.user_pool_arn,
            description="Serverlesspresso realtime access: a signed-in identity may listen to its IoT topics",
            opts=child,
        )
        self.endpoint = self.api.endpoint
        self.register_outputs({"endpoint": self.endpoint})
