"""A realistic synthetic utility for demos, tests and model training."""
