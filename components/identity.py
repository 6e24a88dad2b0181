"""Who is calling: the user pool the apps sign in to, its `admin` group, and the identity pool whose roles
the apps use (as guests too) to listen to the shop's IoT topics."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.naming import stack_scoped

ADMIN_GROUP = "admin"
# The scopes a Cognito access token carries: `openid` with the hosted UI, the admin scope with the SDK.
USER_SCOPES = ("openid", "aws.cognito.signin.user.admin")
ADMIN_SCOPE = "aws.cognito.signin.user.admin"
MIN_PASSWORD_LENGTH = 6


def identity_role_trust(identity_pool_id: pulumi.Input[str], authenticated: bool) -> pulumi.Output[str]:
    """Only identities of *this* pool, signed in or guests as the role is for, may take the role."""
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {"cognito-identity.amazonaws.com:aud": identity_pool_id},
                        "ForAnyValue:StringLike": {
                            "cognito-identity.amazonaws.com:amr": (
                                "authenticated" if authenticated else "unauthenticated"
                            )
                        },
                    },
                }
            ],
        }
    )


class Identity(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        password_sign_in: bool,
        email_source_arn: str = "",
        email_from: str = "",
        staff_role: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ):
        """``staff_role``: signed-in members of the `admin` group take a role of their own, given by the
        identity pool's rule on the ID token's ``cognito:groups`` (others take the authenticated role)."""
        super().__init__("serverlesspresso:identity:Identity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Cognito's built-in e-mail sends 50 messages a day per account: a verified SES identity sends the
        # sign-up codes of a busy day instead.
        # https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html
        email = (
            {
                "email_sending_account": "DEVELOPER",
                "source_arn": email_source_arn,
                "from_email_address": email_from,
            }
            if email_source_arn
            else {"email_sending_account": "COGNITO_DEFAULT"}
        )

        self.user_pool = aws.cognito.UserPool(
            f"{name}-users",
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            schemas=[
                {
                    "name": "email",
                    "attribute_data_type": "String",
                    "required": True,
                    "mutable": True,
                    "string_attribute_constraints": {"min_length": "3", "max_length": "2048"},
                }
            ],
            password_policy={
                "minimum_length": MIN_PASSWORD_LENGTH,
                "require_lowercase": False,
                "require_uppercase": False,
                "require_numbers": False,
                "require_symbols": False,
            },
            verification_message_template={"default_email_option": "CONFIRM_WITH_CODE"},
            email_configuration=email,
            account_recovery_setting={"recovery_mechanisms": [{"name": "verified_email", "priority": 1}]},
            # Every customer is a monthly active user, the largest usage line of a month. The apps need
            # only what Lite has (password and SRP sign-in, groups, email codes); a new pool is Essentials,
            # which costs about three times as much per user for features nothing here uses.
            user_pool_tier="LITE",
            opts=child,
        )
        flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
        if password_sign_in:
            flows.append("ALLOW_USER_PASSWORD_AUTH")
        self.app_client = aws.cognito.UserPoolClient(
            f"{name}-app-client",
            user_pool_id=self.user_pool.id,
            generate_secret=False,
            explicit_auth_flows=flows,
            prevent_user_existence_errors="ENABLED",
            opts=child,
        )
        self.admin_group = aws.cognito.UserGroup(
            f"{name}-admin",
            name=ADMIN_GROUP,
            user_pool_id=self.user_pool.id,
            description="Display and barista staff: may see the queue and make, complete or cancel orders",
            opts=child,
        )

        # `Logins` key of the user pool's ID tokens (GetId, GetCredentialsForIdentity), and with the app
        # client the key of the pool's role mapping.
        self.login_provider = self.user_pool.endpoint
        self.login_provider_key = pulumi.Output.concat(self.user_pool.endpoint, ":", self.app_client.id)
        # The apps connect to IoT as guests too, so unauthenticated identities are allowed.
        self.identity_pool = aws.cognito.IdentityPool(
            f"{name}-identities",
            identity_pool_name=stack_scoped("identities", limit=128, separator="_"),
            allow_unauthenticated_identities=True,
            cognito_identity_providers=[
                {
                    "client_id": self.app_client.id,
                    "provider_name": self.user_pool.endpoint,
                    "server_side_token_check": False,
                }
            ],
            opts=child,
        )
        self.authenticated_role = aws.iam.Role(
            f"{name}-authenticated",
            assume_role_policy=identity_role_trust(self.identity_pool.id, authenticated=True),
            opts=child,
        )
        self.unauthenticated_role = aws.iam.Role(
            f"{name}-guest",
            assume_role_policy=identity_role_trust(self.identity_pool.id, authenticated=False),
            opts=child,
        )
        self.staff_role: aws.iam.Role | None = None
        role_mappings = None
        if staff_role:
            self.staff_role = aws.iam.Role(
                f"{name}-staff",
                assume_role_policy=identity_role_trust(self.identity_pool.id, authenticated=True),
                opts=child,
            )
            # Rule-based role mapping on the `cognito:groups` claim, `Contains` matching one group of several:
            # https://docs.aws.amazon.com/cognito/latest/developerguide/role-based-access-control.html
            role_mappings = [
                {
                    "identity_provider": self.login_provider_key,
                    "type": "Rules",
                    "ambiguous_role_resolution": "AuthenticatedRole",
                    "mapping_rules": [
                        {
                            "claim": "cognito:groups",
                            "match_type": "Contains",
                            "value": ADMIN_GROUP,
                            "role_arn": self.staff_role.arn,
                        }
                    ],
                }
            ]
        aws.cognito.IdentityPoolRoleAttachment(
            f"{name}-roles",
            identity_pool_id=self.identity_pool.id,
            roles={
                "authenticated": self.authenticated_role.arn,
                "unauthenticated": self.unauthenticated_role.arn,
            },
            role_mappings=role_mappings,
            opts=child,
        )

        self.user_pool_id = self.user_pool.id
        self.user_pool_arn = self.user_pool.arn
        self.client_id = self.app_client.id
        self.identity_pool_id = self.identity_pool.id
        self.register_outputs(
            {
                "userPoolId": self.user_pool_id,
                "userPoolWebClientId": self.client_id,
                "poolId": self.identity_pool_id,
            }
        )
