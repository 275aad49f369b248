"""Users, roles, sign-in, and officers' grids."""
