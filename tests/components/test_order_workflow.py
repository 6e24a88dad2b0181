"""OrderWorkflow and the order-processing wiring of the program, under mocks."""

from __future__ import annotations

import json

import pytest
from statelint.linter import Linter

from components.asl import PlaceholderError
from components.order_workflow import OrderWorkflow
from localcloud import program

STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
RULE = "aws:cloudwatch/eventRule:EventRule"


def machine(run, name):
    return run.named(name, STATE_MACHINE)


def statements(run, policy_name):
    return json.loads(run.named(policy_name).inputs["policy"])["Statement"]


def grants(run, policy_name):
    """{action: resources} of one role policy."""
    found = {}
    for statement in statements(run, policy_name):
        for action in statement["Action"]:
            found.setdefault(action, []).extend(statement["Resource"])
    return found


def state(run, name):
    return machine(run, name).state


def test_every_stack_renders_both_definitions_fully_and_they_pass_statelint(program_run, stack):
    run = program_run(stack)
    for name in ("order-processor", "order-manager"):
        definition = machine(run, name).inputs["definition"]
        assert "${" not in definition, f"{name} kept a placeholder"
        assert Linter.validate(json.loads(definition)) == [], name


def test_stack_settings_reach_the_processor_definition(program_run):
    states = json.loads(machine(program_run("local"), "order-processor").inputs["definition"])["States"]
    values = program.stack_config("local")
    assert states["Emit - Workflow Started TT"]["TimeoutSeconds"] == int(
        values["serverlesspresso:customerTimeoutSeconds"]
    )
    assert states["Emit - Awaiting Completion TT"]["TimeoutSeconds"] == int(
        values["serverlesspresso:baristaTimeoutSeconds"]
    )
    capacity = int(values["serverlesspresso:capacity"])
    choice = json.dumps(states["Is capacity available?"])
    assert f"Executions[{capacity}]" in choice


def test_definitions_name_the_stacks_own_tables_and_bus(program_run):
    run = program_run("dev")
    processor = machine(run, "order-processor").inputs["definition"]
    manager = machine(run, "order-manager").inputs["definition"]
    assert run.outputs["configTableName"] in processor and run.outputs["countingTableName"] in processor
    assert run.outputs["eventBusName"] in processor and run.outputs["eventBusName"] in manager
    assert run.outputs["orderTableName"] in manager
    validate = run.named("validate-order", "aws:lambda/function:Function")
    assert validate.state["arn"] in manager


def test_processor_is_standard_and_manager_is_express(program_run):
    run = program_run("dev")
    assert machine(run, "order-processor").inputs["type"] == "STANDARD"
    assert machine(run, "order-manager").inputs["type"] == "EXPRESS"


def test_processor_role_reaches_only_its_tables_bus_and_itself(program_run):
    run = program_run("dev")
    tables = {t.name: t.state["arn"] for t in run.of_type("aws:dynamodb/table:Table")}
    found = grants(run, "order-processor-policy")
    # The shop's status, and whether an order id is already taken (D12).
    assert found["dynamodb:GetItem"] == [tables["shop-data-config"], tables["shop-data-orders"]]
    assert found["dynamodb:UpdateItem"] == [tables["shop-data-counting"]]
    assert found["events:PutEvents"] == [run.outputs["eventBusArn"]]
    assert grants(run, "order-processor-self-policy") == {
        "states:ListExecutions": [run.outputs["orderProcessorArn"]]
    }


def test_manager_role_reaches_orders_menu_validator_bus_and_resumes_only_the_processor(program_run):
    run = program_run("dev")
    tables = {t.name: t.state["arn"] for t in run.of_type("aws:dynamodb/table:Table")}
    found = grants(run, "order-manager-policy")
    # The menu, and the order's owner when a customer's drink is refused (D14).
    assert found["dynamodb:GetItem"] == [tables["shop-data-config"], tables["shop-data-orders"]]
    assert found["dynamodb:UpdateItem"] == [tables["shop-data-orders"]]
    assert found["lambda:InvokeFunction"] == [
        run.named("validate-order", "aws:lambda/function:Function").state["arn"]
    ]
    assert found["states:SendTaskSuccess"] == [run.outputs["orderProcessorArn"]]


