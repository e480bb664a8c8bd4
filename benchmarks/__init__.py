"""Seatkeeper's benchmark suite (`make bench`). Not tests: nothing here runs under pytest."""
