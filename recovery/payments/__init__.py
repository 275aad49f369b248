"""Payments from every channel and their allocation to bills."""
