"""Sellers' shipping profiles and the shipping quote of an order's seller part."""
