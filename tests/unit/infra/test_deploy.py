"""infra/deploy.py: the stage environment, the least-privilege policy and the Chalice config."""

from __future__ import annotations

import itertools
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
        "TableStreamDeadLetterQueueName": "agora-prod-table-stream-dlq",
        "TableStreamDeadLetterQueueArn": f"{sqs}:agora-prod-table-stream-dlq",
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
        "AGORA_STREAM_DLQ": "agora-prod-table-stream-dlq",
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


# --- one least-privilege policy per function --------------------------------------------

TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/agora-prod"
SQS = f"arn:aws:sqs:{REGION}:{ACCOUNT}"
UPLOADS = f"arn:aws:s3:::agora-prod-imports-{ACCOUNT}/uploads/*"
SECRETS = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/agora/prod/secrets"
FUNCTIONS = ["api_handler", "retention_emails", "domain_events", "customer_imports", "table_stream",
             "dead_letter_report", "release_expired_reservations", "complete_delivered_orders",
             "loyalty_daily", "finish_stuck_payments", "seller_subscription_fees", "rank_seller_performance"]


def _policies() -> dict[str, dict[str, Any]]:
    return deploy.function_policies(_prod_outputs(), REGION, ACCOUNT)


def _grants(policy: dict[str, Any]) -> set[tuple[str, str]]:
    """Every (action, resource) pair a policy allows."""
    return {(action, resource) for s in policy["Statement"] for action in s["Action"] for resource in s["Resource"]}


def _who_may(action: str, resource: str | None = None) -> set[str]:
    """The functions whose policy allows ``action`` (on ``resource``, if given)."""
    return {function for function, policy in _policies().items()
            if any(a == action and resource in (None, r) for a, r in _grants(policy))}


def test_every_function_has_a_policy() -> None:
    assert list(_policies()) == FUNCTIONS


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_chalice_gives_every_function_its_own_role_and_policy_file(chalice_dir: Path, stage: str) -> None:
    # given the stage's config as infra.deploy writes it
    from chalice.config import Config
    from chalice.deploy import models
    from chalice.deploy.appgraph import ApplicationGraphBuilder, DependencyBuilder

    import app

    deploy.update_chalice_config(chalice_dir / "config.json", stage, {})
    config = Config(chalice_stage=stage, config_from_disk=json.loads((chalice_dir / "config.json").read_text()),
                    user_provided_params={"chalice_app": app.app, "project_dir": str(chalice_dir.parent)})

    # when Chalice builds what it would deploy
    graph = DependencyBuilder().build_dependencies(ApplicationGraphBuilder().build(config, stage))
    functions = [r for r in graph if isinstance(r, models.LambdaFunction)]

    # then every function of the app has its own role with its own policy file, and
    # deploy.FUNCTIONS names exactly these functions (a new handler needs a policy here)
    assert sorted(f.resource_name for f in functions) == sorted(deploy.FUNCTIONS)
    assert {f.resource_name: (f.role.role_name, Path(f.role.policy.filename).name) for f in functions} == {
        name: (f"agora-{stage}-{name}", f"policy-{stage}-{name}.json") for name in deploy.FUNCTIONS
    }
    # and the log group each policy names is the function's own
    assert {f.resource_name: deploy.function_name(stage, f.resource_name) for f in functions} == {
        f.resource_name: f.function_name for f in functions
    }


def test_api_may_not_send_mail_nor_take_messages_off_a_queue() -> None:
    api = _grants(_policies()["api_handler"])

    assert [a for a, _ in api if a.startswith("ses:")] == []
    assert {a for a, _ in api if a.startswith("sqs:")} == {"sqs:GetQueueUrl", "sqs:SendMessage"}
    # it queues mails and import chunks, never domain events (the stream relay does)
    assert {r for a, r in api if a == "sqs:SendMessage"} == {
        f"{SQS}:agora-prod-retention-emails", f"{SQS}:agora-prod-customer-imports",
    }
    # presigned upload URLs carry the signer's rights: PUT under uploads/, nothing else in S3
    assert {(a, r) for a, r in api if a.startswith("s3:")} == {("s3:PutObject", UPLOADS)}


