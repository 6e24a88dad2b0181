"""The metrics table as an exactly-once ledger: a sale is recorded together with its sale marker."""

from __future__ import annotations

from typing import Any

from aggregates import Sale, aggregate_keys, marker_key
from botocore.exceptions import ClientError

_INCREMENT = "SET val = if_not_exists(val, :zero) + :one"
_NUMBERS = {":zero": {"N": "0"}, ":one": {"N": "1"}}


def _typed(key: dict[str, str]) -> dict[str, dict[str, str]]:
    return {name: {"S": value} for name, value in key.items()}


class SalesLedger:
    """Writes a sale once per sale id (the order's run, or the event id of a sale without one).

    With aggregates on, one transaction puts the marker (only if absent) and increments both daily items,
    so a redelivered message or a repeated announcement can never be counted twice, nor half-counted.
    With aggregates off, the table still stores the markers so the CloudWatch sink stays exactly-once.
    """

    def __init__(self, client: Any, table_name: str, write_aggregates: bool) -> None:
        self._client = client
        self._table = table_name
        self._write_aggregates = write_aggregates

    def record_once(self, sale: Sale) -> bool:
        """True when this call counted the sale; False when it was counted before."""
        marker = {
            "TableName": self._table,
            "Item": {
                **_typed(marker_key(sale.sale_id)),
                "eventId": {"S": sale.event_id},
                "day": {"S": sale.day},
                "drink": {"S": sale.drink},
            },
            "ConditionExpression": "attribute_not_exists(PK)",
        }
        try:
            if not self._write_aggregates:
                self._client.put_item(**marker)
                return True
            increments = [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": _typed(key),
                        "UpdateExpression": _INCREMENT,
                        "ExpressionAttributeValues": _NUMBERS,
                    }
                }
                for key in aggregate_keys(sale)
            ]
            self._client.transact_write_items(TransactItems=[{"Put": marker}, *increments])
            return True
        except ClientError as error:
            if _marker_already_present(error):
                return False
            raise


def _marker_already_present(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code")
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = error.response.get("CancellationReasons") or []
        return bool(reasons) and reasons[0].get("Code") == "ConditionalCheckFailed"
    return False
