"""What the bench scripts share: moto in-process, with the production stack created in it."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def local_stack() -> Iterator[dict[str, Any]]:
    """moto in-process with infra/template.yaml's stack created; yields the stack outputs
    (the table's name already in the environment)."""
    os.environ.update(AWS_DEFAULT_REGION="eu-central-1", AWS_ACCESS_KEY_ID="testing",
                      AWS_SECRET_ACCESS_KEY="testing", AGORA_STAGE="local",
                      AGORA_SECRET_TOKEN_SIGNING_KEY="bench-signing-key-0123456789abcdef0123",
                      AGORA_SECRET_HASH_PEPPER="1=bench-hash-pepper-0123456789abcdef0123")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    warnings.simplefilter("ignore")
    from moto import mock_aws

    with mock_aws():
        import boto3
        from moto.dynamodb.models import DynamoDBBackend

        from chalicelib.core.settings import reset_settings
        from dev import moto_transactions
        from infra import stack

        # moto copies the whole table per transaction item (see moto_transactions); without
        # this a bench measures moto, quadratically.
        DynamoDBBackend.transact_write_items = moto_transactions.transact_write_items
        outputs = stack.create_stack(boto3.client("cloudformation"), "local")
        os.environ["AGORA_TABLE_NAME"] = outputs["TableName"]
        reset_settings()
        yield outputs
