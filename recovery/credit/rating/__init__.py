"""Credit ratings (信用评级): the grade computed from the policy's demerits and lifetimes, the nightly run, and
supervisors' overrides of a grade."""
