"""Shared fixtures: fake AWS credentials for every test, and the offline emulator."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# Never let a test reach a real account, whatever the developer's shell has configured.
for _var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_var, None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "serverlesspresso-tests")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ServerlesspressoTests")


@pytest.fixture
def aws():
    """moto with Step Functions execution and the project's emulator fixes; parked executions are
    stopped and their threads joined before the mock ends, so nothing leaks into the next test."""
    from localcloud import emulator

    with emulator.emulator():
        yield


@pytest.fixture(scope="session")
def program_run():
    """`program_run(stack)`: the whole program under mocks with that stack's real config (cached)."""
    from localcloud import program

    runs = {}

    def run(stack: str):
        if stack not in runs:
            runs[stack] = program.run(stack)
        return runs[stack]

    return run


def _stack_names():
    from localcloud import program

    return program.stack_names()


@pytest.fixture(params=_stack_names())
def stack(request):
    """Each stack that has a `Pulumi.<stack>.yaml`, in turn."""
    return request.param


# Unit-level tests import the functions straight from their folders; the shop's shared layer module is
# on the path for them as Lambda's /opt/python would be. The local cloud loads it from the published layer.
_LAYER_DIR = str(REPO_ROOT / "layers")
if _LAYER_DIR not in sys.path:
    sys.path.append(_LAYER_DIR)
