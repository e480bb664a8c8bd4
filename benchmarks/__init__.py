"""Seatkeeper's benchmark suite (`make bench`). Not tests: pytest runs none of these, except one smoke run of `mongodb_clients` on a few operations."""
