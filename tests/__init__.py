"""Seatkeeper's tests: a package, so that helpers import as `tests.<layer>.<helper>` (pytest runs with --import-mode=importlib and puts no test folder on sys.path)."""
