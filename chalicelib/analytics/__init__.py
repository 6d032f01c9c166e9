"""Retention analytics: customer summaries, period counters, reports and models."""
