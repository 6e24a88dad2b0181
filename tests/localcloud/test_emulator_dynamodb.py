"""Each DynamoDB gap closed by localcloud.emulator.dynamodb."""

from __future__ import annotations

import functools
import threading
import time

import boto3
import pytest
from botocore.config import Config

from localcloud import emulator
from tests.localcloud.emulator_helpers import create_machine, describe

# --- gap 2: transactions copy items, not tables (results unchanged) -------------------------------


def _counter_table():
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName="aggregates",
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb


def _count(key: str) -> dict:
    return {
        "Update": {
            "TableName": "aggregates",
            "Key": {"PK": {"S": key}},
            "UpdateExpression": "SET val = if_not_exists(val, :zero) + :one",
            "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"}},
        }
    }


def _marker(key: str) -> dict:
    return {
        "Put": {
            "TableName": "aggregates",
            "Item": {"PK": {"S": key}},
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }


def test_a_cancelled_transaction_leaves_every_item_as_it_was(aws):
    dynamodb = _counter_table()
    dynamodb.transact_write_items(TransactItems=[_marker("event-1"), _count("total")])

    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[_count("total"), _count("latte"), _marker("event-1")])

    items = {i["PK"]["S"]: i for i in dynamodb.scan(TableName="aggregates")["Items"]}
    assert set(items) == {"event-1", "total"}
    assert items["total"]["val"] == {"N": "1"}


def test_a_committed_transaction_applies_every_item(aws):
    dynamodb = _counter_table()
    for event in ("event-1", "event-2"):
        dynamodb.transact_write_items(TransactItems=[_marker(event), _count("total"), _count("latte")])

    items = {i["PK"]["S"]: i for i in dynamodb.scan(TableName="aggregates")["Items"]}
    assert items["total"]["val"] == items["latte"]["val"] == {"N": "2"}


# --- gap 1: every operation is atomic ----------------------------------------------------------------
#
# Each race is made certain rather than likely: the test slows moto down at the point where the race
# happens (a condition evaluated after the current item was read; a read iterating the live table),
# holding it there so that other threads run. Serialised operations are unaffected by where they wait.


@pytest.fixture
def slow_conditions(monkeypatch):
    """Every condition expression takes 5 ms to evaluate, after moto has read the current item."""
    from moto.dynamodb.models import table

    original = table.get_filter_expression

    class Slow:
        def __init__(self, op):
            self.op = op

        def expr(self, item):
            time.sleep(0.005)
            return self.op.expr(item)

    def get_filter_expression(*args, **kwargs):
        return Slow(original(*args, **kwargs))

    monkeypatch.setattr(table, "get_filter_expression", get_filter_expression)


@pytest.fixture
def paused_read(monkeypatch):
    """The first full-table read of a non-empty table stops after its first item, until a write was
    made (``wrote``) or 0.3 s passed; ``reading`` tells the writer it has stopped there."""
    from moto.dynamodb.models.table import Table

    original = Table.all_items
    reading, wrote = threading.Event(), threading.Event()

    def all_items(self):
        items = iter(self.items.values())  # the live iteration moto's own all_items does
        if next(items, None) is not None and not reading.is_set():
            reading.set()
            wrote.wait(0.3)
        for _ in items:
            pass
        return original(self)

    monkeypatch.setattr(Table, "all_items", all_items)
    return reading, wrote


def no_retries_client():
    """A client that shows every failure (botocore would retry moto's 500s and hide the race)."""
    return boto3.client("dynamodb", region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}))


def _orders_table():
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName="orders",
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb


def run_together(*targets) -> None:
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)


