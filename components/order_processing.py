"""Order processing: the OrderProcessor and OrderManager workflows, the functions that keep the order
table in step with the OrderProcessor's events, and the rules that route those events to them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi

import config
from components import iam
from components.data_stores import DataStores
from components.event_bus_rule import DeliveryPolicy, EventBusRule, FunctionTarget, StateMachineTarget, Target
from components.lambda_function import FunctionSettings, LambdaFunction
from components.order_workflow import OrderWorkflow


def executions_of(state_machine_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """The ARN pattern of a state machine's executions (``...:execution:<machine name>:*``)."""
    return pulumi.Output.from_input(state_machine_arn).apply(
        lambda arn: arn.replace(":stateMachine:", ":execution:", 1) + ":*"
    )


class OrderProcessing(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        *,
        bus_name: pulumi.Input[str],
        bus_arn: pulumi.Input[str],
        data: DataStores,
        shop: config.Shop,
        observability: config.Observability,
        function_settings: FunctionSettings,
        delivery: DeliveryPolicy,
        root: Path,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("serverlesspresso:orders:OrderProcessing", name, None, opts)
        self._child = pulumi.ResourceOptions(parent=self)
        self._root, self._settings, self._delivery = root, function_settings, delivery
        self._bus_name, self._event_source = bus_name, shop.event_source
        workflow_logging: dict[str, Any] = {
            "log_retention_days": observability.log_retention_days,
            "log_level": observability.workflow_log_level,
            "tracing": observability.tracing,
            "alarm_topic_arn": function_settings.alarm_topic_arn,
        }
        put_events = iam.allow("events:PutEvents", bus_arn)

        # One execution per order, parked on the customer and then on the barista.
        self.processor = OrderWorkflow(
            "order-processor",
            definition_file=root / "asl" / "order_processor.asl.json",
            workflow_type="STANDARD",
            substitutions={
                "OrderTableName": data.order_table.name,
                "ConfigTableName": data.config_table.name,
                "CountingTableName": data.counting_table.name,
                "EventBusName": bus_name,
                "EventSource": shop.event_source,
                "Capacity": shop.capacity,
                "CustomerTimeoutSeconds": shop.customer_timeout_seconds,
                "BaristaTimeoutSeconds": shop.barista_timeout_seconds,
            },
            statements=[
                # The shop's status, and whether an order id is already taken (D12).
                iam.allow("dynamodb:GetItem", [data.config_table.arn, data.order_table.arn]),
                iam.allow("dynamodb:UpdateItem", data.counting_table.arn),
                put_events,
            ],
            actions_on_itself=["states:ListExecutions"],
            **workflow_logging,
            opts=self._child,
        )
        resume_processor = iam.allow("states:SendTaskSuccess", self.processor.arn)

        order_table_env = {"ORDER_TABLE_NAME": data.order_table.name}
        bus_env = {"EVENT_BUS_NAME": bus_name, "EVENT_SOURCE": shop.event_source}
        # It records an order only for a run that exists, and stops a run that may not keep its order id.
        self.workflow_started = self._function(
            "workflow_started",
            environment={**order_table_env, "ORDER_PROCESSOR_ARN": self.processor.arn},
            statements=[
                iam.allow("dynamodb:PutItem", data.order_table.arn),
                iam.allow("states:SendTaskFailure", self.processor.arn),
                iam.allow("states:DescribeExecution", executions_of(self.processor.arn)),
            ],
        )
        self.waiting_completion = self._function(
            "waiting_completion",
            environment={**order_table_env, **bus_env},
            statements=[iam.allow("dynamodb:UpdateItem", data.order_table.arn), put_events, resume_processor],
        )
        self.order_timed_out = self._function(
            "order_timed_out",
            environment=order_table_env,
            statements=[iam.allow("dynamodb:UpdateItem", data.order_table.arn)],
        )
        self.validate_order = self._function(
            "validate_order", description="Checks a drink order against the menu"
        )

        self._on_event("new-order", "Validator.NewOrder", StateMachineTarget(arn=self.processor.arn))
        for rule, detail_type, consumer in (
            ("workflow-started", "OrderProcessor.WorkflowStarted", self.workflow_started),
            ("waiting-completion", "OrderProcessor.WaitingCompletion", self.waiting_completion),
            ("order-timed-out", "OrderProcessor.OrderTimeOut", self.order_timed_out),
        ):
            self._on_event(rule, detail_type, FunctionTarget(arn=consumer.arn, name=consumer.name))

        # The apps' synchronous entry point for placing, making, completing and cancelling orders.
        self.manager = OrderWorkflow(
            "order-manager",
            definition_file=root / "asl" / "order_manager.asl.json",
            workflow_type="EXPRESS",
            # How the OrderManager answers the apps (SYSTEM 4, D14); any other failure raises an alarm.
            answers=("InvalidOrder", "OrderNotFound", "OrderNotAccepted", "Forbidden"),
            substitutions={
                "OrderTableName": data.order_table.name,
                "ConfigTableName": data.config_table.name,
                "ValidateOrderFunctionArn": self.validate_order.arn,
                "EventBusName": bus_name,
                "EventSource": shop.event_source,
            },
            statements=[
                iam.allow("dynamodb:GetItem", [data.config_table.arn, data.order_table.arn]),
                iam.allow("dynamodb:UpdateItem", data.order_table.arn),
                iam.allow("lambda:InvokeFunction", self.validate_order.arn),
                put_events,
                resume_processor,
            ],
            **workflow_logging,
            opts=self._child,
        )
        self.register_outputs({"orderProcessorArn": self.processor.arn, "orderManagerArn": self.manager.arn})

    def _function(self, folder: str, **kwargs: Any) -> LambdaFunction:
        return LambdaFunction(
            folder.replace("_", "-"),
            code_dir=self._root / "functions" / folder,
            settings=self._settings,
            opts=self._child,
            **kwargs,
        )

    def _on_event(self, name: str, detail_type: str, target: Target) -> EventBusRule:
        return EventBusRule(
            f"{name}-rule",
            bus_name=self._bus_name,
            event_pattern={"source": [self._event_source], "detail-type": [detail_type]},
            targets={"target": target},
            delivery=self._delivery,
            description=f"{detail_type} events",
            opts=self._child,
        )
