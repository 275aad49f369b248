"""The notifications outbox: messages written in the transaction that causes them, delivered later."""

# This package's sections of the policy file: name -> "module:Schema" (recovery.policy finds them here).
POLICY_SECTIONS = {
    "notifications": "recovery.notifications.texts:NotificationsPolicySchema",
}
