"""Seeded, chunked Monte Carlo: the same seed gives the same numbers whatever the chunking or workers."""
