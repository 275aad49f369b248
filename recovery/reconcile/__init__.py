"""Daily reconciliation: statement intake, the nightly run, breaks and their resolution, the daily payment report."""
