"""Atomic, set-based imports of customers, bills, payments and events."""
