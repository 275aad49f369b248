"""Bills and the append-only account ledger."""

# This package's sections of the policy file: name -> "module:Schema" (recovery.policy finds them here).
POLICY_SECTIONS = {
    "penalty": "recovery.billing.penalty_policy:PenaltyPolicySchema",
    "allocation": "recovery.billing.penalty_policy:AllocationPolicySchema",
}
