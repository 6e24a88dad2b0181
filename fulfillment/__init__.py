"""The order-fulfillment system (seed 003, SYSTEM §9): a second Pulumi project built from `components/`."""
