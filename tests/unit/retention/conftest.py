"""Retention mails go to buyers: the accounts tests' registered buyer serves here too."""

from __future__ import annotations

from tests.unit.accounts.conftest import buyer  # noqa: F401 - a fixture, used by name
