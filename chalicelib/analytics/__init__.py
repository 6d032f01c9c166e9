"""Retention analytics: what sellers and the operator learn from their customers' orders."""
