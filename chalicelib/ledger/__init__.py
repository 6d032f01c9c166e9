"""The double-entry ledger: every money movement as entries that sum to zero."""
