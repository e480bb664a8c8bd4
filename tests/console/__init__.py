"""Tests of one layer (see tests/__init__.py)."""
