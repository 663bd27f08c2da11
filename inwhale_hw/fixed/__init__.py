"""Fixed-point formats and exact operations on raw integer arrays."""
