"""Bills and the append-only account ledger."""
