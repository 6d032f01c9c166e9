"""Lazily created, cached boto3 clients.

Created on first use so that moto is active before a client exists and a cold start
pays only for the clients a handler really uses.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib.core.settings import get_settings


@lru_cache(maxsize=16)
def client(service: str) -> Any:
    import boto3

    settings = get_settings()
    return boto3.client(service, region_name=settings.region, endpoint_url=settings.aws_endpoint_url)


@lru_cache(maxsize=16)
def queue_url(queue_name: str) -> str:
    return client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]


def reset_clients() -> None:
    client.cache_clear()
    queue_url.cache_clear()
