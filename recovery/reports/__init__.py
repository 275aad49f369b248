"""Reports over the work the service records: the officers' activity per week or month."""
