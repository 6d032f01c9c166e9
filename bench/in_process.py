"""The marketplace in one process for the benches: moto's AWS with the production stack
created from infra/template.yaml, the fake Stripe on 127.0.0.1, the app through Chalice's
test client. Shared by checkout_round_trips, cost and hot_partitions."""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any


def environment() -> Any:
    """``mock_aws()`` with the test secrets and region set, no real endpoint or profile."""
    from tests.conftest import TEST_SECRETS

    os.environ.update(AWS_DEFAULT_REGION="eu-central-1", AWS_ACCESS_KEY_ID="testing",
                      AWS_SECRET_ACCESS_KEY="testing", AGORA_STAGE="local", POWERTOOLS_LOG_LEVEL="WARNING",
                      **TEST_SECRETS)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(name, None)
    warnings.simplefilter("ignore")
    logging.getLogger("moto").setLevel(logging.ERROR)  # resources moto cannot create (alarms, SES sets)
    from moto import mock_aws

    return mock_aws()


def create_stack(stripe_url: str) -> None:
    """The production stack in moto, and the app pointed at it and at the fake Stripe."""
    import boto3
    from moto.dynamodb.models import DynamoDBBackend

    from chalicelib.core.container import start_cold
    from chalicelib.payments.stripe_gateway import reset_client
    from dev import moto_transactions
    from infra import stack

    # moto copies the whole table per transaction item (see moto_transactions)
    DynamoDBBackend.transact_write_items = moto_transactions.transact_write_items
    outputs = stack.create_stack(boto3.client("cloudformation"), "local")
    os.environ.update(AGORA_TABLE_NAME=outputs["TableName"], AGORA_RETENTION_QUEUE=outputs["RetentionQueueName"],
                      AGORA_EVENTS_QUEUE=outputs["EventsQueueName"],
                      AGORA_IMPORTS_QUEUE=outputs["CustomerImportsQueueName"],
                      AGORA_SENDER_EMAIL=outputs["SenderEmail"], AGORA_STRIPE_API_BASE=stripe_url)
    boto3.client("ses").verify_email_identity(EmailAddress=outputs["SenderEmail"])
    start_cold()
    reset_client()
