"""Four-eyes approvals: an action on money or security is requested by one person and carried out
only when a supervisor (another person) approves it."""
