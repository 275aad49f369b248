"""Customers' complaints and bill disputes (投诉与电费争议): registered with a channel, an owner and a
deadline, holding dunning on the disputed bills while open, resolved upheld (a corrected bill or a credit
through the ledger) or rejected with a reason, and counted against officers in the assessment."""
