"""`python -m localcloud`: a typo in a setting or an option out of range stops the command before anything
is deployed, with a message that names the problem."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from localcloud import cli
from localcloud.stack_options import checked_config


@pytest.fixture
def nothing_deployed(monkeypatch):
    """Fails the test if a command gets as far as starting the local cloud."""
    from localcloud.cloud import LocalCloud

    def running(*args, **kwargs):
        raise AssertionError("the command deployed the stack")

    monkeypatch.setattr(LocalCloud, "running", running)


@pytest.mark.parametrize("command", ["simulate", "up"])
@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("capcity=3", "capcity: not a setting of project serverlesspresso; did you mean capacity?"),
        ("serverlesspresso:capcity=3", "not a setting of project serverlesspresso"),
        ("capacity=three", "serverlesspresso:capacity = 'three' is not allowed; expected an integer"),
        ("capacity=0", "serverlesspresso:capacity = 0 is not allowed; expected an integer from 1 to 500"),
        ("alarmEmail=not-an-address", "serverlesspresso:alarmEmail = 'not-an-address' is not allowed"),
        ("aws:profile=prod", "aws:profile: not a setting of project serverlesspresso"),
        ("capacity", "--config expects KEY=VALUE"),
    ],
)
def test_a_setting_the_stack_would_refuse_stops_the_command_before_any_deploy(
    nothing_deployed, command, setting, named
):
    with pytest.raises(SystemExit) as refused:
        cli.main([command, "--stack", "local", "--config", setting])

    assert named in str(refused.value.code)


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("--close-shop-at", "2", "expected a number from 0 to 1, got 2"),
        ("--close-shop-at", "-0.1", "expected a number from 0 to 1"),
        ("--close-shop-at", "nan", "expected a number from 0 to 1"),
        ("--close-shop-at", "half", "expected a number from 0 to 1, got 'half'"),
        ("--workers", "0", "expected a whole number from 1 to 64, got 0"),
        ("--workers", "many", "expected a whole number from 1 to 64, got 'many'"),
        ("--orders", "0", "expected a whole number from 1 to 100000, got 0"),
        ("--orders", "-5", "expected a whole number from 1 to 100000, got -5"),
        ("--month-days", "0", "expected a whole number from 1 to 31, got 0"),
        ("--month-days", "32", "expected a whole number from 1 to 31, got 32"),
        ("--month-orders", "none", "expected a whole number from 1 to 100000, got 'none'"),
        ("--month-hours", "25", "expected a whole number from 1 to 24, got 25"),
    ],
)
def test_an_option_out_of_range_is_refused_as_it_is_parsed(nothing_deployed, capsys, option, value, named):
    with pytest.raises(SystemExit) as refused:
        cli.main(["simulate", "--stack", "local", option, value])

    assert refused.value.code == 2
    error = capsys.readouterr().err
    assert option in error and named in error


def test_settings_the_stack_accepts_pass_through_as_given():
    assert checked_config(
        ["capacity=3", "serverlesspresso:logRetentionDays=1", "aws:region=eu-west-1"], "local"
    ) == {
        "capacity": "3",
        "serverlesspresso:logRetentionDays": "1",
        "aws:region": "eu-west-1",
    }


def test_a_setting_can_be_refused_only_together_with_the_others_of_the_stack():
    # Each value is fine alone; together they break a rule between settings, as `pulumi up` would say.
    with pytest.raises(SystemExit) as refused:
        checked_config(
            ["metricsConsumerTimeoutSeconds=60", "metricsQueueVisibilityTimeoutSeconds=120"], "local"
        )

    assert "expected at least 6 x metricsConsumerTimeoutSeconds = 360" in str(refused.value.code)


@pytest.mark.parametrize(
    ("arguments", "status", "said"),
    [
        (["--help"], 0, "usage: python -m localcloud"),
        (["simulate", "--config", "capcity=3"], 1, "did you mean capacity?"),
        (["simulate", "--orders", "0"], 2, "expected a whole number from 1 to 100000, got 0"),
    ],
)
def test_the_process_ends_with_the_exit_code_and_message_sys_exit_would_give(arguments, status, said):
    # __main__ leaves without the interpreter's teardown: what was printed must still arrive, also from
    # the buffered output a pipe gets by default.
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    done = subprocess.run(
        [sys.executable, "-m", "localcloud", *arguments],
        cwd=Path(cli.__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=environment,
        timeout=120,
    )

    assert done.returncode == status
    assert said in done.stdout + done.stderr
