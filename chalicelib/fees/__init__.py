"""Marketplace fees: the operator's fee schedules and the fee of each order line."""
