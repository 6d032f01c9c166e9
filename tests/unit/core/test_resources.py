"""The table stream ARN: made up only where nothing subscribes to it."""

from __future__ import annotations

import pytest

from chalicelib.core.resources import MissingConfiguration, table_stream_arn

STREAM = "arn:aws:dynamodb:eu-central-1:111122223333:table/agora-prod/stream/2026-01-01T00:00:00.000"


@pytest.mark.parametrize("stage", ["local", "test"])
def test_a_local_stage_without_a_stream_gets_the_local_stand_in(stage: str) -> None:
    assert table_stream_arn({"AGORA_STAGE": stage}) == (
        f"arn:aws:dynamodb:eu-central-1:123456789012:table/agora-{stage}/stream/local")


def test_no_stage_is_the_local_one() -> None:
    assert table_stream_arn({}).endswith("table/agora-local/stream/local")


@pytest.mark.parametrize("stage", ["local", "dev", "prod"])
def test_the_stream_deploy_names_is_used_in_every_stage(stage: str) -> None:
    assert table_stream_arn({"AGORA_STAGE": stage, "AGORA_TABLE_STREAM_ARN": STREAM}) == STREAM


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_a_deployed_stage_without_a_stream_is_a_configuration_error(stage: str) -> None:
    with pytest.raises(MissingConfiguration, match=f"AGORA_TABLE_STREAM_ARN is not set for stage '{stage}'"):
        table_stream_arn({"AGORA_STAGE": stage, "AGORA_TABLE_STREAM_ARN": ""})
