"""The order fulfillment's stack configuration: built with the shop's machinery, so a bad value is refused
the same way (stack, key, value, what is allowed); its Pulumi.yaml and docs table match the code; and
the partner's API key is a declared secret that no stack file holds in plain text."""

from __future__ import annotations

import re

import pytest
import yaml

import config
import stack_settings
from fulfillment import settings
from localcloud import program

REPO = program.project_dir("fulfillment")
VALID = {"owner": "team", "costCenter": "cc-1", "usOrdersEndpoint": "https://partner.example.com/orders"}


def load(**overrides):
    return settings.load_config("dev", {**VALID, **overrides}, "eu-west-1")


def test_every_stack_file_loads_into_a_typed_config():
    for stack in program.stack_names(REPO):
        values = program.stack_config(stack, REPO)
        loaded = settings.load_config(
            stack,
            {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith("fulfillment:")},
            values.get("aws:region"),
        )
        assert loaded.stack == stack
        assert loaded.partner.endpoint.startswith(("https://", "http://127.0.0.1"))


def test_defaults_are_the_blogs_system():
    loaded = load()
    assert loaded.event_source == "com.aws.orders"
    assert loaded.partner.api_key_header == "x-api-key"
    assert loaded.workflow_type == "STANDARD"


def test_both_projects_share_one_machinery():
    assert config.ConfigError is stack_settings.ConfigError
    assert settings.Setting is config.Setting is stack_settings.Setting
    with pytest.raises(stack_settings.ConfigError):
        load(owner="")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"usOrdersEndpoint": "http://partner.example.com/orders"},
            "fulfillment:usOrdersEndpoint = 'http://partner.example.com/orders' is not allowed; expected an "
            "https:// URL (http:// only on 127.0.0.1 or localhost, for offline runs)",
        ),
        ({"usOrdersEndpoint": "partner"}, "fulfillment:usOrdersEndpoint = 'partner' is not allowed"),
        (
            {"usOrdersApiKeyHeader": "x api key"},
            "fulfillment:usOrdersApiKeyHeader = 'x api key' is not allowed; expected an HTTP header name",
        ),
        (
            {"workflowType": "FAST"},
            "fulfillment:workflowType = 'FAST' is not allowed; expected one of STANDARD, EXPRESS",
        ),
        (
            {"ruleRetryAttempts": "many"},
            "fulfillment:ruleRetryAttempts = 'many' is not allowed; expected an integer",
        ),
        (
            {"retainData": "true"},
            "fulfillment:retainData = True is not allowed; expected deletionProtection true as well",
        ),
        ({"capacity": "20"}, "fulfillment:capacity is not a setting of this project"),
    ],
)
def test_invalid_setting_is_refused_with_its_key_value_and_what_is_allowed(overrides, expected):
    with pytest.raises(config.ConfigError) as refused:
        load(**overrides)
    assert "stack 'dev'" in str(refused.value)
    assert expected in str(refused.value)


def test_loopback_endpoints_are_allowed_for_offline_runs():
    assert load(usOrdersEndpoint="http://127.0.0.1:4599/").partner.endpoint == "http://127.0.0.1:4599/"


def test_missing_required_keys_and_region_are_all_reported_at_once():
    with pytest.raises(config.ConfigError) as refused:
        settings.load_config("dev", {}, None)
    message = str(refused.value)
    for wanted in ("fulfillment:owner is required", "fulfillment:usOrdersEndpoint is required", "aws:region"):
        assert wanted in message


def test_pulumi_yaml_declares_exactly_the_settings_and_the_secret():
    declared = yaml.safe_load((REPO / "Pulumi.yaml").read_text())["config"]
    secret = declared.pop(settings.API_KEY_SECRET)
    assert secret["secret"] is True and "default" not in secret
    assert set(declared) == set(settings.SETTINGS_BY_KEY)
    for key, spec in declared.items():
        setting = settings.SETTINGS_BY_KEY[key]
        assert spec["type"] == setting.type, key
        assert spec.get("default") == setting.default, key
        assert spec["description"] == setting.description, key


def test_the_project_runs_from_its_folder_with_the_root_virtualenv():
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    assert project["name"] == settings.PROJECT
    assert (REPO / project["runtime"]["options"]["virtualenv"]).resolve() == program.REPO_ROOT / ".venv"


def test_stack_files_use_only_declared_keys_and_never_hold_the_key_in_plain_text():
    for stack in program.stack_names(REPO):
        keys = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]
        ours = [k.split(":", 1)[1] for k in keys if k.startswith("fulfillment:")]
        assert set(ours) <= set(settings.SETTINGS_BY_KEY), stack
        assert settings.API_KEY_SECRET not in ours, f"{stack} holds the partner's key in plain text"


def test_the_fulfillment_docs_configuration_reference_matches_the_settings_module():
    reference = (program.REPO_ROOT / "docs" / "fulfillment.md").read_text()
    table = re.search(
        r"<!-- fulfillment-config-table:start -->\n(.*?)\n<!-- fulfillment-config-table:end -->",
        reference,
        re.S,
    )
    assert table, "docs/fulfillment.md lost the generated configuration table markers"
    assert table.group(1).strip() == settings.markdown_table(), (
        "docs/fulfillment.md's table is stale: `python -m fulfillment.settings --markdown` regenerates it"
    )


def test_the_local_cloud_refuses_the_partner_key_as_plain_config_without_echoing_it():
    from localcloud.stack_options import checked_config, secret_overrides

    with pytest.raises(SystemExit) as refused:
        checked_config(["usOrdersApiKey=do-not-show-me"], "local", repo=REPO)
    assert "--secret" in str(refused.value) and "do-not-show-me" not in str(refused.value)
    with pytest.raises(SystemExit) as malformed:
        secret_overrides(["do-not-show-me"])
    assert "do-not-show-me" not in str(malformed.value)
    assert checked_config(["usOrdersEndpoint=http://127.0.0.1:9/"], "local", repo=REPO) == {
        "usOrdersEndpoint": "http://127.0.0.1:9/"
    }
