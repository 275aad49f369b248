"""Customer events that feed the credit rating and the risk model."""
