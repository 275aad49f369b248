"""Arrears risk: loads history in set-based queries, calls the pure `scoring` engine, keeps model versions."""
