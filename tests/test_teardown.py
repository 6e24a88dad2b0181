"""`pulumi destroy` of a non-prod stack leaves nothing behind; prod keeps its data. Checked over what the
mocks record for every stack of both projects."""

from __future__ import annotations

KEPT_IN_PROD = {"aws:dynamodb/table:Table"}
LOGGING_TYPES = {
    "aws:lambda/function:Function": lambda r: (r.inputs.get("loggingConfig") or {}).get("logGroup"),
    "aws:sfn/stateMachine:StateMachine": lambda r: (r.inputs.get("loggingConfiguration") or {}).get(
        "logDestination"
    ),
    "aws:apigateway/stage:Stage": lambda r: (r.inputs.get("accessLogSettings") or {}).get("destinationArn"),
}


def test_only_prod_tables_are_protected_and_kept_on_destroy(program_run, project_stack):
    run = program_run(project_stack)
    kept = {(r.type, r.name) for r in run.resources if r.protect or r.retain_on_delete}
    if str(project_stack) == "prod":
        tables = {(r.type, r.name) for r in run.of_type("aws:dynamodb/table:Table")}
        assert tables and kept == tables
        assert all(r.protect and r.retain_on_delete for r in run.of_type("aws:dynamodb/table:Table"))
    else:
        assert kept == set(), f"{project_stack} would leave {sorted(kept)} behind on pulumi destroy"


def test_nothing_logs_to_a_group_aws_would_create_on_its_own(program_run, project_stack):
    """Implicit log groups (created by the service on first write) outlive the stack: every writer names
    a log group the program declares."""
    run = program_run(project_stack)
    declared = {g.state["arn"] for g in run.of_type("aws:cloudwatch/logGroup:LogGroup")} | {
        g.state["name"] for g in run.of_type("aws:cloudwatch/logGroup:LogGroup")
    }
    checked = 0
    for type_, destination_of in LOGGING_TYPES.items():
        for resource in run.of_type(type_):
            destination = str(destination_of(resource) or "")
            assert destination.removesuffix(":*") in declared, f"{resource.name} logs to {destination!r}"
            checked += 1
    assert checked
    for settings in run.of_type("aws:apigateway/methodSettings:MethodSettings"):
        # Execution logging would write to API-Gateway-Execution-Logs_<api>/<stage>, which nobody deletes.
        assert settings.inputs["settings"].get("loggingLevel") in (None, "OFF"), settings.name