@pytest.mark.parametrize(("queue", "worker"), [
    ("agora-prod-retention-emails", "retention_emails"),
    ("agora-prod-events", "domain_events"),
    ("agora-prod-customer-imports", "customer_imports"),
])
def test_only_the_worker_of_a_queue_receives_and_deletes_its_messages(queue: str, worker: str) -> None:
    assert _who_may("sqs:ReceiveMessage", f"{SQS}:{queue}") == {worker}
    assert _who_may("sqs:DeleteMessage", f"{SQS}:{queue}") == {worker}
    # and a worker takes messages off its own queue only
    assert {r for a, r in _grants(_policies()[worker]) if a == "sqs:ReceiveMessage"} == {f"{SQS}:{queue}"}


@pytest.mark.parametrize(("queue", "senders"), [
    ("agora-prod-retention-emails", {"api_handler", "domain_events"}),
    ("agora-prod-events", {"table_stream"}),
    ("agora-prod-customer-imports", {"api_handler"}),
])
def test_each_queue_takes_messages_only_from_those_that_enqueue_to_it(queue: str, senders: set[str]) -> None:
    assert _who_may("sqs:SendMessage", f"{SQS}:{queue}") == senders


def test_only_the_mail_worker_sends_mail_and_only_as_the_stage_sender() -> None:
    mail = [s for s in _policies()["retention_emails"]["Statement"] if s["Sid"] == "SendMail"]

    assert {f for f, p in _policies().items() if any(a.startswith("ses:") for a, _ in _grants(p))} == {
        "retention_emails"
    }
    assert mail == [{
        "Sid": "SendMail", "Effect": "Allow", "Action": ["ses:SendRawEmail"],
        "Resource": [f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/hello@shop.example",
                     f"arn:aws:ses:{REGION}:{ACCOUNT}:configuration-set/agora-prod"],
    }]


def test_only_the_dead_letter_report_reads_the_dead_letter_queues() -> None:
    report = _grants(_policies()["dead_letter_report"])
    dead_letters = {f"{SQS}:agora-prod-retention-emails-dlq", f"{SQS}:agora-prod-events-dlq",
                    f"{SQS}:agora-prod-customer-imports-dlq"}
    stream_dead_letters = f"{SQS}:agora-prod-table-stream-dlq"

    assert {f for f, p in _policies().items() if {r for _, r in _grants(p)} & dead_letters} == {"dead_letter_report"}
    # depth and redrive policy of each worker queue and its DLQ, and a look at the dead letters
    # (received with visibility 0, never deleted); nothing else at all but its logs
    assert {a for a, r in report if not a.startswith("logs:")} == {
        "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"}
    assert {r for a, r in report if a == "sqs:GetQueueAttributes"} == dead_letters | {stream_dead_letters} | {
        f"{SQS}:agora-prod-retention-emails", f"{SQS}:agora-prod-events", f"{SQS}:agora-prod-customer-imports",
    }
    assert {r for a, r in report if a == "sqs:ReceiveMessage"} == dead_letters | {stream_dead_letters}
    assert _who_may("sqs:ReceiveMessage", stream_dead_letters) == {"dead_letter_report"}
    assert _who_may("sqs:SendMessage", stream_dead_letters) == {"table_stream"}


def test_only_the_stream_relay_reads_the_stream_and_it_reads_no_items() -> None:
    relay = _grants(_policies()["table_stream"])

    assert _who_may("dynamodb:GetRecords") == {"table_stream"}
    assert {(a, r) for a, r in relay if a.startswith("dynamodb:")} == {
        (action, f"{TABLE}/stream/*")  # any stream of this table: a replaced one must drain (README)
        for action in ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                       "dynamodb:ListStreams")
    }
    assert {(a, r) for a, r in relay if a.startswith("sqs:")} == {
        ("sqs:GetQueueUrl", f"{SQS}:agora-prod-events"), ("sqs:SendMessage", f"{SQS}:agora-prod-events"),
        # records it cannot relay, and (with its role) its mapping's on-failure destination
        ("sqs:GetQueueUrl", f"{SQS}:agora-prod-table-stream-dlq"),
        ("sqs:SendMessage", f"{SQS}:agora-prod-table-stream-dlq"),
    }


def test_only_the_api_and_the_imports_worker_touch_uploads() -> None:
    uploads = {f: {a for a, r in _grants(p) if a.startswith("s3:")} for f, p in _policies().items()}

    assert {f: actions for f, actions in uploads.items() if actions} == {
        "api_handler": {"s3:PutObject"}, "customer_imports": {"s3:GetObject", "s3:DeleteObject"},
    }
    assert {r for p in _policies().values() for a, r in _grants(p) if a.startswith("s3:")} == {UPLOADS}


