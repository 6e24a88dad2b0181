"""Shared fixtures: fake AWS credentials for every test, and the offline emulator."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.aws_environment import ORIGINAL_AWS_ENVIRONMENT  # noqa: E402, F401  (captured before the reset)

# Never let a test reach a real account, whatever the developer's shell has configured.
for _var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_var, None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "serverlesspresso-tests")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ServerlesspressoTests")

# Nothing leaves the machine: this process and every Python process the session starts (workers, served
# stacks, MiniStack and its functions) refuse connections outside 127.0.0.0/8; see the guard's doc.
NETWORK_GUARD = REPO_ROOT / "tests" / "network_guard"
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(NETWORK_GUARD), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
)
from tests.network_guard import sitecustomize as network_guard  # noqa: E402

network_guard.install()


# The suite runs in parallel workers, one test module at a time per worker (pyproject's addopts). A worker
# that picks up a long module last keeps the run going while the others idle, so the longest modules are
# handed out first. Wall seconds per module with 4 workers on the 2-core machine, measured 2026-12-03;
# the figures only order the hand-out (an outdated one costs time, never a result). Modules not named
# follow, in collection order; within a module the order is kept (some modules' tests build on each other).
LONGEST_MODULES = {
    # measured 2026-12-06 in a full run: MiniStack's functions start as processes, slow on a busy machine
    "tests/e2e/test_second_opinion.py": 80,
    "tests/e2e/test_report.py": 24,
    "tests/e2e/test_realtime.py": 24,
    "tests/e2e/test_realtime_browser.py": 12,
    "tests/e2e/test_hostile_inputs.py": 45,
    "tests/e2e/test_sales_metrics_end_to_end.py": 33,
    "tests/e2e/test_simulated_day.py": 28,
    "tests/localcloud/test_pollers.py": 25,
    "tests/e2e/test_front_door_over_http.py": 22,
    "tests/workflows/test_order_manager.py": 16,
    "tests/functions/test_workflow_started.py": 15,
    "tests/workflows/test_order_processor.py": 15,
    "tests/localcloud/test_emulator_apigateway.py": 15,
    "tests/localcloud/test_update.py": 15,
    "tests/localcloud/test_cloud.py": 14,
    "tests/test_properties.py": 14,
    "tests/e2e/test_order_journey.py": 14,
    "tests/e2e/test_shop.py": 14,
    "tests/test_policy_pack.py": 13,
    "tests/localcloud/test_emulator_api_destinations.py": 10,
    "tests/e2e/test_fulfillment.py": 10,
    "tests/e2e/test_serve.py": 9,
    "tests/localcloud/test_bill.py": 8,
}


# The fast lane (`pytest -m fast`): everything that needs no local cloud (the programs under mocks,
# components, functions, workflows, config, policy, CI files), for a quick check while changing one.
FAST_LANE = ("tests/components/", "tests/functions/", "tests/workflows/", "tests/test_")


def pytest_collection_modifyitems(session, config, items):
    def seconds(item) -> int:
        return LONGEST_MODULES.get(item.nodeid.split("::", 1)[0], 0)

    items.sort(key=lambda item: -seconds(item))  # stable: each module keeps its own order
    for item in items:
        if item.nodeid.startswith(FAST_LANE):
            item.add_marker(pytest.mark.fast)


def pytest_terminal_summary(terminalreporter):
    """The timing lines tests record (``record_property("timing", ...)``), printed once at the end."""
    lines = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        for name, value in getattr(report, "user_properties", ())
        if name == "timing"
    ]
    for line in sorted(set(lines)):
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def network_guard_log(tmp_path_factory) -> Path:
    """This worker's file of refused connections; the processes its tests start write to it too."""
    path = tmp_path_factory.mktemp("network-guard") / "refused.log"
    path.touch()
    os.environ[network_guard.LOG_VARIABLE] = str(path)
    return path


@pytest.fixture(autouse=True)
def nothing_leaves_the_machine(network_guard_log):
    """Fails the test during which any process of this worker tried to reach beyond 127.0.0.0/8."""
    before = network_guard_log.stat().st_size
    yield
    with network_guard_log.open(encoding="utf-8") as log:
        log.seek(before)
        refused = log.read().split()
    if refused:
        pytest.fail(f"connections outside 127.0.0.0/8 were refused during this test: {refused[1::2]}")


@pytest.fixture(scope="session", autouse=True)
def emulator_patches():
    """The emulator's patches to moto, installed before the first test of every worker. They are
    process-wide and permanent once installed, so without this a module that uses plain moto (the
    `mocked_aws` fixture) ran on patched or unpatched moto depending on what its worker ran before."""
    from localcloud import emulator

    emulator.install()


@pytest.fixture
def aws():
    """moto with Step Functions execution and the project's emulator fixes; parked executions are
    stopped and their threads joined before the mock ends, so nothing leaks into the next test."""
    from localcloud import emulator

    with emulator.emulator():
        yield


# The repo's Pulumi projects (project name → folder, settings module) and the secrets their stacks need
# under mocks, as `pulumi config set --secret` would have set them.
PROJECTS = {
    "serverlesspresso": (REPO_ROOT, "config"),
    "fulfillment": (REPO_ROOT / "fulfillment", "fulfillment.settings"),
}
TEST_SECRETS = {"fulfillment": {"fulfillment:usOrdersApiKey": "test-partner-api-key"}}


class ProjectStack(str):
    """A stack name that knows its project: `program_run(stack)` runs that project's program. It is the
    plain stack name everywhere else (``f"{stack}"``, comparisons, `load_config(stack, ...)`)."""

    project: str
    repo: Path

    def __new__(cls, name: str, project: str) -> ProjectStack:
        made = super().__new__(cls, name)
        made.project = project
        made.repo = PROJECTS[project][0]
        return made

    @property
    def settings(self):
        """The project's settings module (`config` for the shop), with `load_config` and `PROJECT`."""
        import importlib

        return importlib.import_module(PROJECTS[self.project][1])

    def __repr__(self) -> str:
        return f"{self.project}/{str.__str__(self)}"


def every_project_stack() -> list[ProjectStack]:
    from localcloud import program

    return [
        ProjectStack(name, project)
        for project, (repo, _) in PROJECTS.items()
        for name in program.stack_names(repo)
    ]


@pytest.fixture(scope="session")
def program_run():
    """`program_run(stack)`: the whole program under mocks with that stack's real config (cached). A plain
    name is a stack of the shop; a `ProjectStack` (the `project_stack` fixture) one of its project."""
    from localcloud import program

    runs = {}

    def run(stack: str):
        project = getattr(stack, "project", "serverlesspresso")
        key = (project, str.__str__(stack))
        if key not in runs:
            runs[key] = program.run(key[1], repo=PROJECTS[project][0], secrets=TEST_SECRETS.get(project))
        return runs[key]

    return run


def _stack_names():
    from localcloud import program

    return program.stack_names()


@pytest.fixture(params=_stack_names())
def stack(request):
    """Each stack of the shop that has a `Pulumi.<stack>.yaml`, in turn."""
    return request.param


@pytest.fixture(params=every_project_stack(), ids=repr)
def project_stack(request) -> ProjectStack:
    """Each stack of every project of the repo (the shop's and the order fulfillment's), in turn."""
    return request.param


# Unit-level tests import the functions straight from their folders; the shop's shared layer module is
# on the path for them as Lambda's /opt/python would be. The local cloud loads it from the published layer.
_LAYER_DIR = str(REPO_ROOT / "layers")
if _LAYER_DIR not in sys.path:
    sys.path.append(_LAYER_DIR)
