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


def test_workflows_exist_and_parse():
    names = {path.name for path in WORKFLOWS}
    assert {"preview.yml", "deploy.yml", "up.yml"} <= names
    for path in WORKFLOWS:
        assert load(path)["jobs"], path.name


def test_workflows_name_only_stacks_that_exist():
    existing = set(program.stack_names())
    mentioned = [stack for path in WORKFLOWS for stack in named_stacks(load(path))]
    assert {"dev", "staging", "prod"} <= set(mentioned)
    assert set(mentioned) <= existing


def test_every_action_is_pinned_to_a_commit():
    for path in WORKFLOWS:
        for ref in re.findall(r"uses:\s*([^\s#]+)", path.read_text()):
            if ref.startswith("./"):
                continue
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{path.name}: {ref} is not pinned"


def test_prod_deploys_after_staging_in_its_own_environment():
    deploy = load(program.REPO_ROOT / ".github" / "workflows" / "deploy.yml")["jobs"]
    assert deploy["prod"]["needs"] == "staging" and deploy["staging"]["needs"] == "dev"
    up = load(program.REPO_ROOT / ".github" / "workflows" / "up.yml")["jobs"]["up"]
    assert up["environment"] == "${{ inputs.stack }}"


def test_pull_requests_preview_every_deployed_stack_with_a_comment():
    preview = load(program.REPO_ROOT / ".github" / "workflows" / "preview.yml")
    assert "pull_request" in preview["on"]
    job = preview["jobs"]["preview"]
    pulumi_step = next(step for step in job["steps"] if "pulumi/actions" in step.get("uses", ""))
    assert pulumi_step["with"]["command"] == "preview"
    assert pulumi_step["with"]["comment-on-pr"] is True
    assert job["strategy"]["matrix"]["stack"] == ["dev", "staging", "prod"]
