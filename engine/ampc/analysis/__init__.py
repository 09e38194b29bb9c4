"""Analysis of rule sets: two editions compared over a catalog; products at every boundary."""
