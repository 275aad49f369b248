"""Customers, grids, and the officers who own them."""