def test_of_concurrent_conditional_puts_to_one_item_exactly_one_wins(aws, slow_conditions):
    _orders_table()
    baristas, rounds = 5, 20
    clients = [no_retries_client() for _ in range(baristas)]
    barrier = threading.Barrier(baristas)
    winners: dict[int, list[int]] = {n: [] for n in range(rounds)}
    errors: list[BaseException] = []

    def claim(barista: int) -> None:
        dynamodb = clients[barista]
        for n in range(rounds):
            barrier.wait(10)
            try:
                dynamodb.put_item(
                    TableName="orders",
                    Item={"PK": {"S": "orders"}, "SK": {"S": f"order-{n}"}, "barista": {"N": str(barista)}},
                    ConditionExpression="attribute_not_exists(PK)",
                )
                winners[n].append(barista)
            except dynamodb.exceptions.ConditionalCheckFailedException:
                pass
            except Exception as error:
                errors.append(error)

    run_together(*(functools.partial(claim, barista) for barista in range(baristas)))

    assert errors == []
    assert {n: won for n, won in winners.items() if len(won) != 1} == {}
    stored = clients[0].query(
        TableName="orders",
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "orders"}},
    )["Items"]
    assert {item["SK"]["S"]: int(item["barista"]["N"]) for item in stored} == {
        f"order-{n}": won[0] for n, won in winners.items()
    }


def test_a_read_racing_writes_never_sees_the_table_change_under_it(aws, paused_read):
    reading, wrote = paused_read
    _orders_table()
    errors: list[BaseException] = []
    reader, writer = no_retries_client(), no_retries_client()

    def put(n: int) -> None:
        item = {"PK": {"S": f"user-{n}"}, "SK": {"S": f"order-{n}"}, "drink": {"S": "latte"}}
        writer.put_item(TableName="orders", Item=item)

    def write() -> None:
        try:
            put(0)
            assert reading.wait(10), "the reader never read"
            for n in range(1, 4):
                put(n)
                wrote.set()
        except Exception as error:
            errors.append(error)

    def read() -> None:
        try:
            while not reading.is_set():
                reader.scan(TableName="orders")
        except Exception as error:
            errors.append(error)

    run_together(write, read)

    assert errors == []
    assert reader.scan(TableName="orders", Select="COUNT")["Count"] == 4


def test_the_workflow_interpreters_dynamodb_tasks_take_the_same_lock(aws):
    from localcloud.emulator import dynamodb as emulated

    _orders_table()
    machine_arn = create_machine(
        {
            "StartAt": "Read",
            "States": {
                "Read": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::dynamodb:getItem",
                    "Parameters": {"TableName": "orders", "Key": {"PK": {"S": "u"}, "SK": {"S": "o"}}},
                    "End": True,
                }
            },
        }
    )
    sfn = boto3.client("stepfunctions")
    with emulated._LOCK:  # as if another thread's operation were in progress
        execution_arn = sfn.start_execution(stateMachineArn=machine_arn)["executionArn"]
        time.sleep(0.3)
        assert describe(execution_arn)["status"] == "RUNNING"
    emulator.settle()

    assert describe(execution_arn)["status"] == "SUCCEEDED"


# --- gap 3: every operation refuses a key over DynamoDB's size limits --------------------------------


@pytest.mark.parametrize(
    "key",
    [
        pytest.param({"PK": {"S": "orders"}, "SK": {"S": "x" * 1025}}, id="sort-key-over-1024-bytes"),
        pytest.param({"PK": {"S": "p" * 2049}, "SK": {"S": "1"}}, id="partition-key-over-2048-bytes"),
    ],
)
@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda db, key: db.get_item(TableName="orders", Key=key), id="GetItem"),
        pytest.param(
            lambda db, key: db.update_item(
                TableName="orders",
                Key=key,
                UpdateExpression="SET n = :n",
                ExpressionAttributeValues={":n": {"N": "1"}},
            ),
            id="UpdateItem",
        ),
        pytest.param(lambda db, key: db.delete_item(TableName="orders", Key=key), id="DeleteItem"),
    ],
)
def test_an_oversized_key_is_refused_as_invalid_and_nothing_is_written(aws, key, operation):
    dynamodb = _orders_table()

    with pytest.raises(dynamodb.exceptions.ClientError, match="ValidationException"):
        operation(dynamodb, key)

    assert dynamodb.scan(TableName="orders")["Items"] == []


