"""Exact integer neural-network arithmetic and requantization profiles."""