def test_only_functions_that_read_secrets_may_read_them() -> None:
    readers = {"api_handler", "retention_emails", "domain_events", "release_expired_reservations",
               "finish_stuck_payments", "seller_subscription_fees"}

    assert _who_may("ssm:GetParametersByPath") == readers
    assert _who_may("kms:Decrypt") == readers
    for function in readers:
        (secrets,) = [s for s in _policies()[function]["Statement"] if s["Sid"] == "Secrets"]
        (decrypt,) = [s for s in _policies()[function]["Statement"] if s["Sid"] == "DecryptSecrets"]
        assert secrets["Resource"] == [SECRETS, f"{SECRETS}/*"]
        assert decrypt["Condition"] == {
            "StringEquals": {"kms:ViaService": f"ssm.{REGION}.amazonaws.com"},
            "StringLike": {"kms:EncryptionContext:PARAMETER_ARN": f"{SECRETS}/*"},
        }
    # nobody reads the non-secret config parameters: the code takes them from its environment
    assert [f for f, p in _policies().items() if any("/config" in r for _, r in _grants(p))] == []


def test_table_access_names_the_table_and_its_indexes_and_never_scans() -> None:
    users = {f for f, p in _policies().items() if any(r == TABLE for _, r in _grants(p))}

    assert users == set(FUNCTIONS) - {"table_stream", "dead_letter_report"}
    assert [(f, a) for f, p in _policies().items() for a, _ in _grants(p) if a == "dynamodb:Scan"] == []
    for function in users:
        grants = _grants(_policies()[function])
        assert {r for a, r in grants if a == "dynamodb:Query"} == {
            TABLE, f"{TABLE}/index/GSI1", f"{TABLE}/index/GSI2", f"{TABLE}/index/GSI3",
        }


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_writes_only_its_own_log_group(function: str) -> None:
    name = "agora-prod" if function == "api_handler" else f"agora-prod-{function}"
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{name}"

    assert {r for a, r in _grants(_policies()[function]) if a.startswith("logs:")} == {group, f"{group}:*"}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_wildcard_action_and_wildcard_resources_only_where_documented(function: str) -> None:
    policy = _policies()[function]
    log_group = deploy.function_name("prod", function)

    assert [a for a, _ in _grants(policy) if "*" in a] == []
    assert {s["Effect"] for s in policy["Statement"]} == {"Allow"}
    # each wildcard below is a documented necessity (infra/README.md, "Lambda roles")
    allowed = {
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{log_group}:*",  # the group's log streams
        f"{TABLE}/stream/*",  # the stream's label changes when it is replaced
        UPLOADS,  # objects under uploads/
        f"{SECRETS}/*",  # parameters under the secrets path
        f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*",  # the aws/ssm key, only via SSM for the secrets path
    }
    assert {r for _, r in _grants(policy) if "*" in r} <= allowed


def test_update_chalice_config_sets_one_stage_and_keeps_the_others(chalice_dir: Path) -> None:
    # given the project's config with an operator's own variable and function setting on prod,
    # and the stage-wide policy file of earlier deploys
    path = chalice_dir / "config.json"
    before = json.loads(path.read_text())
    before["stages"]["prod"]["environment_variables"]["AGORA_LOG_LEVEL"] = "WARNING"
    before["stages"]["prod"]["iam_policy_file"] = "policy-prod.json"
    before["stages"]["prod"]["lambda_functions"]["customer_imports"]["reserved_concurrency"] = 10
    path.write_text(json.dumps(before))

    # when the prod environment is written
    env = deploy.stage_environment(_prod_outputs())
    deploy.update_chalice_config(path, "prod", env)

    # then prod has the stack's variables and keeps its own; each function has its own
    # policy file and the stage none; nothing else changed
    after = json.loads(path.read_text())
    prod = after["stages"]["prod"]
    assert prod["environment_variables"] == {**env, "AGORA_LOG_LEVEL": "WARNING"}
    assert "iam_policy_file" not in prod
    assert prod["autogen_policy"] is False
    assert {name: (f["autogen_policy"], f["iam_policy_file"]) for name, f in prod["lambda_functions"].items()} == {
        name: (False, f"policy-prod-{name}.json") for name in FUNCTIONS
    }
    assert prod["lambda_functions"]["customer_imports"]["reserved_concurrency"] == 10
    assert prod["api_throttling"] == {"rate_limit": 500, "burst_limit": 1000}
    assert {k: v for k, v in after["stages"].items() if k != "prod"} == {
        k: v for k, v in before["stages"].items() if k != "prod"
    }
    assert {k: v for k, v in after.items() if k != "stages"} == {k: v for k, v in before.items() if k != "stages"}


