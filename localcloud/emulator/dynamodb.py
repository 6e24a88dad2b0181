"""DynamoDB: moto's tables, made atomic, with one cost removed.

1. Every operation is atomic: moto's backend is not thread-safe (a Query or GetItem iterating a table
   while another thread's UpdateItem added an item raised ``RuntimeError: dictionary changed size during
   iteration``), and two concurrent conditional writes to one item could both succeed. Every DynamoDB
   API call in this process reaches the backend through ``DynamoHandler.call_action`` (boto3 calls
   from tests, handlers and pollers, the Step Functions interpreter's ``dynamodb:*`` and
   ``aws-sdk:dynamodb:*`` tasks, ``TransactWriteItems``); one re-entrant lock now covers that call,
   action and response serialisation included, so each operation sees and leaves a consistent backend
   and conditions are checked and applied in one step, as on AWS. AWS serialises per item, not per
   account; a per-backend lock is stricter than needed and cheap at this scale.
2. Cost that grew with volume (results unchanged): ``TransactWriteItems`` deep-copied every touched
   TABLE to roll back a cancelled transaction (O(table size) per call); only the touched ITEMS are
   copied now, and restored on error.
3. Key sizes: moto refused an oversized key (partition key over 2048 bytes, sort key over 1024) only in
   PutItem; GetItem, UpdateItem and DeleteItem now refuse it with ``ValidationException`` too, as AWS
   does, instead of answering "no such item" or writing it.
4. Cost per UpdateItem (results unchanged): moto parsed the update expression twice per call (once to
   check its names and values, once to apply it). A parsed expression is now kept per expression
   string; its readers only search it, and the one that applies it works on its own deep copy
   (``UpdateExpressionValidator``), so the kept tree is never changed. An expression that fails to
   parse is not kept and is refused every time.
5. Cost per UpdateItem (results unchanged): moto's first check of an update expression, at most one
   SET, one REMOVE and one ADD clause, walked the whole tree once per node (quadratic in the number
   of actions), twice per call. Its verdict depends only on the parsed tree, so it now runs once per
   kept tree, before the other checks as before; a tree that fails it is not remembered and fails
   every time. A tree that passes is also kept pickled: the copy each call's checks work on is
   unpickled from it, about six times faster than ``copy.deepcopy`` of the tree, and the same tree.
6. Cost per UpdateItem (results unchanged): each of the nine checks and steps that an update
   expression's tree goes through walked every node asking ``isinstance`` against abstract base classes
   (slow in CPython) and rebuilt its tuple of node kinds at every node: a quarter of a
   ``TransactWriteItems`` of one put and two counter updates. Whether a node is a node, and whether a
   step processes nodes of its class, depend only on the classes, so both answers are kept per class;
   the walk visits the same nodes in the same order and calls the same hooks.

Tests: ``tests/localcloud/test_emulator_dynamodb.py``.
"""

from __future__ import annotations

import copy
import pickle
import threading
import weakref
from typing import Any

# Re-entrant: a call that reaches DynamoDB again on the same thread (moto's stream hooks) must not deadlock.
_LOCK = threading.RLock()


def install() -> None:
    _patch_atomic_operations()
    _patch_transaction_cost()
    _patch_key_sizes()
    _patch_update_expression_parsing()
    _patch_clause_counts()
    _patch_tree_walks()


def _patch_atomic_operations() -> None:
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _LOCK:
            return original(self)

    DynamoHandler.call_action = call_action


def _patch_transaction_cost() -> None:
    import moto.dynamodb.models as dynamodb_models
    from moto.dynamodb.models import DynamoDBBackend, dynamo_type
    from moto.dynamodb.models import table as table_module

    class _TablesNotCopied:
        """`copy` as moto's transaction code sees it: tables are not deep-copied (items are, below)."""

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, table_module.Table) else copy.deepcopy(value, memo)

    dynamodb_models.copy = _TablesNotCopied()
    original = DynamoDBBackend.transact_write_items

    def item_key(table: Any, operation: dict[str, Any]) -> tuple[Any, Any] | None:
        key = operation.get("Key") or operation.get("Item") or {}
        if table.hash_key_attr not in key:
            return None
        hash_value = dynamo_type.DynamoType(key[table.hash_key_attr])
        range_value = dynamo_type.DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        return hash_value, range_value

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        snapshots = []
        for entry in transact_items:
            operation = next(iter(entry.values()))
            table = self.tables.get(operation.get("TableName"))
            key = item_key(table, operation) if table is not None else None
            if key is not None:
                snapshots.append((table, *key, copy.deepcopy(table.get_item(*key))))
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(snapshots):
                _restore_item(table, hash_value, range_value, item)
            raise

    DynamoDBBackend.transact_write_items = transact_write_items


