"""Collections: disconnection orders (risk lists, worklists, dunning and pay plans come later)."""
