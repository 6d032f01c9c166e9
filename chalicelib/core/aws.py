"""Lazily created, cached boto3 clients.

Created on first use so that moto is active before a client exists and a cold start
pays only for the clients a handler really uses.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from chalicelib.core.settings import get_settings

# botocore's "standard" retries: throttling (SES's Throttling, SQS's RequestThrottled...),
# 5xx and connection errors are tried again with jittered exponential backoff, 4 attempts in
# all; timeouts far below the Lambda's 30 s, so a hung call fails and is retried instead of
# the Lambda dying mid-work. The same figures as the table's (chalicelib/core/db.py).
MAX_ATTEMPTS = 4
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5

# The services agora talks to besides DynamoDB (PynamoDB's own connection): a name outside
# these is a typo that mypy catches before boto3 would at run time.
Service = Literal["s3", "ses", "sqs", "ssm"]


@lru_cache(maxsize=16)
def client(service: Service) -> Any:
    import boto3
    from botocore.config import Config

    settings = get_settings()
    config = Config(retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
                    connect_timeout=CONNECT_TIMEOUT_SECONDS, read_timeout=READ_TIMEOUT_SECONDS)
    return boto3.client(service, region_name=settings.region, endpoint_url=settings.aws_endpoint_url, config=config)


@lru_cache(maxsize=16)
def queue_url(queue_name: str) -> str:
    url: str = client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]
    return url


def reset_clients() -> None:
    client.cache_clear()
    queue_url.cache_clear()