def test_the_project_config_is_what_deploy_writes(chalice_dir: Path) -> None:
    # the committed .chalice/config.json already gives every function its policy file
    path = chalice_dir / "config.json"
    committed = json.loads(path.read_text())

    for stage in ("dev", "prod"):
        deploy.update_chalice_config(path, stage, {})

    assert json.loads(path.read_text()) == committed


def test_write_policies_writes_one_file_per_function_and_drops_the_shared_one(chalice_dir: Path) -> None:
    # given the stage-wide policy file an earlier deploy wrote
    (chalice_dir / "policy-prod.json").write_text("{}")

    written = deploy.write_policies(chalice_dir, "prod", _policies())

    assert [p.name for p in written] == [f"policy-prod-{name}.json" for name in FUNCTIONS]
    assert {p.name: json.loads(p.read_text()) for p in written} == {
        f"policy-prod-{name}.json": policy for name, policy in _policies().items()
    }
    assert not (chalice_dir / "policy-prod.json").exists()


def test_dry_run_writes_config_and_policies_without_calling_aws_or_chalice(
    chalice_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    # given saved prod outputs and no deploy of prod yet
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps(_prod_outputs()))
    ran: list[Any] = []

    # when the deploy runs dry
    args = deploy.parse_args(["--stage", "prod", "--dry-run", "--outputs-file", str(outputs_file),
                              "--chalice-dir", str(chalice_dir), "--region", REGION])
    env = deploy.deploy(args, run=lambda *a, **k: ran.append((a, k)))

    # then the config and every function's policy are written, nothing was run, and the
    # printout shows the chalice command and the throttling call that would follow it
    config = json.loads((chalice_dir / "config.json").read_text())
    assert config["stages"]["prod"]["environment_variables"] == env
    for name, policy in _policies().items():
        assert json.loads((chalice_dir / f"policy-prod-{name}.json").read_text()) == policy
    assert ran == []
    printed = capsys.readouterr().out
    assert "would run: " in printed and printed.split("would run: ")[1].split("\n")[0].endswith(
        "deploy --stage prod")
    assert ('then would call: apigateway.update_stage({"patchOperations": ['
            '{"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "500"}, '
            '{"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "1000"}], '
            '"restApiId": "<rest_api.rest_api_id from .chalice/deployed/prod.json>", "stageName": "api"})') in printed


def test_dry_run_needs_an_outputs_file() -> None:
    with pytest.raises(SystemExit):
        deploy.parse_args(["--stage", "prod", "--dry-run"])


# --- after `chalice deploy`: API throttling ---------------------------------------------


def _deployed(stage: str = "prod", config: dict[str, Any] | None = None,
              resources: dict[str, dict[str, Any]] | None = None) -> deploy.DeployedStage:
    return deploy.DeployedStage(stage, config if config is not None else {"api_gateway_stage": "api"},
                                resources if resources is not None else {
                                    "rest_api": {"name": "rest_api", "resource_type": "rest_api",
                                                 "rest_api_id": "abc123"},
                                    "table_stream-dynamodb-event-source": {
                                        "name": "table_stream-dynamodb-event-source",
                                        "resource_type": "dynamodb_event", "event_uuid": "esm-1",
                                        "stream_arn": STREAM_ARN}},
                                _prod_outputs())


def test_the_stream_relay_gives_up_on_a_batch_after_retries_bisecting_it_to_the_dead_letter_queue() -> None:
    (call,) = deploy.stream_failure_handling(_deployed())

    assert (call.service, call.operation) == ("lambda", "update_event_source_mapping")
    assert call.params == {
        "UUID": "esm-1",
        "MaximumRetryAttempts": 5,
        "BisectBatchOnFunctionError": True,
        "MaximumRecordAgeInSeconds": 6 * 3600,
        "DestinationConfig": {"OnFailure": {"Destination": f"{SQS}:agora-prod-table-stream-dlq"}},
    }
    assert deploy.stream_failure_handling in deploy.AFTER_CHALICE_DEPLOY


