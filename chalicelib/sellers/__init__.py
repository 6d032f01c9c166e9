"""Sellers, the marketplace's tenants: application, Stripe Connect onboarding, profile,
API keys and the operator's approval and suspension."""
