"""Local-only fake Stripe: localstripe extended with the Connect resources agora needs. Never deployed.

    python -m dev.fake_stripe --host 127.0.0.1 --port 8420

In tests: ``url, stop = start_in_thread()`` and point ``stripe.StripeClient(..., base_addresses={"api": url})``
at it. What is and is not modelled: dev/fake_stripe/README.md.
"""

import warnings

with warnings.catch_warnings():
    # localstripe registers plain functions as aiohttp handlers when imported, which aiohttp deprecates.
    warnings.filterwarnings("ignore", "Bare functions are deprecated", DeprecationWarning)
    import localstripe.server  # noqa: F401

from dev.fake_stripe.server import build_app, run, start_in_thread

__all__ = ["build_app", "run", "start_in_thread"]
