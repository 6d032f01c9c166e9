"""Payments' tests deliver Stripe's webhooks with tests/support/stripe.py."""
