"""Property-managed buildings (物业代收) and demolition sites (拆迁): who pays for a building's residents,
what a property company owes with the residents behind it, and the separate recovery track of arrears
left on a site being cleared."""
