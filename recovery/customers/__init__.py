"""Customers, grids, and the officers who own them: the models, and the reads other domains build on. A leaf:
it imports no other domain (what reads a customer across domains is `recovery.portfolio`)."""
