"""Buyer-seller messages, disputes and seller performance (quality control)."""