def test_keys_at_the_size_limits_are_still_accepted(aws):
    dynamodb = _orders_table()
    key = {"PK": {"S": "p" * 2048}, "SK": {"S": "é" * 512}}

    dynamodb.update_item(
        TableName="orders",
        Key=key,
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "1"}},
    )

    assert dynamodb.get_item(TableName="orders", Key=key)["Item"]["n"] == {"N": "1"}


# --- 4: a parsed update expression is kept, never changed ----------------------------------------


def test_one_update_expression_applies_each_calls_own_values(aws):
    _orders_table()
    client = boto3.client("dynamodb")
    expression = "SET ORDERSTATE = :state, drinks = list_append(if_not_exists(drinks, :none), :drink)"
    for order_id, state, drink in [
        ("1", "CREATED", "latte"),
        ("2", "COMPLETED", "mocha"),
        ("1", "PAID", "tea"),
    ]:
        client.update_item(
            TableName="orders",
            Key={"PK": {"S": "orders"}, "SK": {"S": order_id}},
            UpdateExpression=expression,
            ExpressionAttributeValues={
                ":state": {"S": state},
                ":none": {"L": []},
                ":drink": {"L": [{"S": drink}]},
            },
        )

    def item(order_id: str) -> dict:
        found = client.get_item(TableName="orders", Key={"PK": {"S": "orders"}, "SK": {"S": order_id}})[
            "Item"
        ]
        return {"state": found["ORDERSTATE"]["S"], "drinks": [d["S"] for d in found["drinks"]["L"]]}

    assert item("1") == {"state": "PAID", "drinks": ["latte", "tea"]}
    assert item("2") == {"state": "COMPLETED", "drinks": ["mocha"]}


def test_an_update_expression_that_does_not_parse_is_refused_every_time(aws):
    _orders_table()
    client = boto3.client("dynamodb")
    for _ in range(2):
        with pytest.raises(client.exceptions.ClientError, match="Invalid UpdateExpression"):
            client.update_item(
                TableName="orders",
                Key={"PK": {"S": "orders"}, "SK": {"S": "1"}},
                UpdateExpression="SET = :state",
                ExpressionAttributeValues={":state": {"S": "CREATED"}},
            )


# --- 5: an update expression's clauses are counted once per parsed expression ---------------------


def _update(client, expression: str, **values: str) -> None:
    client.update_item(
        TableName="orders",
        Key={"PK": {"S": "orders"}, "SK": {"S": "1"}},
        UpdateExpression=expression,
        ExpressionAttributeValues={f":{name}": {"S": value} for name, value in values.items()},
    )


def test_an_expression_with_two_set_clauses_is_refused_every_time_and_writes_nothing(aws):
    _orders_table()
    client = boto3.client("dynamodb")
    for _ in range(2):
        with pytest.raises(client.exceptions.ClientError, match='The "SET" section can only be used once'):
            _update(client, "SET ORDERSTATE = :state SET barista = :who", state="CREATED", who="3")
    assert "Item" not in client.get_item(TableName="orders", Key={"PK": {"S": "orders"}, "SK": {"S": "1"}})


def test_a_valid_expressions_clauses_are_counted_once_and_its_tree_deep_copied_once(aws, monkeypatch):
    import copy

    from moto.dynamodb.parsing.ast_nodes import UpdateExpression
    from moto.dynamodb.parsing.validators import ActionCountValidator

    counts = []
    tree_copies = []
    original_count = ActionCountValidator.verify_action_counts
    original_deepcopy = copy.deepcopy

    def counting(self, node):
        counts.append(node)
        return original_count(self, node)

    def deepcopy(value, memo=None):
        if isinstance(value, UpdateExpression):
            tree_copies.append(value)
        return original_deepcopy(value, memo)

    monkeypatch.setattr(ActionCountValidator, "verify_action_counts", counting)
    monkeypatch.setattr(copy, "deepcopy", deepcopy)
    _orders_table()
    client = boto3.client("dynamodb")
    expression = "SET ORDERSTATE = :state, barista = :who REMOVE TaskToken"
    _update(client, expression, state="CREATED", who="3")
    counted_once, copied_once = len(counts), len(tree_copies)
    for state in ("MAKING", "COMPLETED"):
        _update(client, expression, state=state, who="4")

    assert counted_once > 0 and copied_once > 0
    assert (len(counts), len(tree_copies)) == (counted_once, copied_once)
    item = client.get_item(TableName="orders", Key={"PK": {"S": "orders"}, "SK": {"S": "1"}})["Item"]
    assert item["ORDERSTATE"] == {"S": "COMPLETED"} and item["barista"] == {"S": "4"}


