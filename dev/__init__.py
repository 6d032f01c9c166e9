"""Local-only tooling: the local marketplace, fake services, demo data. Never deployed."""
