"""The reconciliation engine: statement formats in, matches and breaks out.

A pure engine: it imports neither Flask, SQLAlchemy nor `recovery`, and touches no database.
"""