def test_workflows_log_to_their_own_group_at_the_stack_level(program_run):
    run = program_run("dev")
    for name in ("order-processor", "order-manager"):
        logging = machine(run, name).inputs["loggingConfiguration"]
        group = run.named(f"{name}-logs")
        assert logging["logDestination"] == f"{group.state['arn']}:*"
        assert logging["level"] == "ALL"  # Pulumi.dev.yaml asks for ALL
        assert group.inputs["retentionInDays"] == 7


@pytest.mark.parametrize(
    ("detail_type", "rule", "target_type"),
    [
        ("Validator.NewOrder", "new-order-rule", "order-processor"),
        ("OrderProcessor.WorkflowStarted", "workflow-started-rule", "workflow-started"),
        ("OrderProcessor.WaitingCompletion", "waiting-completion-rule", "waiting-completion"),
        ("OrderProcessor.OrderTimeOut", "order-timed-out-rule", "order-timed-out"),
    ],
)
def test_each_processor_event_is_routed_to_its_consumer(program_run, detail_type, rule, target_type):
    run = program_run("dev")
    pattern = json.loads(run.named(rule, RULE).inputs["eventPattern"])
    assert pattern == {"detail-type": [detail_type], "source": ["awsserverlessda.serverlesspresso"]}
    target = run.named(f"{rule}-target", "aws:cloudwatch/eventTarget:EventTarget")
    consumer = [
        r
        for r in run.resources
        if r.name == target_type and r.type in (STATE_MACHINE, "aws:lambda/function:Function")
    ]
    assert target.inputs["arn"] == consumer[0].state["arn"]
    assert target.inputs["eventBusName"] == run.outputs["eventBusName"]


def test_functions_get_the_names_they_read_from_the_environment(program_run):
    run = program_run("dev")
    for name in ("workflow-started", "waiting-completion", "order-timed-out"):
        variables = run.named(name, "aws:lambda/function:Function").inputs["environment"]["variables"]
        assert variables["ORDER_TABLE_NAME"] == run.outputs["orderTableName"]
    waiting = run.named("waiting-completion", "aws:lambda/function:Function").inputs["environment"][
        "variables"
    ]
    assert waiting["EVENT_BUS_NAME"] == run.outputs["eventBusName"]
    assert waiting["EVENT_SOURCE"] == "awsserverlessda.serverlesspresso"
    assert grants(run, "waiting-completion-policy")["states:SendTaskSuccess"] == [
        run.outputs["orderProcessorArn"]
    ]


def _workflow(tmp_path, substitutions, workflow_type="STANDARD"):
    definition = tmp_path / "flow.asl.json"
    definition.write_text(
        json.dumps(
            {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": "${Greeting}", "End": True}}}
        )
    )

    def declare():
        OrderWorkflow(
            "flow",
            definition_file=definition,
            workflow_type=workflow_type,
            substitutions=substitutions,
            statements=[],
            log_retention_days=1,
            log_level="ERROR",
            tracing=False,
        )

    return program.run("dev", declare)


def test_unfilled_placeholder_stops_the_program_with_its_name(tmp_path):
    with pytest.raises(PlaceholderError, match="Greeting"):
        _workflow(tmp_path, {})


def test_unknown_substitution_stops_the_program_with_its_name(tmp_path):
    with pytest.raises(PlaceholderError, match="Farewell"):
        _workflow(tmp_path, {"Greeting": "hi", "Farewell": "bye"})


def test_unknown_workflow_type_is_refused(tmp_path):
    with pytest.raises(ValueError, match="SLOW"):
        _workflow(tmp_path, {"Greeting": "hi"}, workflow_type="SLOW")


def test_substitutions_may_be_outputs_of_other_resources(tmp_path):
    run = _workflow(tmp_path, {"Greeting": "hello"})
    definition = json.loads(machine(run, "flow").inputs["definition"])
    assert definition["States"]["Done"]["Result"] == "hello"
