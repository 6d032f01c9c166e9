"""Promotions: the operator's and sellers' discounts, their codes and limits."""