def _restore_item(table: Any, hash_value: Any, range_value: Any, item: Any) -> None:
    if item is None:
        if table.get_item(hash_value, range_value) is not None:
            table.delete_item(hash_value, range_value)
    elif range_value is not None:
        table.items[hash_value][range_value] = item
    else:
        table.items[hash_value] = item


def _patch_key_sizes() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    def checked(original: Any) -> Any:
        def operation(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
            self.get_table(table_name)._validate_key_sizes(key)
            return original(self, table_name, key, *args, **kwargs)

        return operation

    for name in ("get_item", "update_item", "delete_item"):
        setattr(DynamoDBBackend, name, checked(getattr(DynamoDBBackend, name)))


# Distinct update expressions kept parsed (a program uses a fixed set); the cache starts over when full.
UPDATE_EXPRESSIONS_KEPT = 1024


def _patch_update_expression_parsing() -> None:
    import functools

    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    original = UpdateExpressionParser.make.__func__
    UpdateExpressionParser.make = classmethod(functools.lru_cache(maxsize=UPDATE_EXPRESSIONS_KEPT)(original))


def _patch_tree_walks() -> None:
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node

    original = DepthFirstTraverser.traverse_node_recursively
    is_node: dict[type, bool] = {}  # class -> a subclass of Node
    processed: dict[tuple[type, type], bool] = {}  # (step class, node class) -> the step processes it

    def traverse_node_recursively(self: Any, node: Any, child_id: int = -1) -> Any:
        node_class = node.__class__
        known = is_node.get(node_class)
        if known is None:
            known = is_node[node_class] = issubclass(node_class, Node)
        if not known:
            return node
        parent_node = node.parent
        if node.children is not None:
            for i, child_node in enumerate(node.children):
                self.pre_processing_of_child(node, i)
                self.traverse_node_recursively(child_node, i)
        key = (self.__class__, node_class)
        wanted = processed.get(key)
        if wanted is None:
            wanted = processed[key] = issubclass(node_class, self.nodes_to_be_processed())
        if wanted:
            node = self.process(node)
            node.parent = parent_node
            if parent_node:
                parent_node.children[child_id] = node
        return node

    traverse_node_recursively.__wrapped__ = original  # type: ignore[attr-defined]
    DepthFirstTraverser.traverse_node_recursively = traverse_node_recursively


def _patch_clause_counts() -> None:
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.validators import ActionCountValidator, UpdateExpressionValidator

    kept: weakref.WeakKeyDictionary[Any, bytes] = weakref.WeakKeyDictionary()
    lock = threading.Lock()
    original_init = UpdateExpressionValidator.__init__
    original_processors = UpdateExpressionValidator.get_ast_processors

    def get_ast_processors(self: Any) -> list[Any]:
        return [p for p in original_processors(self) if not isinstance(p, ActionCountValidator)]

    def __init__(self: Any, expression: Any, *args: Any, **kwargs: Any) -> None:
        with lock:
            known = expression in kept
        if not known:
            # Raises TooManyClauses, as the first of moto's checks did; only a tree that passes is kept.
            ActionCountValidator().traverse(copy.deepcopy(expression))
            with lock:
                kept[expression] = pickle.dumps(expression, protocol=pickle.HIGHEST_PROTOCOL)
        original_init(self, expression, *args, **kwargs)

    def tree_copy(value: Any, memo: Any = None) -> Any:
        """``copy.deepcopy`` as the validators see it: a kept tree comes out of its pickle."""
        with lock:
            blob = kept.get(value) if isinstance(value, validators.UpdateExpression) else None
        return pickle.loads(blob) if blob is not None else copy.deepcopy(value, memo)

    UpdateExpressionValidator.get_ast_processors = get_ast_processors
    UpdateExpressionValidator.__init__ = __init__
    validators.deepcopy = tree_copy
