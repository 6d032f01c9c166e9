"""Products, stock, categories, public browse and search, moderation."""