def test_the_packaged_template_carries_the_same_stream_failure_handling(chalice_dir: Path) -> None:
    # given the SAM template `chalice package --stage prod` generates for the app (without
    # building the deployment package), and the merge template infra.deploy writes
    from chalice.awsclient import TypedAWSClient
    from chalice.config import Config
    from chalice.deploy.appgraph import ApplicationGraphBuilder, DependencyBuilder
    from chalice.package import PackageOptions, SAMTemplateGenerator, TemplateDeepMerger

    import app

    config = Config(chalice_stage="prod", config_from_disk=json.loads((chalice_dir / "config.json").read_text()),
                    user_provided_params={"chalice_app": app.app, "project_dir": str(chalice_dir.parent)})
    graph = DependencyBuilder().build_dependencies(ApplicationGraphBuilder().build(config, "prod"))
    options = PackageOptions(TypedAWSClient(boto3.session.Session(region_name=REGION)._session))
    packaged = SAMTemplateGenerator(config, options).generate(graph)

    # when `--merge-template` merges the overrides into it
    merged = TemplateDeepMerger().merge(deploy.package_overrides(_prod_outputs()), packaged)

    # then the relay's stream event keeps Chalice's settings and gains the failure handling
    events = merged["Resources"]["TableStream"]["Properties"]["Events"]
    assert list(events) == ["TableStreamDynamodbEventSource"]  # the names the overrides use
    properties = events["TableStreamDynamodbEventSource"]["Properties"]
    assert (properties["BatchSize"], properties["StartingPosition"]) == (100, "TRIM_HORIZON")
    assert (properties["MaximumRetryAttempts"], properties["BisectBatchOnFunctionError"],
            properties["MaximumRecordAgeInSeconds"]) == (5, True, 6 * 3600)
    assert properties["DestinationConfig"] == {
        "OnFailure": {"Type": "SQS", "Destination": f"{SQS}:agora-prod-table-stream-dlq"}}


def test_stream_failure_handling_needs_the_mapping_chalice_deployed() -> None:
    with pytest.raises(SystemExit, match=r"no table_stream-dynamodb-event-source.event_uuid"):
        deploy.stream_failure_handling(_deployed(resources={}))


@pytest.mark.parametrize(("stage", "rate", "burst"), [("dev", "100", "200"), ("prod", "500", "1000")])
def test_throttling_defaults_per_stage(stage: str, rate: str, burst: str) -> None:
    (call,) = deploy.api_throttling(_deployed(stage))

    assert (call.service, call.operation) == ("apigateway", "update_stage")
    assert call.params == {"restApiId": "abc123", "stageName": "api", "patchOperations": [
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": rate},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": burst},
    ]}


def test_throttling_follows_the_stage_config() -> None:
    config = {"api_gateway_stage": "v1", "api_throttling": {"rate_limit": 2.5, "burst_limit": 5}}

    (call,) = deploy.api_throttling(_deployed("prod", config))

    assert call.params["stageName"] == "v1"
    assert [op["value"] for op in call.params["patchOperations"]] == ["2.5", "5"]


def test_throttling_needs_the_api_chalice_deployed() -> None:
    with pytest.raises(SystemExit, match=r"no rest_api.rest_api_id in .chalice/deployed/prod.json"):
        deploy.api_throttling(_deployed(resources={}))


def test_after_chalice_deploy_runs_every_step_in_order() -> None:
    def other_step(deployed: deploy.DeployedStage) -> list[deploy.AwsCall]:
        return [deploy.AwsCall("lambda", "update_event_source_mapping", {"UUID": "u-1"})]

    calls = deploy.after_chalice_deploy(_deployed(), steps=(deploy.api_throttling, other_step))

    assert [(c.service, c.operation) for c in calls] == [("apigateway", "update_stage"),
                                                         ("lambda", "update_event_source_mapping")]
    assert deploy.api_throttling in deploy.AFTER_CHALICE_DEPLOY


def test_throttle_flags_are_kept_in_the_config_for_later_deploys(chalice_dir: Path, tmp_path: Path) -> None:
    # given saved dev outputs
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps({**_prod_outputs(), "Stage": "dev"}))
    common = ["--stage", "dev", "--dry-run", "--outputs-file", str(outputs_file), "--chalice-dir", str(chalice_dir)]

    # when one deploy raises the rate and the next one passes no limits
    deploy.deploy(deploy.parse_args([*common, "--throttle-rate", "150"]), run=lambda *a, **k: None)
    deploy.deploy(deploy.parse_args(common), run=lambda *a, **k: None)

    # then the stage keeps the new rate and its default burst
    config = json.loads((chalice_dir / "config.json").read_text())
    assert config["stages"]["dev"]["api_throttling"] == {"rate_limit": 150.0, "burst_limit": 200}


