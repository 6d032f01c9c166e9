"""Sellers' view of their customers: the CRM (groups, tax exemption, import, export)."""
