"""infra/template.yaml: lint-clean, consistent with the code that uses it, and creatable in moto.

The autouse ``aws`` fixture (tests/unit/conftest.py) runs every test inside moto with
one stage's stack already created by ``infra.stack.create_stack``; it yields the outputs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.api import lint_file

from chalicelib.core import db
from chalicelib.core.resources import WORKER_TIMEOUT_SECONDS
from infra import stack

ROOT = Path(__file__).resolve().parents[3]
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
SIX_TIMES = 6  # AWS: an SQS event source's visibility timeout >= 6 x the function timeout
EXPECTED_OUTPUTS = {
    "TableName", "TableStreamArn", "RetentionQueueName", "RetentionQueueArn", "EventsQueueName",
    "EventsQueueArn", "CustomerImportsQueueName", "CustomerImportsQueueArn", "SenderEmail", "SecretsPath",
    "ImportsBucketName", "ImportsBucketArn",
}


def _resources(resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in stack.load_template()["Resources"].items()
        if resource["Type"] == resource_type
    }


def _source_queues() -> dict[str, dict[str, Any]]:
    return {name: queue for name, queue in _resources("AWS::SQS::Queue").items()
            if "RedrivePolicy" in queue["Properties"]}


def _dead_letter_queue_of(queue: dict[str, Any]) -> str:
    target = queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]
    assert target == {"Fn::GetAtt": [target["Fn::GetAtt"][0], "Arn"]}
    return target["Fn::GetAtt"][0]


def _lambda_timeouts() -> list[int]:
    """Every lambda_timeout in .chalice/config.json: top level, per stage, per function."""
    config = json.loads(CHALICE_CONFIG.read_text())
    timeouts = [config["lambda_timeout"]]
    for stage in config.get("stages", {}).values():
        timeouts += [stage["lambda_timeout"]] if "lambda_timeout" in stage else []
        for function in stage.get("lambda_functions", {}).values():
            timeouts += [function["lambda_timeout"]] if "lambda_timeout" in function else []
    return timeouts


def _table_properties() -> dict[str, Any]:
    (table,) = _resources("AWS::DynamoDB::Table").values()
    return table["Properties"]


# --- the template itself ---------------------------------------------------------------


def test_cfn_lint_reports_nothing() -> None:
    # given the template as `make lint` checks it
    # when cfn-lint runs with its default rules (errors and warnings)
    matches = lint_file(stack.TEMPLATE_PATH)

    # then it reports nothing at all
    assert [str(match) for match in matches] == []


def test_load_template_reads_short_form_tags_as_long_form() -> None:
    template = stack.load_template()

    table = template["Resources"]["Table"]["Properties"]
    retention = template["Resources"]["RetentionEmailsQueue"]["Properties"]
    assert table["TableName"] == {"Fn::Sub": "agora-${Stage}"}
    assert retention["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["RetentionEmailsDeadLetterQueue", "Arn"]
    }
    assert template["Outputs"]["SenderEmail"]["Value"] == {"Ref": "SenderEmail"}
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"


def test_the_worker_queues_are_the_ones_the_code_names() -> None:
    names = {queue["Properties"]["QueueName"]["Fn::Sub"] for queue in _source_queues().values()}

    assert names == {
        "agora-${Stage}-retention-emails",
        "agora-${Stage}-events",
        "agora-${Stage}-customer-imports",
    }


@pytest.mark.parametrize("logical_id", sorted(_source_queues()))
def test_visibility_timeout_outlasts_six_worker_timeouts(logical_id: str) -> None:
    visibility = _source_queues()[logical_id]["Properties"]["VisibilityTimeout"]

    assert visibility >= SIX_TIMES * WORKER_TIMEOUT_SECONDS
    assert all(visibility >= SIX_TIMES * timeout for timeout in _lambda_timeouts())


@pytest.mark.parametrize("logical_id", sorted(_source_queues()))
def test_failing_messages_move_to_a_dead_letter_queue_that_keeps_them_longer(logical_id: str) -> None:
    queue = _source_queues()[logical_id]["Properties"]
    dead_letter = _resources("AWS::SQS::Queue")[_dead_letter_queue_of(_source_queues()[logical_id])]

    assert queue["RedrivePolicy"]["maxReceiveCount"] >= 5
    assert queue["MessageRetentionPeriod"] == 4 * 24 * 3600
    assert dead_letter["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert dead_letter["Properties"]["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]
    assert "RedrivePolicy" not in dead_letter["Properties"]


# Outbox records the table stream's relay cannot send (no queue redrives to it).
STREAM_DEAD_LETTERS = "TableStreamDeadLetterQueue"


def test_every_queue_is_a_dead_letter_queue_or_has_one() -> None:
    queues = set(_resources("AWS::SQS::Queue"))
    dead_letters = {_dead_letter_queue_of(queue) for queue in _source_queues().values()}

    assert len(dead_letters) == len(_source_queues())  # one DLQ each, none shared
    assert queues == set(_source_queues()) | dead_letters | {STREAM_DEAD_LETTERS}
    assert all(queue["Properties"]["SqsManagedSseEnabled"] is True
               for queue in _resources("AWS::SQS::Queue").values())


def test_every_dead_letter_queue_alarms_on_its_first_message() -> None:
    dead_letters = {_dead_letter_queue_of(queue) for queue in _source_queues().values()} | {STREAM_DEAD_LETTERS}
    alarms = _resources("AWS::CloudWatch::Alarm").values()

    watched = {
        alarm["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for alarm in alarms
        if alarm["Properties"]["Namespace"] == "AWS/SQS"
        and alarm["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and alarm["Properties"]["Threshold"] == 0
        and alarm["Properties"]["ComparisonOperator"] == "GreaterThanThreshold"
    }
    assert watched == dead_letters


def test_table_has_the_keys_and_indexes_the_models_use() -> None:
    table = _table_properties()
    base = db.TableModel._get_schema()
    indexes = [index._get_schema() for index in (db.GSI1, db.GSI2, db.GSI3)]

    assert table["KeySchema"] == [{"AttributeName": "PK", "KeyType": "HASH"},
                                  {"AttributeName": "SK", "KeyType": "RANGE"}]
    assert _key_names(table["KeySchema"]) == _key_names(base["key_schema"])
    assert [
        (index["IndexName"], _key_names(index["KeySchema"]), index["Projection"])
        for index in table["GlobalSecondaryIndexes"]
    ] == [
        (index["index_name"], _key_names(index["key_schema"]), index["projection"])
        for index in indexes
    ]
    defined = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
    expected = base["attribute_definitions"] + [d for i in indexes for d in i["attribute_definitions"]]
    assert defined == {d["AttributeName"]: d["AttributeType"] for d in expected}


def _key_names(key_schema: list[dict[str, str]]) -> tuple[str, str]:
    keys = {key["KeyType"]: key["AttributeName"] for key in key_schema}
    return keys["HASH"], keys["RANGE"]


def test_table_expires_items_streams_changes_and_is_kept() -> None:
    (table,) = _resources("AWS::DynamoDB::Table").values()
    properties = table["Properties"]

    assert properties["TimeToLiveSpecification"] == {"AttributeName": db.TTL_ATTRIBUTE, "Enabled": True}
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_table_refuses_deletion() -> None:
    assert _table_properties()["DeletionProtectionEnabled"] is True


def test_table_stream_carries_only_new_images() -> None:
    # the relay reads the new image of inserted events, nothing else
    assert _table_properties()["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}


def _imports_bucket() -> dict[str, Any]:
    (bucket,) = _resources("AWS::S3::Bucket").values()
    return bucket["Properties"]


def test_imports_bucket_is_private_encrypted_and_has_a_unique_name() -> None:
    bucket = _imports_bucket()

    assert bucket["BucketName"] == {"Fn::Sub": "agora-${Stage}-imports-${AWS::AccountId}"}
    assert bucket["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}],
    }
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def test_imports_bucket_forgets_uploads_after_two_days() -> None:
    rules = _imports_bucket()["LifecycleConfiguration"]["Rules"]

    assert [r for r in rules if r.get("Prefix") == "uploads/"] == [
        {"Id": "expire-uploads", "Status": "Enabled", "Prefix": "uploads/", "ExpirationInDays": 2},
    ]
    # unfinished multipart uploads are invisible and billed; every prefix drops them
    assert [r for r in rules if "AbortIncompleteMultipartUpload" in r] == [
        {"Id": "abort-incomplete-multipart-uploads", "Status": "Enabled",
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
    ]


def test_imports_bucket_lets_only_the_frontend_put() -> None:
    (rule,) = _imports_bucket()["CorsConfiguration"]["CorsRules"]

    assert rule["AllowedMethods"] == ["PUT"]
    assert rule["AllowedOrigins"] == [{"Ref": "FrontendUrl"}]
    assert "*" not in rule["AllowedHeaders"]


def test_imports_bucket_refuses_every_request_without_tls() -> None:
    (policy,) = _resources("AWS::S3::BucketPolicy").values()

    assert policy["Properties"]["Bucket"] == {"Ref": "ImportsBucket"}
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [{
        "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [{"Fn::GetAtt": ["ImportsBucket", "Arn"]}, {"Fn::Sub": "${ImportsBucket.Arn}/*"}],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }]


def test_every_output_is_exported_under_the_stack_name() -> None:
    outputs = stack.load_template()["Outputs"]

    assert set(outputs) >= EXPECTED_OUTPUTS
    assert {key: output["Export"]["Name"] for key, output in outputs.items()} == {
        key: {"Fn::Sub": f"${{AWS::StackName}}-{key}"} for key in outputs
    }


def test_parameter_list_rejects_parameters_the_template_lacks() -> None:
    with pytest.raises(ValueError, match="SenderAddress"):
        stack.parameter_list("local", {"SenderAddress": "a@b.example"})


# --- the stack as moto creates it ------------------------------------------------------


def test_create_stack_returns_the_outputs_the_app_reads(aws: dict[str, str]) -> None:
    # given moto (the autouse fixture, whose stack has another stage) and the runner's parameters
    stage = "dev" if aws["Stage"] != "dev" else "local"
    cloudformation = boto3.client("cloudformation")

    # when that stage's stack is created from the template
    outputs = stack.create_stack(cloudformation, stage, parameters={
        "SenderEmail": "shop@agora.example", "FrontendUrl": "http://127.0.0.1:3999", "ApiUrl": "http://127.0.0.1:8999",
    })

    # then its outputs name that stage's resources
    arn = "arn:aws:sqs:eu-central-1:123456789012"
    # (moto silently drops an output that points at a resource type it skips)
    assert set(outputs) == set(stack.load_template()["Outputs"])
    assert set(outputs) >= EXPECTED_OUTPUTS
    assert {key: outputs[key] for key in EXPECTED_OUTPUTS} == {
        "TableName": f"agora-{stage}",
        "TableStreamArn": outputs["TableStreamArn"],
        "RetentionQueueName": f"agora-{stage}-retention-emails",
        "RetentionQueueArn": f"{arn}:agora-{stage}-retention-emails",
        "EventsQueueName": f"agora-{stage}-events",
        "EventsQueueArn": f"{arn}:agora-{stage}-events",
        "CustomerImportsQueueName": f"agora-{stage}-customer-imports",
        "CustomerImportsQueueArn": f"{arn}:agora-{stage}-customer-imports",
        "SenderEmail": "shop@agora.example",
        "SecretsPath": f"/agora/{stage}/secrets/",
        "ImportsBucketName": f"agora-{stage}-imports-123456789012",
        "ImportsBucketArn": f"arn:aws:s3:::agora-{stage}-imports-123456789012",
    }
    assert outputs["TableStreamArn"].startswith(
        f"arn:aws:dynamodb:eu-central-1:123456789012:table/agora-{stage}/stream/"
    )
    assert stack.stack_outputs(cloudformation, f"agora-{stage}") == outputs
    ssm = boto3.client("ssm")
    config = ssm.get_parameters_by_path(Path=f"/agora/{stage}/config/")["Parameters"]
    assert {p["Name"]: (p["Type"], p["Value"]) for p in config} == {
        f"/agora/{stage}/config/frontend-url": ("String", "http://127.0.0.1:3999"),
        f"/agora/{stage}/config/api-url": ("String", "http://127.0.0.1:8999"),
        f"/agora/{stage}/config/sender-email": ("String", "shop@agora.example"),
    }


def test_created_table_matches_the_template(aws: dict[str, str]) -> None:
    dynamodb = boto3.client("dynamodb")

    table = dynamodb.describe_table(TableName=aws["TableName"])["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=aws["TableName"])["TimeToLiveDescription"]
    backups = dynamodb.describe_continuous_backups(TableName=aws["TableName"])["ContinuousBackupsDescription"]

    assert aws["TableName"] == f"agora-{aws['Stage']}"
    assert table["KeySchema"] == _table_properties()["KeySchema"]
    assert sorted(
        (index["IndexName"], index["KeySchema"][0]["AttributeName"], index["KeySchema"][1]["AttributeName"],
         index["Projection"]["ProjectionType"])
        for index in table["GlobalSecondaryIndexes"]
    ) == [("GSI1", "GSI1PK", "GSI1SK", "ALL"), ("GSI2", "GSI2PK", "GSI2SK", "ALL"),
          ("GSI3", "GSI3PK", "GSI3SK", "ALL")]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert table["DeletionProtectionEnabled"] is True
    assert table["LatestStreamArn"] == aws["TableStreamArn"]
    # moto ignores these two in CloudFormation; create_stack fills them in (fill_emulator_gaps)
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": db.TTL_ATTRIBUTE}
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_created_table_stores_items_and_answers_index_queries(aws: dict[str, str]) -> None:
    # given an item with GSI1 keys in the stack's table
    dynamodb = boto3.client("dynamodb")
    item = {"PK": {"S": "SELLER#sel_1"}, "SK": {"S": "PRODUCT#prd_1"},
            "GSI1PK": {"S": "CATEGORY#shoes"}, "GSI1SK": {"S": "PRICE#0000004999"}}
    dynamodb.put_item(TableName=aws["TableName"], Item=item)

    # when it is read by key and found through GSI1
    got = dynamodb.get_item(TableName=aws["TableName"], Key={"PK": item["PK"], "SK": item["SK"]})
    found = dynamodb.query(
        TableName=aws["TableName"], IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk", ExpressionAttributeValues={":pk": {"S": "CATEGORY#shoes"}},
    )

    # then both return it unchanged
    assert got["Item"] == item
    assert found["Items"] == [item]


@pytest.mark.parametrize("prefix", ["Retention", "Events", "CustomerImports"])
def test_created_queue_redrives_to_its_dead_letter_queue(aws: dict[str, str], prefix: str) -> None:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=aws[f"{prefix}QueueName"])["QueueUrl"]

    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": aws[f"{prefix}DeadLetterQueueArn"], "maxReceiveCount": 5,
    }
    assert attributes["QueueArn"] == aws[f"{prefix}QueueArn"]
    assert int(attributes["VisibilityTimeout"]) == SIX_TIMES * WORKER_TIMEOUT_SECONDS
    assert attributes["SqsManagedSseEnabled"] == "true"


def test_a_message_received_five_times_lands_in_the_dead_letter_queue(aws: dict[str, str]) -> None:
    # given a message on the events queue
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=aws["EventsQueueName"])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody='{"type": "order.paid"}')

    # when a worker receives it five times without deleting it
    for _ in range(5):
        assert len(sqs.receive_message(QueueUrl=url, VisibilityTimeout=0, WaitTimeSeconds=0)["Messages"]) == 1

    # then the next receive finds it gone, moved to the events DLQ
    assert sqs.receive_message(QueueUrl=url, VisibilityTimeout=0, WaitTimeSeconds=0).get("Messages", []) == []
    dlq_url = sqs.get_queue_url(QueueName=aws["EventsDeadLetterQueueArn"].rsplit(":", 1)[-1])["QueueUrl"]
    moved = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=0)["Messages"]
    assert [m["Body"] for m in moved] == ['{"type": "order.paid"}']


def test_the_created_table_cannot_be_deleted(aws: dict[str, str]) -> None:
    dynamodb = boto3.client("dynamodb")

    with pytest.raises(dynamodb.exceptions.ClientError, match="DeletionProtectionEnabled"):
        dynamodb.delete_table(TableName=aws["TableName"])

    assert dynamodb.describe_table(TableName=aws["TableName"])["Table"]["TableStatus"] == "ACTIVE"


def test_the_relay_reads_events_from_a_new_image_stream(aws: dict[str, str]) -> None:
    # given an event recorded in the stack's table (whose stream has new images only)
    from chalicelib.events.service import outbox_messages, record_event
    from chalicelib.platform.events import PipelineCheck
    from dev.worker import streams_client

    event_id = record_event(PipelineCheck(check_id="chk_1", notify="ops@agora.example"))

    # when the stream's records are read as the relay gets them
    streams = streams_client("eu-central-1", None)
    (shard,) = streams.describe_stream(StreamArn=aws["TableStreamArn"])["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(StreamArn=aws["TableStreamArn"], ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]

    # then they carry no old image, and the relay still finds the event
    assert [r["dynamodb"]["StreamViewType"] for r in records] == ["NEW_IMAGE"]
    assert "OldImage" not in records[0]["dynamodb"]
    assert [m["event_id"] for m in outbox_messages(records)] == [event_id]


def test_created_imports_bucket_matches_the_template(aws: dict[str, str]) -> None:
    s3 = boto3.client("s3")
    bucket = aws["ImportsBucketName"]

    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    public_access = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    cors = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]

    assert bucket == f"agora-{aws['Stage']}-imports-123456789012"
    assert [r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in encryption] == ["AES256"]
    assert set(public_access.values()) == {True} and len(public_access) == 4
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert sorted((r["ID"], r["Filter"], r.get("Expiration"), r.get("AbortIncompleteMultipartUpload"))
                  for r in lifecycle) == [
        ("abort-incomplete-multipart-uploads", {"Prefix": ""}, None, {"DaysAfterInitiation": 1}),
        ("expire-uploads", {"Prefix": "uploads/"}, {"Days": 2}, None),
    ]
    assert [(r["AllowedMethods"], r["AllowedOrigins"]) for r in cors] == [(["PUT"], [aws["FrontendUrl"]])]


def test_local_imports_bucket_has_no_tls_policy_and_takes_uploads(aws: dict[str, str]) -> None:
    # moto would enforce the TLS-only Deny without its condition, refusing every request;
    # so the local stack leaves the bucket policy out (stack.fill_emulator_gaps)
    s3 = boto3.client("s3")
    bucket = aws["ImportsBucketName"]

    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="uploads/sel_1/imp_1.csv", Body=b"Name,Email\n")
    assert s3.get_object(Bucket=bucket, Key="uploads/sel_1/imp_1.csv")["Body"].read() == b"Name,Email\n"


def test_the_app_is_pointed_at_the_imports_bucket(aws: dict[str, str]) -> None:
    from chalicelib.core.settings import get_settings

    assert get_settings().imports_bucket == aws["ImportsBucketName"]
    boto3.client("s3").head_bucket(Bucket=get_settings().imports_bucket)


def test_imports_bucket_setting_defaults_to_the_stage_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.core.settings import get_settings, reset_settings

    monkeypatch.setenv("AGORA_STAGE", "dev")
    monkeypatch.delenv("AGORA_IMPORTS_BUCKET")
    reset_settings()

    assert get_settings().imports_bucket == "agora-dev-imports"


def test_fill_emulator_gaps_applies_what_moto_skips(aws: dict[str, str]) -> None:
    # given a stack that moto's CloudFormation alone created (no gaps filled)
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(StackName="agora-dev", TemplateBody=stack.template_body(),
                                Parameters=stack.parameter_list("dev", {"FrontendUrl": "https://shop.example"}))

    # when the gaps are filled
    applied = stack.fill_emulator_gaps(cloudformation, "agora-dev")

    # then the table's and the bucket's missing settings were applied, with values from this stack
    bucket = "agora-dev-imports-123456789012"
    assert applied == [
        "agora-dev: time to live on expires_at", "agora-dev: point-in-time recovery",
        f"{bucket}: PublicAccessBlockConfiguration", f"{bucket}: OwnershipControls",
        f"{bucket}: LifecycleConfiguration", f"{bucket}: CorsConfiguration",
    ]
    cors = boto3.client("s3").get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert [rule["AllowedOrigins"] for rule in cors] == [["https://shop.example"]]


def test_fill_emulator_gaps_changes_nothing_on_a_complete_stack(aws: dict[str, str]) -> None:
    # given the fixture's stack, whose gaps create_stack already filled
    # when it runs again (as it would against real CloudFormation)
    applied = stack.fill_emulator_gaps(boto3.client("cloudformation"), stack.stack_name_for(aws["Stage"]))

    # then it finds nothing to apply
    assert applied == []
