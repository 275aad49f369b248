"""The officer's worklist: customer segments, account managers and their deputies, early warnings and
the nightly build of each day's work items."""
