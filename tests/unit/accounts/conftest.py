"""Accounts' tests use the buyers of tests/unit/conftest.py and the builders of tests/support."""