# --- 6: the checks walk an expression's tree with their answers kept per class ------------------------

WALKED_UPDATES = [
    ("SET val = if_not_exists(val, :zero) + :one", {}, {":zero": {"N": "0"}, ":one": {"N": "1"}}),
    (
        "SET val = val + :one, #n = :name ADD tags :tags",
        {"#n": "name"},
        {":one": {"N": "1"}, ":name": {"S": "x"}, ":tags": {"SS": ["a", "b"]}},
    ),
    (
        "SET drinks = list_append(if_not_exists(drinks, :none), :drink)",
        {},
        {":none": {"L": []}, ":drink": {"L": [{"S": "latte"}]}},
    ),
    ("SET info = :x", {}, {":x": {"M": {"size": {"S": "small"}}}}),
    (
        "SET info.#s = :size, info.milk = :milk",
        {"#s": "size"},
        {":size": {"S": "large"}, ":milk": {"S": "oat"}},
    ),
    ("DELETE tags :gone REMOVE #n, drinks[0]", {"#n": "name"}, {":gone": {"SS": ["a"]}}),
    ("SET val = val - :one", {}, {":one": {"N": "1"}}),
    ("ADD #n :one", {"#n": "name"}, {":one": {"N": "1"}}),  # name is gone: ADD starts it at 1
    ("SET a = :x, a.b = :x", {}, {":x": {"S": "x"}}),  # overlapping paths: refused
    ("ADD info :one", {}, {":one": {"N": "1"}}),  # a map is no number: refused
    ("SET absent = absent + :one", {}, {":one": {"N": "1"}}),  # no such attribute: refused
    ("SET SK = :x", {}, {":x": {"S": "y"}}),  # a key attribute: refused
    ("SET info.milk = :milk", {}, {":milk": {"S": "whole"}}),
]


def _apply_updates(client, order_id: str) -> list:
    outcomes = []
    for expression, names, values in WALKED_UPDATES:
        extra = {"ExpressionAttributeNames": names} if names else {}
        try:
            client.update_item(
                TableName="orders",
                Key={"PK": {"S": "orders"}, "SK": {"S": order_id}},
                UpdateExpression=expression,
                ExpressionAttributeValues=values,
                **extra,
            )
            outcomes.append("ok")
        except client.exceptions.ClientError as error:
            outcomes.append((error.response["Error"]["Code"], error.response["Error"]["Message"]))
        found = client.get_item(TableName="orders", Key={"PK": {"S": "orders"}, "SK": {"S": order_id}})
        outcomes.append({k: v for k, v in found.get("Item", {}).items() if k != "SK"})
    return outcomes


def test_update_expressions_walked_with_kept_answers_apply_and_fail_exactly_as_motos_walk(aws, monkeypatch):
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser

    client = _orders_table()
    kept = _apply_updates(client, "kept")
    monkeypatch.setattr(
        DepthFirstTraverser,
        "traverse_node_recursively",
        DepthFirstTraverser.traverse_node_recursively.__wrapped__,
    )
    motos = _apply_updates(client, "moto")

    assert kept == motos
    assert kept[-1]["info"] == {"M": {"size": {"S": "large"}, "milk": {"S": "whole"}}}
    assert sum(1 for outcome in kept[0::2] if outcome != "ok") == 4
