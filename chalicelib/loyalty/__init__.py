"""The marketplace's loyalty programme: points, tiers, expiry, and their value in the ledger."""
