"""The audit log: who changed money, ratings, deposits, guarantees and users, when, and how."""
