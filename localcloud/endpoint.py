"""A stack deployed into any AWS-compatible endpoint over HTTP: `python -m localcloud up --endpoint-url URL`.

The real program is evaluated under the mocks exactly as for the local cloud, and `materialize` creates each
resource through boto3 at `URL` instead of in the in-process emulator: nothing of the emulator (moto, its
fixes, its pollers) is used, and the target runs its own event delivery, functions and workflows. It is how
the project gets a second opinion from an emulator it did not write (MiniStack in the tests).

`EndpointStack` is the deployed stack as a client sees it: its outputs and boto3 clients bound to the URL.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from secrets import token_urlsafe
from typing import Any

from localcloud import materialize, program

__all__ = ["EndpointStack", "deploy", "emulator_modules"]


@dataclass
class EndpointStack:
    """One stack deployed at `endpoint_url` (its region's clients, its outputs, what the deploy did)."""

    endpoint_url: str
    region: str
    outputs: dict[str, Any]
    summary: materialize.DeploySummary | None = None  # None: deployed by another process (the CLI)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = materialize.endpoint_session(self.region).client(
                service, endpoint_url=self.endpoint_url, config=materialize.ONE_HOST
            )
        return self._clients[service]


def deploy(
    endpoint_url: str,
    stack: str = "local",
    config: Mapping[str, Any] | None = None,
    *,
    repo: Path = program.REPO_ROOT,
    secrets: Mapping[str, str] | None = None,
) -> EndpointStack:
    """`pulumi up` of `stack` into the endpoint. A secret the project declares and nobody gave gets a random
    value, as for the local cloud. The endpoint must not hold this stack yet (there is no state to update)."""
    given = materialize.qualified_config(secrets, repo)
    chosen = {key: given.get(key) or token_urlsafe(24) for key in program.declared_secrets(repo)}
    run, summary = materialize.deploy(
        stack,
        materialize.StackState(),
        config=config,
        repo=repo,
        secrets={**given, **chosen},
        endpoint_url=endpoint_url.rstrip("/"),
    )
    region = program.stack_config(stack, repo).get("aws:region", "us-east-1")
    region = str((config or {}).get("aws:region", region))
    return EndpointStack(endpoint_url.rstrip("/"), region, dict(run.outputs), summary)


def emulator_modules() -> list[str]:
    """The in-process emulator's modules this process has imported (none, after `up --endpoint-url`)."""
    return sorted(name for name in sys.modules if name == "moto" or name.startswith("moto."))
