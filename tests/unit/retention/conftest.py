"""Retention mails go to buyers: the registered buyer of tests/unit/conftest.py serves here too."""
