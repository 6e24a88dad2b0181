"""The GitHub workflows users run: they cannot run here, so check what can be checked offline."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from localcloud import program

WORKFLOWS = sorted((program.REPO_ROOT / ".github" / "workflows").glob("*.yml"))


def load(path: Path) -> dict:
    # YAML 1.1 reads the bare key `on` as True.
    document = yaml.safe_load(path.read_text())
    document["on"] = document.pop(True, document.get("on"))
    return document


def named_stacks(node) -> list[str]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "stack" and isinstance(value, str) and "${{" not in value:
                found.append(value)
            elif key == "stack" and isinstance(value, list):
                found.extend(value)
            else:
                found.extend(named_stacks(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(named_stacks(item))
    return found


# The releases the workflows use, each pinned to the commit its repository tags (read from the repository).
PINNED = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "aws-actions/configure-aws-credentials": ("e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3"),
    "pulumi/actions": ("8e5e406f4007fca908480587cb9893c07090f58d", "v7.0.0"),
}
# Every stack that exists in the cloud (the `local` stacks are for the offline emulator only).
DEPLOYED = [(".", "dev"), (".", "staging"), (".", "prod"), ("fulfillment", "dev")]


def test_workflows_exist_and_parse():
    names = {path.name for path in WORKFLOWS}
    assert {"preview.yml", "deploy.yml", "up.yml", "drift.yml"} <= names
    for path in WORKFLOWS:
        assert load(path)["jobs"], path.name


def test_workflows_name_only_stacks_that_exist():
    existing = set(program.stack_names()) | set(program.stack_names(program.REPO_ROOT / "fulfillment"))
    mentioned = [stack for path in WORKFLOWS for stack in named_stacks(load(path))]
    assert {"dev", "staging", "prod"} <= set(mentioned)
    assert set(mentioned) <= existing


def test_every_action_is_pinned_to_a_commit():
    for path in WORKFLOWS:
        for ref in re.findall(r"uses:\s*([^\s#]+)", path.read_text()):
            if ref.startswith("./"):
                continue
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{path.name}: {ref} is not pinned"


def test_every_action_is_the_pinned_release_with_its_version_beside_it():
    used = set()
    for path in WORKFLOWS:
        for action, sha, comment in re.findall(
            r"uses:\s*([\w.-]+/[\w.-]+)@([0-9a-f]{40})\s*#\s*(\S+)", path.read_text()
        ):
            assert (sha, comment) == PINNED[action], f"{path.name}: {action}@{sha} # {comment}"
            used.add(action)
    assert used == set(PINNED)


def test_prod_deploys_after_staging_in_its_own_environment():
    deploy = load(program.REPO_ROOT / ".github" / "workflows" / "deploy.yml")["jobs"]
    assert deploy["prod"]["needs"] == "staging" and deploy["staging"]["needs"] == "fulfillment-dev"
    up = load(program.REPO_ROOT / ".github" / "workflows" / "up.yml")["jobs"]["up"]
    assert up["environment"] == "${{ inputs.stack }}"


def _matrix(job) -> list[tuple[str, str]]:
    return [(entry["project"], entry["stack"]) for entry in job["strategy"]["matrix"]["include"]]


def _pulumi_step(job) -> dict:
    return next(step for step in job["steps"] if "pulumi/actions" in step.get("uses", ""))


def test_pull_requests_preview_every_deployed_stack_of_both_projects_with_the_policy_pack():
    preview = load(program.REPO_ROOT / ".github" / "workflows" / "preview.yml")
    assert "pull_request" in preview["on"]
    job = preview["jobs"]["preview"]
    assert _matrix(job) == DEPLOYED
    step = _pulumi_step(job)
    assert step["with"]["command"] == "preview"
    assert step["with"]["comment-on-pr"] is True
    assert step["with"]["work-dir"] == "${{ matrix.project }}"
    assert step["with"]["policyPacks"].endswith("/policy_pack")
    assert (program.REPO_ROOT / "policy_pack" / "PulumiPolicy.yaml").exists()


def test_every_deploy_runs_the_policy_pack_and_the_fulfillment_follows_the_shop_in_dev():
    up = _pulumi_step(load(program.REPO_ROOT / ".github" / "workflows" / "up.yml")["jobs"]["up"])
    assert up["with"]["command"] == "up" and up["with"]["policyPacks"].endswith("/policy_pack")
    deploy = load(program.REPO_ROOT / ".github" / "workflows" / "deploy.yml")["jobs"]
    assert deploy["fulfillment-dev"]["needs"] == "dev"
    assert deploy["fulfillment-dev"]["with"] == {"project": "fulfillment", "stack": "dev"}


def test_a_daily_preview_of_every_deployed_stack_expects_no_changes():
    drift = load(program.REPO_ROOT / ".github" / "workflows" / "drift.yml")
    assert drift["on"]["schedule"]
    job = drift["jobs"]["drift"]
    assert _matrix(job) == DEPLOYED
    step = _pulumi_step(job)
    assert (step["with"]["command"], step["with"]["expect-no-changes"]) == ("preview", True)


def test_the_longest_modules_handed_out_first_exist_and_are_not_reordered_by_xdist():
    from tests.conftest import LONGEST_MODULES

    missing = [name for name in LONGEST_MODULES if not (program.REPO_ROOT / name).is_file()]
    assert missing == []  # a renamed module would silently lose its place at the front
    import tomllib

    pyproject = tomllib.loads((program.REPO_ROOT / "pyproject.toml").read_text())
    addopts = pyproject["tool"]["pytest"]["ini_options"]["addopts"].split()
    assert {"loadfile", "--no-loadscope-reorder"} <= set(addopts)


def test_every_deployed_stack_gets_each_declared_secret_from_its_committed_files():
    """CI previews and deploys from a clean checkout: a secret must come from the stack file, as an
    encrypted `secure:` value, or from a Pulumi ESC environment the stack file imports, whose creation
    the docs show. A secret set by hand on one machine stops `preview` and `up` in CI."""
    readme = "".join(
        path.read_text() for path in [program.REPO_ROOT / "README.md", *program.REPO_ROOT.glob("docs/*.md")]
    )
    for project, stack in DEPLOYED:
        repo = program.project_dir(project)
        stack_file = program.yaml_file(repo / f"Pulumi.{stack}.yaml")
        values = stack_file.get("config") or {}
        environments = stack_file.get("environment") or []
        for key in program.declared_secrets(repo):
            encrypted = isinstance(values.get(key), dict) and "secure" in values[key]
            assert encrypted or environments, f"{project}/{stack}: {key} is in no committed file"
            for environment in [] if encrypted else environments:
                assert f"pulumi env init {environment}" in readme, environment
                assert f"pulumi env set {environment} pulumiConfig.{key}" in readme, (environment, key)


def test_the_fast_lane_deploys_no_local_cloud():
    """`pytest -m fast` is for a quick check while changing a component: none of its modules may deploy
    the whole stack into the local cloud (the e2e and localcloud modules do that)."""
    from tests.conftest import FAST_LANE

    tests = program.REPO_ROOT / "tests"
    modules = [
        path
        for path in tests.rglob("test_*.py")
        if str(path.relative_to(program.REPO_ROOT)).startswith(FAST_LANE)
    ]
    assert len(modules) > 30
    deploying = [
        p.name for p in modules if re.search(r"LocalCloud\.running|\blocal_cloud\b|\bserved\b", p.read_text())
    ]
    assert deploying == []
