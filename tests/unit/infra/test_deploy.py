"""infra/deploy.py: the stage environment, the least-privilege policy and the Chalice config."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra import deploy, stack

ROOT = Path(__file__).resolve().parents[3]
REGION, ACCOUNT = "eu-central-1", "123456789012"
STREAM_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/agora-prod/stream/2026-01-01T00:00:00.000"


def _prod_outputs() -> dict[str, str]:
    """Outputs as the prod stack reports them."""
    sqs = f"arn:aws:sqs:{REGION}:{ACCOUNT}"
    return {
        "Stage": "prod",
        "TableName": "agora-prod",
        "TableArn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/agora-prod",
        "TableStreamArn": STREAM_ARN,
        "RetentionQueueName": "agora-prod-retention-emails",
        "RetentionQueueArn": f"{sqs}:agora-prod-retention-emails",
        "RetentionDeadLetterQueueArn": f"{sqs}:agora-prod-retention-emails-dlq",
        "EventsQueueName": "agora-prod-events",
        "EventsQueueArn": f"{sqs}:agora-prod-events",
        "EventsDeadLetterQueueArn": f"{sqs}:agora-prod-events-dlq",
        "CustomerImportsQueueName": "agora-prod-customer-imports",
        "CustomerImportsQueueArn": f"{sqs}:agora-prod-customer-imports",
        "CustomerImportsDeadLetterQueueArn": f"{sqs}:agora-prod-customer-imports-dlq",
        "SenderEmail": "hello@shop.example",
        "SesConfigurationSetName": "agora-prod",
        "SecretsPath": "/agora/prod/secrets/",
        "ConfigPath": "/agora/prod/config/",
        "FrontendUrl": "https://shop.example",
        "ApiUrl": "https://api.shop.example",
        "AlarmTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:agora-prod-alarms",
        "ImportsBucketName": f"agora-prod-imports-{ACCOUNT}",
        "ImportsBucketArn": f"arn:aws:s3:::agora-prod-imports-{ACCOUNT}",
    }


def _statement(policy: dict[str, Any], sid: str) -> dict[str, Any]:
    (statement,) = [s for s in policy["Statement"] if s["Sid"] == sid]
    return statement


@pytest.fixture
def chalice_dir(tmp_path: Path) -> Path:
    """A copy of the project's .chalice directory."""
    target = tmp_path / ".chalice"
    target.mkdir()
    shutil.copy(ROOT / ".chalice" / "config.json", target / "config.json")
    return target


def test_stage_environment_maps_outputs_to_the_variables_the_app_reads() -> None:
    env = deploy.stage_environment(_prod_outputs())

    assert env == {
        "AGORA_STAGE": "prod",
        "AGORA_TABLE_NAME": "agora-prod",
        "AGORA_TABLE_STREAM_ARN": STREAM_ARN,
        "AGORA_RETENTION_QUEUE": "agora-prod-retention-emails",
        "AGORA_EVENTS_QUEUE": "agora-prod-events",
        "AGORA_IMPORTS_QUEUE": "agora-prod-customer-imports",
        "AGORA_IMPORTS_BUCKET": f"agora-prod-imports-{ACCOUNT}",
        "AGORA_SENDER_EMAIL": "hello@shop.example",
        "AGORA_SECRETS_PATH": "/agora/prod/secrets/",
        "AGORA_FRONTEND_URL": "https://shop.example",
        "AGORA_API_URL": "https://api.shop.example",
    }


def test_stage_environment_names_missing_outputs() -> None:
    outputs = _prod_outputs()
    del outputs["TableStreamArn"]

    with pytest.raises(KeyError, match="TableStreamArn"):
        deploy.stage_environment(outputs)


def test_policy_names_exactly_the_stacks_table_index_and_stream() -> None:
    policy = deploy.policy_document(_prod_outputs(), REGION, ACCOUNT)

    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/agora-prod"
    assert _statement(policy, "Table")["Resource"] == [table]
    assert "dynamodb:Scan" not in _statement(policy, "Table")["Action"]
    assert _statement(policy, "TableIndexes")["Resource"] == [
        f"{table}/index/GSI1", f"{table}/index/GSI2", f"{table}/index/GSI3",
    ]
    assert _statement(policy, "TableStream")["Resource"] == [STREAM_ARN]
    assert _statement(policy, "TableStreamList")["Resource"] == [f"{table}/stream/*"]


