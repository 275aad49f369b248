"""Assessment (考核) of officers, grids and partner agents: monthly 100-point scores, the yearly score and
the pay factor."""
