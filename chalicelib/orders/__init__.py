"""Carts, checkout, orders and their lifecycle, payments, transfers and refunds."""