def test_policy_names_exactly_the_stacks_queues() -> None:
    policy = deploy.policy_document(_prod_outputs(), REGION, ACCOUNT)

    sqs = f"arn:aws:sqs:{REGION}:{ACCOUNT}"
    workers = _statement(policy, "WorkerQueues")
    assert workers["Resource"] == [
        f"{sqs}:agora-prod-retention-emails", f"{sqs}:agora-prod-events", f"{sqs}:agora-prod-customer-imports",
    ]
    assert workers["Action"] == ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
                                 "sqs:ReceiveMessage", "sqs:SendMessage"]
    dead_letters = _statement(policy, "DeadLetterQueues")
    assert dead_letters["Resource"] == [
        f"{sqs}:agora-prod-retention-emails-dlq", f"{sqs}:agora-prod-events-dlq",
        f"{sqs}:agora-prod-customer-imports-dlq",
    ]
    assert dead_letters["Action"] == ["sqs:GetQueueAttributes", "sqs:GetQueueUrl"]


def test_policy_has_no_wildcard_resource_and_no_wildcard_action() -> None:
    policy = deploy.policy_document(_prod_outputs(), REGION, ACCOUNT)

    resources = [r for s in policy["Statement"] for r in s["Resource"]]
    actions = [a for s in policy["Statement"] for a in s["Action"]]
    assert "*" not in resources
    assert [a for a in actions if "*" in a] == []
    assert [r for r in resources if r.startswith(("arn:aws:dynamodb", "arn:aws:sqs")) and "*" in r] == [
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/agora-prod/stream/*",  # ListStreams, as AWS documents
    ]
    assert {s["Effect"] for s in policy["Statement"]} == {"Allow"}


def test_policy_limits_mail_secrets_and_logs_to_the_stage() -> None:
    policy = deploy.policy_document(_prod_outputs(), REGION, ACCOUNT)

    assert _statement(policy, "SendMail")["Resource"] == [
        f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/hello@shop.example",
        f"arn:aws:ses:{REGION}:{ACCOUNT}:configuration-set/agora-prod",
    ]
    secrets = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/agora/prod/secrets"
    assert _statement(policy, "Secrets") == {
        "Sid": "Secrets", "Effect": "Allow", "Action": ["ssm:GetParametersByPath"],
        "Resource": [secrets, f"{secrets}/*"],
    }
    assert _statement(policy, "DecryptSecrets")["Condition"] == {
        "StringEquals": {"kms:ViaService": f"ssm.{REGION}.amazonaws.com"},
        "StringLike": {"kms:EncryptionContext:PARAMETER_ARN": f"{secrets}/*"},
    }
    logs = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/agora-prod"
    assert _statement(policy, "Logs")["Resource"] == [logs, f"{logs}:*", f"{logs}-*", f"{logs}-*:*"]


def test_update_chalice_config_sets_one_stage_and_keeps_the_others(chalice_dir: Path) -> None:
    # given the project's config with an operator's own variable on prod
    path = chalice_dir / "config.json"
    before = json.loads(path.read_text())
    before["stages"]["prod"]["environment_variables"]["AGORA_LOG_LEVEL"] = "WARNING"
    path.write_text(json.dumps(before))

    # when the prod environment is written
    env = deploy.stage_environment(_prod_outputs())
    deploy.update_chalice_config(path, "prod", env)

    # then prod has the stack's variables and keeps its own; nothing else changed
    after = json.loads(path.read_text())
    assert after["stages"]["prod"]["environment_variables"] == {**env, "AGORA_LOG_LEVEL": "WARNING"}
    assert after["stages"]["prod"]["iam_policy_file"] == "policy-prod.json"
    assert after["stages"]["prod"]["autogen_policy"] is False
    assert {k: v for k, v in after["stages"].items() if k != "prod"} == {
        k: v for k, v in before["stages"].items() if k != "prod"
    }
    assert {k: v for k, v in after.items() if k != "stages"} == {k: v for k, v in before.items() if k != "stages"}


def test_dry_run_writes_config_and_policy_without_calling_aws_or_chalice(
    chalice_dir: Path, tmp_path: Path,
) -> None:
    # given saved prod outputs
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps(_prod_outputs()))
    ran: list[Any] = []

    # when the deploy runs dry
    args = deploy.parse_args(["--stage", "prod", "--dry-run", "--outputs-file", str(outputs_file),
                              "--chalice-dir", str(chalice_dir), "--region", REGION])
    env = deploy.deploy(args, run=lambda *a, **k: ran.append((a, k)))

    # then both files are written and nothing was run
    config = json.loads((chalice_dir / "config.json").read_text())
    assert config["stages"]["prod"]["environment_variables"] == env
    assert json.loads((chalice_dir / "policy-prod.json").read_text()) == deploy.policy_document(
        _prod_outputs(), REGION, ACCOUNT
    )
    assert ran == []


def test_dry_run_needs_an_outputs_file() -> None:
    with pytest.raises(SystemExit):
        deploy.parse_args(["--stage", "prod", "--dry-run"])


def test_deploy_creates_the_stack_then_runs_chalice_with_its_outputs(chalice_dir: Path) -> None:
    # given moto (the autouse fixture) and a recorder in place of `chalice deploy`
    ran: list[tuple[list[str], dict[str, Any]]] = []
    args = deploy.parse_args(["--stage", "prod", "--chalice-dir", str(chalice_dir),
                              "--sender-email", "hello@shop.example", "--frontend-url", "https://shop.example",
                              "--api-url", "https://api.shop.example"])

    # when the prod deploy runs
    env = deploy.deploy(args, session=boto3.session.Session(region_name=REGION),
                        run=lambda command, **kwargs: ran.append((command, kwargs)))

    # then the stack exists and chalice deployed the prod stage with its outputs exported
    outputs = stack.stack_outputs(boto3.client("cloudformation"), "agora-prod")
    assert env == deploy.stage_environment(outputs)
    assert env["AGORA_RETENTION_QUEUE"] == "agora-prod-retention-emails"
    assert env["AGORA_FRONTEND_URL"] == "https://shop.example"
    assert env["AGORA_API_URL"] == "https://api.shop.example"
    ((command, kwargs),) = ran
    assert command[1:] == ["deploy", "--stage", "prod"]
    assert Path(command[0]).name == "chalice"
    assert kwargs["cwd"] == chalice_dir.parent
    assert kwargs["check"] is True
    assert {k: kwargs["env"][k] for k in env} == env
    assert kwargs["env"]["AWS_DEFAULT_REGION"] == REGION
    assert json.loads((chalice_dir / "policy-prod.json").read_text()) == deploy.policy_document(
        outputs, REGION, ACCOUNT
    )


def test_a_second_deploy_updates_the_stack_and_keeps_parameters_not_given(chalice_dir: Path) -> None:
    # given a prod stack deployed with a frontend URL
    session = boto3.session.Session(region_name=REGION)
    first = deploy.parse_args(["--stage", "prod", "--chalice-dir", str(chalice_dir),
                               "--sender-email", "hello@shop.example", "--frontend-url", "https://shop.example",
                               "--api-url", "https://api.shop.example"])
    deploy.deploy(first, session=session, run=lambda *a, **k: None)

    # when it is deployed again with only a new sender
    second = deploy.parse_args(["--stage", "prod", "--chalice-dir", str(chalice_dir),
                                "--sender-email", "news@shop.example"])
    env = deploy.deploy(second, session=session, run=lambda *a, **k: None)

    # then the sender changed and the frontend URL stayed
    assert (env["AGORA_SENDER_EMAIL"], env["AGORA_FRONTEND_URL"]) == ("news@shop.example", "https://shop.example")
    status = boto3.client("cloudformation").describe_stacks(StackName="agora-prod")["Stacks"][0]["StackStatus"]
    assert status == "UPDATE_COMPLETE"


def test_first_deploy_refuses_the_local_defaults_for_sender_and_urls(chalice_dir: Path) -> None:
    # given no dev stack yet and no --sender-email / --frontend-url / --api-url
    args = deploy.parse_args(["--stage", "dev", "--chalice-dir", str(chalice_dir)])

    # when the deploy runs, then it stops before creating anything
    with pytest.raises(SystemExit, match="needs --sender-email, --frontend-url and --api-url"):
        deploy.deploy(args, session=boto3.session.Session(region_name=REGION), run=lambda *a, **k: None)
    stacks = boto3.client("cloudformation").describe_stacks()["Stacks"]
    assert [s["StackName"] for s in stacks if s["StackName"] == "agora-dev"] == []
