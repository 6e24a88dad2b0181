"""The policy pack both projects are previewed with (`pulumi preview --policy-pack policy_pack`)."""
