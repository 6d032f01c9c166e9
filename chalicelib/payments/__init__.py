"""Payments: the Stripe Connect integration, checkout payment, transfers, fees, the ledger."""
