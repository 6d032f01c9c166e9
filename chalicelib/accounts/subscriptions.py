"""What accounts does when events arrive; registered when app.py imports this module.

:mod:`chalicelib.accounts.subscribers` is light (no PynamoDB at import), so its functions
register as they are, under their own names."""

from __future__ import annotations

from chalicelib.accounts import subscribers
from chalicelib.accounts.events import AccountCreated
from chalicelib.events.registry import subscribe

subscribe(AccountCreated)(subscribers.on_account_created)