def test_throttle_flags_must_be_positive() -> None:
    with pytest.raises(SystemExit):
        deploy.parse_args(["--stage", "dev", "--throttle-burst", "0"])


_functions = itertools.count(1)


def _stream_mapping(stream_arn: str) -> str:
    """The relay's function and its event source mapping on the table stream, as `chalice
    deploy` creates them (with none of the failure handling); returns the mapping's UUID."""
    import io
    import zipfile

    name = f"agora-table-stream-{next(_functions)}"
    role = boto3.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return None\n")
    function = boto3.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
        Code={"ZipFile": code.getvalue()})["FunctionArn"]
    return boto3.client("lambda").create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName=function, StartingPosition="TRIM_HORIZON", BatchSize=100)["UUID"]


def _fake_chalice_deploy(chalice_dir: Path, ran: list[tuple[list[str], dict[str, Any]]]) -> deploy.Runner:
    """Stands in for `chalice deploy`: a REST API with an `api` stage in moto, recorded in
    .chalice/deployed/<stage>.json as Chalice records it."""

    def run(command: list[str], **kwargs: Any) -> None:
        ran.append((command, kwargs))
        apigateway = boto3.client("apigateway")
        api = apigateway.create_rest_api(name="agora")["id"]
        root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
        apigateway.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
        apigateway.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
        apigateway.create_deployment(restApiId=api, stageName="api")
        stage = command[command.index("--stage") + 1]
        recorded = chalice_dir / "deployed" / f"{stage}.json"
        kept = [r["event_uuid"] for r in json.loads(recorded.read_text())["resources"]
                if r.get("resource_type") == "dynamodb_event"] if recorded.exists() else []
        mapping = kept[0] if kept else _stream_mapping(kwargs["env"]["AGORA_TABLE_STREAM_ARN"])
        (chalice_dir / "deployed").mkdir(exist_ok=True)
        (chalice_dir / "deployed" / f"{stage}.json").write_text(json.dumps({
            "resources": [{"name": "rest_api", "resource_type": "rest_api", "rest_api_id": api,
                           "rest_api_url": f"https://{api}.execute-api.{REGION}.amazonaws.com/api/"},
                          {"name": "table_stream-dynamodb-event-source", "resource_type": "dynamodb_event",
                           "event_uuid": mapping, "stream_arn": kwargs["env"]["AGORA_TABLE_STREAM_ARN"]}],
            "schema_version": "2.0", "backend": "api",
        }))

    return run


def test_deploy_creates_the_stack_runs_chalice_with_its_outputs_then_throttles_the_api(chalice_dir: Path) -> None:
    # given moto (the autouse fixture) and a stand-in for `chalice deploy`
    ran: list[tuple[list[str], dict[str, Any]]] = []
    args = deploy.parse_args(["--stage", "prod", "--chalice-dir", str(chalice_dir),
                              "--sender-email", "hello@shop.example", "--frontend-url", "https://shop.example",
                              "--api-url", "https://api.shop.example"])

    # when the prod deploy runs
    env = deploy.deploy(args, session=boto3.session.Session(region_name=REGION),
                        run=_fake_chalice_deploy(chalice_dir, ran))

    # then the stack exists and chalice deployed the prod stage with its outputs exported
    outputs = stack.stack_outputs(boto3.client("cloudformation"), "agora-prod")
    assert env == deploy.stage_environment(outputs)
    assert env["AGORA_RETENTION_QUEUE"] == "agora-prod-retention-emails"
    assert env["AGORA_IMPORTS_BUCKET"] == f"agora-prod-imports-{ACCOUNT}"
    assert env["AGORA_FRONTEND_URL"] == "https://shop.example"
    assert env["AGORA_API_URL"] == "https://api.shop.example"
    ((command, kwargs),) = ran
    assert command[1:] == ["deploy", "--stage", "prod"]
    assert Path(command[0]).name == "chalice"
    assert kwargs["cwd"] == chalice_dir.parent
    assert kwargs["check"] is True
    assert {k: kwargs["env"][k] for k in env} == env
    assert kwargs["env"]["AWS_DEFAULT_REGION"] == REGION
    for name, policy in deploy.function_policies(outputs, REGION, ACCOUNT).items():
        assert json.loads((chalice_dir / f"policy-prod-{name}.json").read_text()) == policy
    # and the API's stage is throttled as prod's config says
    api = json.loads((chalice_dir / "deployed" / "prod.json").read_text())["resources"][0]["rest_api_id"]
    settings = boto3.client("apigateway").get_stage(restApiId=api, stageName="api")["methodSettings"]["*/*"]
    assert (settings["throttlingRateLimit"], settings["throttlingBurstLimit"]) == (500.0, 1000)
    # and the stream relay gives up on a failing batch after retries, bisecting it, into the stream's DLQ
    uuid = json.loads((chalice_dir / "deployed" / "prod.json").read_text())["resources"][1]["event_uuid"]
    mapping = boto3.client("lambda").get_event_source_mapping(UUID=uuid)
    assert (mapping["MaximumRetryAttempts"], mapping["BisectBatchOnFunctionError"]) == (5, True)
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": outputs["TableStreamDeadLetterQueueArn"]}}


