"""PynamoDB's settings for the local API (``PYNAMODB_CONFIG``, set by dev/local_api.py).

A Lambda serves one request at a time, so PynamoDB's 10 pooled connections per model are
plenty there. The local API serves up to ``WORKERS`` requests at once in one process: with
10, every call beyond the tenth opened a connection to moto and threw it away ("Connection
pool is full, discarding connection" in .local/logs/api.log, about one call in ten at 100
users of `make load`)."""

max_pool_connections = 128  # dev/local_api.py's WORKERS
