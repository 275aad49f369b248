"""Big customers (大客户): a monthly bill over the policy's amount, or a strategic flag; their named
enterprise contacts, the account manager's call before the due date, and the first contact within 24 hours."""