def test_a_second_deploy_updates_the_stack_and_keeps_parameters_not_given(chalice_dir: Path) -> None:
    # given a prod stack deployed with a frontend URL
    session = boto3.session.Session(region_name=REGION)
    first = deploy.parse_args(["--stage", "prod", "--chalice-dir", str(chalice_dir),
                               "--sender-email", "hello@shop.example", "--frontend-url", "https://shop.example",
                               "--api-url", "https://api.shop.example"])
    deploy.deploy(first, session=session, run=_fake_chalice_deploy(chalice_dir, []))

    # when it is deployed again with only a new sender and a lower rate limit
    second = deploy.parse_args(["--stage", "prod", "--chalice-dir", str(chalice_dir),
                                "--sender-email", "news@shop.example", "--throttle-rate", "50"])
    env = deploy.deploy(second, session=session, run=_fake_chalice_deploy(chalice_dir, []))

    # then the sender changed and the frontend URL stayed; the new limit is on the API
    assert (env["AGORA_SENDER_EMAIL"], env["AGORA_FRONTEND_URL"]) == ("news@shop.example", "https://shop.example")
    status = boto3.client("cloudformation").describe_stacks(StackName="agora-prod")["Stacks"][0]["StackStatus"]
    assert status == "UPDATE_COMPLETE"
    api = json.loads((chalice_dir / "deployed" / "prod.json").read_text())["resources"][0]["rest_api_id"]
    settings = boto3.client("apigateway").get_stage(restApiId=api, stageName="api")["methodSettings"]["*/*"]
    assert (settings["throttlingRateLimit"], settings["throttlingBurstLimit"]) == (50.0, 1000)


def test_first_deploy_refuses_the_local_defaults_for_sender_and_urls(chalice_dir: Path) -> None:
    # given no dev stack yet and no --sender-email / --frontend-url / --api-url
    args = deploy.parse_args(["--stage", "dev", "--chalice-dir", str(chalice_dir)])

    # when the deploy runs, then it stops before creating anything
    with pytest.raises(SystemExit, match="needs --sender-email, --frontend-url and --api-url"):
        deploy.deploy(args, session=boto3.session.Session(region_name=REGION), run=lambda *a, **k: None)
    stacks = boto3.client("cloudformation").describe_stacks()["Stacks"]
    assert [s["StackName"] for s in stacks if s["StackName"] == "agora-dev"] == []


# --- a replaced table stream ------------------------------------------------------------


def _write_deployed(chalice_dir: Path, stage: str, resources: list[dict[str, Any]]) -> Path:
    path = chalice_dir / "deployed" / f"{stage}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"resources": resources, "schema_version": "2.0", "backend": "api"}))
    return path


OLD_STREAM = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/agora-prod/stream/2025-01-01T00:00:00.000"
REST_API = {"name": "rest_api", "resource_type": "rest_api", "rest_api_id": "abc123"}
RELAY = {"name": "table_stream-dynamodb-event-source", "resource_type": "dynamodb_event",
         "event_uuid": "uuid-old", "lambda_arn": "arn:aws:lambda:eu-central-1:123456789012:function:x"}


def test_a_replaced_stream_is_forgotten_so_chalice_subscribes_the_relay_to_the_new_one(chalice_dir: Path) -> None:
    # given chalice's record of the relay's mapping on the stream the stack just replaced
    path = _write_deployed(chalice_dir, "prod", [REST_API, {**RELAY, "stream_arn": OLD_STREAM}])

    # when the deploy prepares chalice for the stack's current stream
    stale = deploy.forget_replaced_stream(chalice_dir, "prod", STREAM_ARN)

    # then that record is gone (chalice will create a mapping on the new stream) and returned
    assert stale == [{**RELAY, "stream_arn": OLD_STREAM}]
    assert json.loads(path.read_text())["resources"] == [REST_API]


