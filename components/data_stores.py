"""The shop's tables (orders, config, counter) and their seed items, written once and never reset."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws
from boto3.dynamodb.types import TypeSerializer

from stack_settings import DataProtection

MENU = (
    ("Espresso", "barista-icons_espresso-alternative"),
    ("Cappuccino", "barista-icons_cappuccino-alternative"),
    ("Latte", "barista-icons_cafe-latte"),
    ("Flat White", "barista-icons_flat-white-alternative@2x"),
    ("Americano", "barista-icons_americano"),
    ("Coffee of the day", "barista-icons_americano"),
)
SEED_CONFIG = {"PK": "config", "storeOpen": True, "maxOrdersPerUser": 1, "maxOrdersInQueue": 10}
SEED_MENU = {
    "PK": "menu",
    "value": [{"drink": drink, "icon": icon, "available": True, "modifiers": []} for drink, icon in MENU],
}
# Order numbers are counted per trading day, one item `orderID#<YYYY-MM-DD>` each, made by the day's first
# order (the OrderProcessor's `Generate Order Number`): nothing to seed, nothing to reset.
COUNTER_PREFIX = "orderID#"

_serializer = TypeSerializer()


def dynamodb_json(item: Mapping[str, Any]) -> str:
    """An item in DynamoDB's typed JSON, as `TableItem` expects it."""
    return json.dumps({key: _serializer.serialize(value) for key, value in item.items()}, sort_keys=True)


def table_options(
    protection: DataProtection,
    parent: pulumi.Resource | None,
    opts: pulumi.ResourceOptions | None = None,
) -> pulumi.ResourceOptions:
    protected = pulumi.ResourceOptions(
        parent=parent, protect=protection.retain, retain_on_delete=protection.retain
    )
    return pulumi.ResourceOptions.merge(opts, protected) if opts is not None else protected


def table(
    name: str,
    *,
    protection: DataProtection,
    parent: pulumi.Resource | None = None,
    attributes: Mapping[str, str],
    hash_key: str,
    range_key: str | None = None,
    billing_mode: str = "PAY_PER_REQUEST",
    capacity: tuple[int, int] | None = None,
    opts: pulumi.ResourceOptions | None = None,  # e.g. the stack's provider, when there is no parent
    **extra: Any,
) -> aws.dynamodb.Table:
    """A table encrypted at rest, recoverable and protected as far as the stack's config asks."""
    return aws.dynamodb.Table(
        name,
        billing_mode=billing_mode,
        read_capacity=capacity[0] if capacity else None,
        write_capacity=capacity[1] if capacity else None,
        hash_key=hash_key,
        range_key=range_key,
        attributes=[{"name": key, "type": kind} for key, kind in attributes.items()],
        server_side_encryption={"enabled": True},
        point_in_time_recovery={"enabled": protection.point_in_time_recovery},
        deletion_protection_enabled=protection.deletion_protection,
        opts=table_options(protection, parent, opts),
        **extra,
    )


def seed_item(
    name: str, target: aws.dynamodb.Table, item: Mapping[str, Any], parent: pulumi.Resource
) -> aws.dynamodb.TableItem:
    """Created with the stack and never rewritten: an edit to the program or a refresh cannot reset it."""
    return aws.dynamodb.TableItem(
        name,
        table_name=target.name,
        hash_key="PK",
        item=dynamodb_json(item),
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=["item"]),
    )


def _index(name: str, hash_key: str, range_key: str) -> dict[str, str]:
    return {"name": name, "hash_key": hash_key, "range_key": range_key, "projection_type": "ALL"}


class DataStores(pulumi.ComponentResource):
    def __init__(self, name: str, *, protection: DataProtection, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverlesspresso:data:DataStores", name, None, opts)

        self.order_table = table(
            f"{name}-orders",
            protection=protection,
            parent=self,
            attributes={"PK": "S", "SK": "S", "ORDERSTATE": "S", "USERID": "S", "TS": "N"},
            hash_key="PK",
            range_key="SK",
            global_secondary_indexes=[
                _index("GSI-status", "ORDERSTATE", "SK"),
                _index("GSI-userId", "USERID", "SK"),
            ],
            local_secondary_indexes=[{"name": "LSI-timestamp", "range_key": "TS", "projection_type": "ALL"}],
        )
        self.config_table = table(
            f"{name}-config",
            protection=protection,
            parent=self,
            attributes={"PK": "S"},
            hash_key="PK",
            stream_enabled=True,
            stream_view_type="NEW_AND_OLD_IMAGES",
        )
        self.counting_table = table(
            f"{name}-counting", protection=protection, parent=self, attributes={"PK": "S"}, hash_key="PK"
        )

        self.seed_items: Sequence[aws.dynamodb.TableItem] = (
            seed_item(f"{name}-seed-config", self.config_table, SEED_CONFIG, self),
            seed_item(f"{name}-seed-menu", self.config_table, SEED_MENU, self),
        )
        self.register_outputs(
            {
                "orderTable": self.order_table.name,
                "configTable": self.config_table.name,
                "countingTable": self.counting_table.name,
            }
        )
