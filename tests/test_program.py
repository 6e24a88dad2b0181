"""The whole program, evaluated for every stack with that stack's real config file."""

from __future__ import annotations

TABLE = "aws:dynamodb/table:Table"


def test_program_declares_the_shop_for_every_stack(program_run, stack):
    run = program_run(stack)
    assert len(run.of_type("aws:cloudwatch/eventBus:EventBus")) == 1
    assert {"eventBusName", "eventBusArn", "orderTableName", "configTableName", "countingTableName"} <= set(
        run.outputs
    )
    assert run.outputs["eventBusArn"].endswith(run.outputs["eventBusName"])


def test_resource_names_are_unique_within_a_stack(program_run, stack):
    urns = [r.urn for r in program_run(stack).resources]
    assert len(urns) == len(set(urns))


def test_prod_tables_are_protected_recoverable_and_kept_on_destroy(program_run):
    tables = program_run("prod").of_type(TABLE)
    assert tables
    for table in tables:
        assert table.protect and table.retain_on_delete, table.name
        assert table.inputs["pointInTimeRecovery"] == {"enabled": True}, table.name
        assert table.inputs["deletionProtectionEnabled"] is True, table.name


def test_dev_tables_can_be_torn_down(program_run):
    for table in program_run("dev").of_type(TABLE):
        assert not table.protect and not table.retain_on_delete, table.name
        assert table.inputs["pointInTimeRecovery"] == {"enabled": False}, table.name
        assert table.inputs.get("deletionProtectionEnabled") is False, table.name


def test_order_table_has_the_indexes_the_apps_query(program_run):
    orders = program_run("dev").named("shop-data-orders")
    assert (orders.inputs["hashKey"], orders.inputs["rangeKey"]) == ("PK", "SK")
    indexes = {i["name"]: (i["hashKey"], i["rangeKey"]) for i in orders.inputs["globalSecondaryIndexes"]}
    assert indexes == {"GSI-status": ("ORDERSTATE", "SK"), "GSI-userId": ("USERID", "SK")}
    assert [(i["name"], i["rangeKey"]) for i in orders.inputs["localSecondaryIndexes"]] == [
        ("LSI-timestamp", "TS")
    ]


def test_config_table_streams_both_images(program_run):
    config_table = program_run("dev").named("shop-data-config")
    assert config_table.inputs["streamEnabled"] is True
    assert config_table.inputs["streamViewType"] == "NEW_AND_OLD_IMAGES"


def test_local_stack_waits_only_seconds(program_run):
    from localcloud import program

    values = program.stack_config("local")
    assert int(values["serverlesspresso:customerTimeoutSeconds"]) <= 10
    assert int(values["serverlesspresso:baristaTimeoutSeconds"]) <= 10


def test_a_stack_file_is_read_again_once_it_changes_and_a_callers_copy_is_its_own(tmp_path):
    from localcloud import program

    (tmp_path / "Pulumi.yaml").write_text("name: shop\nconfig:\n  capacity:\n    default: 20\n")
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text("config:\n  shop:capacity: 5\n")
    assert program.stack_config("dev", tmp_path) == {"shop:capacity": "5"}

    program.yaml_file(stack_file)["config"]["shop:capacity"] = 99  # a caller changing what it was given
    assert program.stack_config("dev", tmp_path) == {"shop:capacity": "5"}

    stack_file.write_text("config:\n  shop:capacity: 7\n")  # the same size, possibly the same mtime tick
    assert program.stack_config("dev", tmp_path) == {"shop:capacity": "7"}


def test_a_program_run_leaves_no_event_loop_open_for_the_garbage_collector():
    import asyncio
    import gc
    import warnings

    from localcloud import program

    def open_loops() -> int:
        gc.collect()
        return sum(
            1 for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop) and not o.is_closed()
        )

    fulfillment = program.REPO_ROOT / "fulfillment"
    secrets = {"fulfillment:usOrdersApiKey": "test-key"}
    before = open_loops()  # and what earlier tests in this worker left is finalised before recording
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for _ in range(3):
            run = program.run("local", repo=fulfillment, secrets=secrets)
        after = open_loops()

    assert run.resources
    assert after <= before, f"{after - before} event loops left open by three runs"
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_a_new_cors_origin_alone_redeploys_every_api_of_both_projects():
    """AWS keeps serving a stage's last deployment: a setting that changes only what the APIs answer
    must still give each API a new deployment, or the change never reaches the apps."""
    from localcloud import program

    for repo, key in (
        (program.REPO_ROOT, "serverlesspresso"),
        (program.REPO_ROOT / "fulfillment", "fulfillment"),
    ):

        def triggers(origin: str, repo=repo, key=key) -> dict[str, str]:
            run = program.run(
                "dev", repo=repo, config={f"{key}:corsAllowOrigin": origin}, secrets=SECRETS[key]
            )
            return {d.name: d.inputs["triggers"]["definition"] for d in run.of_type(DEPLOYMENT)}

        before, after = triggers("https://a.example"), triggers("https://b.example")
        assert before and set(before) == set(after)
        assert all(before[name] != after[name] for name in before), key
        assert triggers("https://a.example") == before


DEPLOYMENT = "aws:apigateway/deployment:Deployment"
SECRETS = {"serverlesspresso": {}, "fulfillment": {"fulfillment:usOrdersApiKey": "key"}}