def test_a_current_stream_is_left_as_chalice_recorded_it(chalice_dir: Path) -> None:
    path = _write_deployed(chalice_dir, "prod", [REST_API, {**RELAY, "stream_arn": STREAM_ARN}])
    before = path.read_text()

    assert deploy.forget_replaced_stream(chalice_dir, "prod", STREAM_ARN) == []
    assert deploy.forget_replaced_stream(chalice_dir, "dev", STREAM_ARN) == []  # never deployed
    assert path.read_text() == before


def test_a_dry_run_reports_a_replaced_stream_and_changes_nothing(
    chalice_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    # given a deployed prod whose relay reads the replaced stream
    path = _write_deployed(chalice_dir, "prod", [REST_API, {**RELAY, "stream_arn": OLD_STREAM}])
    before = path.read_text()
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps(_prod_outputs()))

    # when the deploy runs dry
    deploy.deploy(deploy.parse_args(["--stage", "prod", "--dry-run", "--outputs-file", str(outputs_file),
                                     "--chalice-dir", str(chalice_dir)]), run=lambda *a, **k: None)

    # then it says what it would do, and throttles the API chalice recorded
    printed = capsys.readouterr().out
    assert (f"would forget event source mapping uuid-old on the replaced stream {OLD_STREAM}, "
            f"so that chalice subscribes the relay to {STREAM_ARN}") in printed
    assert '"restApiId": "abc123"' in printed
    assert path.read_text() == before


# --- after `chalice deploy`: API Gateway's own answers in agora's error shape ----------------


def test_gateway_responses_answer_unknown_routes_with_agora_404_and_never_quote_the_request() -> None:
    calls = deploy.gateway_responses(_deployed())
    responses = {c.params["responseType"]: c.params for c in calls if c.operation == "put_gateway_response"}
    assert {"MISSING_AUTHENTICATION_TOKEN", "INCOMPLETE_SIGNATURE", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    for response_type in ("MISSING_AUTHENTICATION_TOKEN", "INCOMPLETE_SIGNATURE"):
        assert responses[response_type]["statusCode"] == "404"
        body = json.loads(responses[response_type]["responseTemplates"]["application/json"])
        assert body == {"error": {"code": "not_found", "message": "No route matches this path and method.",
                                  "details": {"request_id": "$context.requestId"}}}
    for params in responses.values():
        template = params["responseTemplates"]["application/json"]
        assert set(json.loads(template)["error"]) == {"code", "message", "details"}
        # API Gateway's messages may quote the Authorization header; nothing of the request is used
        assert "$context.error" not in template and "method.request" not in template
    assert "statusCode" not in responses["DEFAULT_5XX"]  # 5xx keep API Gateway's status
    # then the stage is deployed again, so that they take effect
    assert (calls[-1].operation, calls[-1].params["stageName"]) == ("create_deployment", "api")
    assert deploy.gateway_responses in deploy.AFTER_CHALICE_DEPLOY


def test_deploy_declares_the_gateway_responses_on_the_deployed_api(chalice_dir: Path) -> None:
    args = deploy.parse_args(["--stage", "dev", "--chalice-dir", str(chalice_dir),
                              "--sender-email", "hello@shop.example", "--frontend-url", "https://shop.example",
                              "--api-url", "https://api.shop.example"])

    deploy.deploy(args, session=boto3.session.Session(region_name=REGION), run=_fake_chalice_deploy(chalice_dir, []))

    api = json.loads((chalice_dir / "deployed" / "dev.json").read_text())["resources"][0]["rest_api_id"]
    apigateway = boto3.client("apigateway")
    missing = apigateway.get_gateway_response(restApiId=api, responseType="MISSING_AUTHENTICATION_TOKEN")
    assert missing["statusCode"] == "404"
    assert json.loads(missing["responseTemplates"]["application/json"])["error"]["code"] == "not_found"
    server_error = apigateway.get_gateway_response(restApiId=api, responseType="DEFAULT_5XX")
    assert json.loads(server_error["responseTemplates"]["application/json"])["error"]["code"] == "internal_error"
    deployments = apigateway.get_deployments(restApiId=api)["items"]
    assert len(deployments) == 2  # chalice's, then the one that publishes the gateway responses
