"""Buyer accounts (Kundenkonto) and sign-in for everybody: one account across all sellers."""
