"""Deploy agora to a stage: the infra stack first, then the Chalice app bound to it.

    python -m infra.deploy --stage prod --sender-email hello@shop.example --frontend-url https://shop.example \
        --api-url https://api.shop.example

1. creates or updates the CloudFormation stack ``agora-<stage>`` from infra/template.yaml;
2. writes its outputs as the stage's ``environment_variables`` in .chalice/config.json, and
   gives each Lambda function its own policy file there (``lambda_functions.<name>``);
3. writes ``.chalice/policy-<stage>-<function>.json``: each function's role may do only what
   its code path needs (``FUNCTIONS``), on exactly the stack's resources;
4. runs ``chalice deploy --stage <stage>`` with the same variables exported, because
   chalicelib/core/resources.py reads the queue names and stream ARN at import time (if the
   stack replaced the table's stream, it first makes Chalice subscribe to the new one);
5. makes the calls ``chalice deploy`` cannot (``AFTER_CHALICE_DEPLOY``): the API stage's
   throttling, API Gateway's own error answers in agora's error shape (unknown routes 404),
   and the table stream mapping's retry limit, bisect-on-error and on-failure destination
   (the stream's dead-letter queue).

``--dry-run --outputs-file outputs.json`` does steps 2 and 3 from saved outputs and prints
the chalice command and the calls of step 5 instead of calling AWS or running anything.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from infra import stack

ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "agora"
DEPLOYABLE_STAGES = ("dev", "prod")
# Their template defaults suit only the local stack; a new deployed stack must be given them.
REQUIRED_ON_CREATE = ("SenderEmail", "FrontendUrl", "ApiUrl")

# Lambda environment variable -> stack output it is read from.
ENVIRONMENT_FROM_OUTPUTS = {
    "AGORA_STAGE": "Stage",
    "AGORA_TABLE_NAME": "TableName",
    "AGORA_TABLE_STREAM_ARN": "TableStreamArn",
    "AGORA_RETENTION_QUEUE": "RetentionQueueName",
    "AGORA_EVENTS_QUEUE": "EventsQueueName",
    "AGORA_IMPORTS_QUEUE": "CustomerImportsQueueName",
    "AGORA_STREAM_DLQ": "TableStreamDeadLetterQueueName",
    "AGORA_IMPORTS_BUCKET": "ImportsBucketName",
    "AGORA_SENDER_EMAIL": "SenderEmail",
    "AGORA_SECRETS_PATH": "SecretsPath",
    "AGORA_FRONTEND_URL": "FrontendUrl",
    "AGORA_API_URL": "ApiUrl",
}
# Every table operation the data layer uses. No Scan: request paths never scan (DESIGN.md).
# Transactions are authorised per contained action (PutItem, UpdateItem, ConditionCheckItem...).
TABLE_ACTIONS = [
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
]
INDEX_ACTIONS = ["dynamodb:Query"]
# What a DynamoDB event source mapping needs from its function's role.
STREAM_ACTIONS = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                  "dynamodb:ListStreams"]
SEND_ACTIONS = ["sqs:GetQueueUrl", "sqs:SendMessage"]  # SendMessageBatch is authorised as SendMessage
# What an SQS event source mapping needs (receive, delete, attributes), plus GetQueueUrl for
# core.sqs deleting the succeeded messages of a partly failed batch (DeleteMessageBatch).
CONSUME_ACTIONS = ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"]
DEPTH_ACTIONS = ["sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
# The report also names the messages in the dead-letter queues: it receives them with a
# visibility timeout of 0 (they stay where they are) and never deletes them.
PEEK_ACTIONS = ["sqs:ReceiveMessage"]
MAIL_ACTIONS = ["ses:SendRawEmail"]  # retention.mailer sends raw MIME only
UPLOADS_PREFIX = "uploads/"

# Worker queue -> its stack outputs (queue, dead-letter queue).
QUEUES = {
    "retention": ("RetentionQueueArn", "RetentionDeadLetterQueueArn"),
    "events": ("EventsQueueArn", "EventsDeadLetterQueueArn"),
    "imports": ("CustomerImportsQueueArn", "CustomerImportsDeadLetterQueueArn"),
}
API_FUNCTION = "api_handler"  # Chalice's name for the REST API's function (deployed as agora-<stage>)


@dataclass(frozen=True)
class Needs:
    """What one Lambda function's code path touches, and so all its role may do."""

    table: bool = False  # items and index queries (never Scan)
    secrets: bool = False  # the SecureString secrets (Stripe keys, token signing key)
    sends_to: tuple[str, ...] = ()  # queues it enqueues to
    consumes: str | None = None  # the queue it is the worker of (receive, delete)
    reads_stream: bool = False  # the table's stream (event source mapping)
    reads_dead_letter_depths: bool = False  # every worker queue's redrive policy, every DLQ's messages
    stream_dead_letters: bool = False  # sends unrelayable stream records to the stream's DLQ
    sends_mail: bool = False  # SES, from the stage's sender identity
    upload_actions: tuple[str, ...] = ()  # on imports-bucket objects under uploads/


# Function -> what its handler's code path needs (see app.py for the handlers). Reviewed
# call by call; tests/unit/infra checks that this names exactly the functions Chalice deploys.
FUNCTIONS: dict[str, Needs] = {
    # Routes: the data layer; Stripe and the token signing key; mails (magic links, newsletter
    # confirmation) and import chunks are queued, never sent or processed here. s3:PutObject so
    # that presigned upload URLs it signs carry the permission to PUT under uploads/.
    API_FUNCTION: Needs(table=True, secrets=True, sends_to=("retention", "imports"),
                        upload_actions=("s3:PutObject",)),
    # The only sender of mail; signed unsubscribe links need the token signing key.
    "retention_emails": Needs(table=True, secrets=True, consumes="retention", sends_mail=True),
    # Subscribers: payouts and refunds call Stripe, account subscribers queue welcome mails.
    "domain_events": Needs(table=True, secrets=True, consumes="events", sends_to=("retention",)),
    # Imports chunks; streams and then deletes the uploaded CSV.
    "customer_imports": Needs(table=True, consumes="imports", upload_actions=("s3:DeleteObject", "s3:GetObject")),
    # Table stream -> events queue; never reads or writes items. Records it cannot relay go to
    # the stream's DLQ, which is also its mapping's on-failure destination (sent with its role).
    "table_stream": Needs(reads_stream=True, sends_to=("events",), stream_dead_letters=True),
    "dead_letter_report": Needs(reads_dead_letter_depths=True),
    # Cancels the PaymentIntents of expired reservations at Stripe.
    "release_expired_reservations": Needs(table=True, secrets=True),
    "complete_delivered_orders": Needs(table=True),
    "loyalty_daily": Needs(table=True),
    # Finishes stuck refunds and transfers at Stripe (orders/recovery.py).
    "finish_stuck_payments": Needs(table=True, secrets=True),
    # Pages through approved sellers with signed cursors (token signing key).
    "seller_subscription_fees": Needs(table=True, secrets=True),
    # Ranks sellers by their performance, raises warnings, suspends (all in the table).
    "rank_seller_performance": Needs(table=True),
}


def stage_environment(outputs: dict[str, str]) -> dict[str, str]:
    """The Lambda environment of a stage, from its stack's outputs."""
    missing = sorted(output for output in ENVIRONMENT_FROM_OUTPUTS.values() if output not in outputs)
    if missing:
        raise KeyError(f"stack outputs lack {', '.join(missing)}")
    return {variable: outputs[output] for variable, output in ENVIRONMENT_FROM_OUTPUTS.items()}


def _index_names() -> list[str]:
    table = next(r for r in stack.load_template()["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table")
    return [index["IndexName"] for index in table["Properties"]["GlobalSecondaryIndexes"]]


def _path_arn(region: str, account: str, path: str) -> str:
    """The ARN of an SSM parameter path (``/agora/prod/secrets/`` -> ``...:parameter/agora/prod/secrets``)."""
    return f"arn:aws:ssm:{region}:{account}:parameter/{path.strip('/')}"


def function_name(stage: str, function: str) -> str:
    """The deployed Lambda's name: Chalice keeps ``agora-<stage>`` for the API's function."""
    return f"{APP_NAME}-{stage}" if function == API_FUNCTION else f"{APP_NAME}-{stage}-{function}"


def function_policy(function: str, outputs: dict[str, str], region: str, account: str) -> dict[str, Any]:
    """One function's role policy: only what ``FUNCTIONS[function]`` says, on exactly the stack's resources."""
    needs = FUNCTIONS[function]
    table_arn = f"arn:aws:dynamodb:{region}:{account}:table/{outputs['TableName']}"
    log_group = f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{function_name(outputs['Stage'], function)}"
    statements: list[dict[str, Any]] = [
        # Its own log group only (Lambda creates it on the first invocation).
        _allow("Logs", ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
               [log_group, f"{log_group}:*"]),
    ]
    if needs.table:
        statements += [
            _allow("Table", TABLE_ACTIONS, [table_arn]),
            _allow("TableIndexes", INDEX_ACTIONS, [f"{table_arn}/index/{name}" for name in _index_names()]),
        ]
    if needs.reads_stream:
        # Every stream of this table, not only the current one: changing the stream (view
        # type) replaces it, and the old mapping must drain the old stream (infra/README.md).
        statements.append(_allow("TableStream", STREAM_ACTIONS, [f"{table_arn}/stream/*"]))
    if needs.sends_to:
        statements.append(_allow("SendToQueues", SEND_ACTIONS, [outputs[QUEUES[q][0]] for q in needs.sends_to]))
    if needs.consumes:
        statements.append(_allow("ConsumeQueue", CONSUME_ACTIONS, [outputs[QUEUES[needs.consumes][0]]]))
    if needs.reads_dead_letter_depths:
        dead_letters = [outputs[pair[1]] for pair in QUEUES.values()] + [outputs["TableStreamDeadLetterQueueArn"]]
        statements.append(_allow("DeadLetterDepths", DEPTH_ACTIONS,
                                 [outputs[arn] for pair in QUEUES.values() for arn in pair]
                                 + [outputs["TableStreamDeadLetterQueueArn"]]))
        statements.append(_allow("PeekDeadLetters", PEEK_ACTIONS, dead_letters))
    if needs.stream_dead_letters:
        statements.append(_allow("StreamDeadLetters", SEND_ACTIONS, [outputs["TableStreamDeadLetterQueueArn"]]))
    if needs.sends_mail:
        ses_arn = f"arn:aws:ses:{region}:{account}"
        # The identity's default configuration set is authorised on every send too.
        statements.append(_allow("SendMail", MAIL_ACTIONS, [
            f"{ses_arn}:identity/{outputs['SenderEmail']}",
            f"{ses_arn}:configuration-set/{outputs['SesConfigurationSetName']}",
        ]))
    if needs.upload_actions:
        statements.append(_allow("ImportUploads", list(needs.upload_actions),
                                 [f"{outputs['ImportsBucketArn']}/{UPLOADS_PREFIX}*"]))
    if needs.secrets:
        secrets_arn = _path_arn(region, account, outputs["SecretsPath"])
        statements += [
            _allow("Secrets", ["ssm:GetParametersByPath"], [secrets_arn, f"{secrets_arn}/*"]),
            {
                # The aws/ssm key's id is not known in advance; the conditions allow it only
                # through SSM, and only for parameters under the secrets path.
                **_allow("DecryptSecrets", ["kms:Decrypt"], [f"arn:aws:kms:{region}:{account}:key/*"]),
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"ssm.{region}.amazonaws.com"},
                    "StringLike": {"kms:EncryptionContext:PARAMETER_ARN": f"{secrets_arn}/*"},
                },
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def _allow(sid: str, actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def function_policies(outputs: dict[str, str], region: str, account: str) -> dict[str, dict[str, Any]]:
    """Every function's policy, by Chalice function name."""
    return {function: function_policy(function, outputs, region, account) for function in FUNCTIONS}


def policy_file_name(stage: str, function: str) -> str:
    return f"policy-{stage}-{function}.json"


def update_chalice_config(path: Path, stage: str, env: dict[str, str],
                          throttling: Throttling | None = None) -> dict[str, Any]:
    """Merge ``env`` into the stage's environment variables, give every function its own
    policy file and keep the stage's API throttling; other stages stay as they are.

    The stage names no policy file of its own: a function missing from ``FUNCTIONS`` would
    fall back to Chalice's ``policy-<stage>.json``, which is not written (and removed by
    ``write_policies``), so its deploy fails instead of sharing another function's rights.
    """
    config = json.loads(path.read_text())
    stage_config = config.setdefault("stages", {}).setdefault(stage, {})
    stage_config.setdefault("api_gateway_stage", "api")
    stage_config["autogen_policy"] = False
    stage_config.pop("iam_policy_file", None)
    functions = stage_config.setdefault("lambda_functions", {})
    for function in FUNCTIONS:
        functions.setdefault(function, {}).update(
            {"autogen_policy": False, "iam_policy_file": policy_file_name(stage, function)}
        )
    stage_config["api_throttling"] = asdict(throttling or throttling_for(stage, stage_config))
    stage_config.setdefault("environment_variables", {}).update(env)
    _write_json(path, config)
    return config


def write_policies(chalice_dir: Path, stage: str, policies: dict[str, dict[str, Any]]) -> list[Path]:
    """One policy file per function; the stage-wide ``policy-<stage>.json`` of earlier deploys goes."""
    paths = []
    for function, policy in policies.items():
        path = chalice_dir / policy_file_name(stage, function)
        _write_json(path, policy)
        paths.append(path)
    (chalice_dir / f"policy-{stage}.json").unlink(missing_ok=True)
    return paths


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def stack_parameters(args: argparse.Namespace) -> dict[str, str]:
    """Template parameters given on the command line (others keep their value or default)."""
    given = {
        "SenderEmail": args.sender_email,
        "FrontendUrl": args.frontend_url,
        "ApiUrl": args.api_url,
        "AlarmEmail": args.alarm_email,
    }
    return {key: value for key, value in given.items() if value is not None}


def deploy_stack(cloudformation: Any, stage: str, parameters: dict[str, str]) -> dict[str, str]:
    """Create the stage's stack, or update it in place; return its outputs."""
    name = stack.stack_name_for(stage)
    current = _current_parameters(cloudformation, name)
    if current is None:
        missing = [key for key in REQUIRED_ON_CREATE if key not in parameters]
        if missing:
            named = [f"--{_flag(key)}" for key in missing]
            flags = f"{', '.join(named[:-1])} and {named[-1]}" if len(named) > 1 else named[0]
            raise SystemExit(f"{name} does not exist yet; its first deploy needs {flags}")
        cloudformation.create_stack(
            StackName=name,
            TemplateBody=stack.template_body(),
            Parameters=stack.parameter_list(stage, parameters),
            EnableTerminationProtection=True,
            Tags=[{"Key": "app", "Value": APP_NAME}, {"Key": "stage", "Value": stage}],
        )
        cloudformation.get_waiter("stack_create_complete").wait(
            StackName=name, WaiterConfig={"Delay": 10, "MaxAttempts": 180}
        )
        return stack.stack_outputs(cloudformation, name)
    # Parameters not given this time keep the stack's current value, not the template
    # default. Passed as values rather than UsePreviousValue, which moto cannot resolve
    # for parameters that took their default (none of ours is NoEcho, so it is the same).
    declared = stack.load_template()["Parameters"]
    kept = {key: value for key, value in current.items() if key in declared and key != "Stage"}
    try:
        cloudformation.update_stack(
            StackName=name,
            TemplateBody=stack.template_body(),
            Parameters=stack.parameter_list(stage, {**kept, **parameters}),
        )
    except cloudformation.exceptions.ClientError as error:
        # CloudFormation reports "nothing to change" only as a ValidationError message.
        if "No updates are to be performed" not in str(error):
            raise
    else:
        cloudformation.get_waiter("stack_update_complete").wait(
            StackName=name, WaiterConfig={"Delay": 10, "MaxAttempts": 180}
        )
    return stack.stack_outputs(cloudformation, name)


def _flag(parameter: str) -> str:
    """``FrontendUrl`` -> ``frontend-url``."""
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in parameter).lstrip("-")


def _current_parameters(cloudformation: Any, name: str) -> dict[str, str] | None:
    """The live stack's parameter values, or None when there is no such stack."""
    try:
        found = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except cloudformation.exceptions.ClientError as error:
        # A missing stack, too, is a ValidationError told apart only by its message.
        if "does not exist" in str(error):
            return None
        raise
    if not found or found[0]["StackStatus"] == "DELETE_COMPLETE":
        return None
    if found[0]["StackStatus"] == "ROLLBACK_COMPLETE":
        # A stack whose first creation failed cannot be updated, only deleted.
        raise SystemExit(f"stack {name} failed to create; see its events, delete it and deploy again")
    return {p["ParameterKey"]: p["ParameterValue"] for p in found[0].get("Parameters", [])}


def chalice_command(stage: str) -> list[str]:
    beside_python = Path(sys.executable).with_name("chalice")
    executable = str(beside_python) if beside_python.exists() else shutil.which("chalice") or "chalice"
    return [executable, "deploy", "--stage", stage]


# --- around `chalice deploy` ----------------------------------------------------------------


@dataclass(frozen=True)
class Throttling:
    """API Gateway's stage-wide limits: requests per second, and the burst a token bucket of
    that size absorbs. Beyond them clients get 429, before any Lambda runs or is paid for."""

    rate_limit: float
    burst_limit: int


# Per stage unless .chalice/config.json's stages.<stage>.api_throttling says otherwise (the
# --throttle-rate/--throttle-burst flags write it there). prod: at ~100-200 ms per request
# 500 rps keep the API near 50-100 concurrent Lambdas, well inside the account's default
# 1,000 that the workers share; dev only needs to stop runaway clients and costs.
DEFAULT_THROTTLING = {
    "dev": Throttling(rate_limit=100, burst_limit=200),
    "prod": Throttling(rate_limit=500, burst_limit=1000),
}


def throttling_for(stage: str, stage_config: dict[str, Any]) -> Throttling:
    """The stage's configured limits, else its default."""
    configured = stage_config.get("api_throttling")
    return Throttling(**configured) if configured else DEFAULT_THROTTLING[stage]


@dataclass(frozen=True)
class AwsCall:
    """One AWS API call of a deploy step, planned before it is made so that --dry-run can
    show it and tests can check it without AWS."""

    service: str
    operation: str  # the boto3 client method
    params: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.service}.{self.operation}({json.dumps(self.params, sort_keys=True)})"


@dataclass(frozen=True)
class DeployedStage:
    """What the steps after ``chalice deploy`` work from: the stage's Chalice config, the
    resources Chalice recorded in ``.chalice/deployed/<stage>.json`` and the stack's outputs."""

    stage: str
    config: dict[str, Any]
    resources: dict[str, dict[str, Any]]
    outputs: dict[str, str]
    dry_run: bool = False

    @classmethod
    def load(cls, chalice_dir: Path, stage: str, outputs: dict[str, str], *, dry_run: bool = False) -> DeployedStage:
        config = json.loads((chalice_dir / "config.json").read_text())["stages"][stage]
        return cls(stage, config, _deployed_resources(chalice_dir, stage), outputs, dry_run)

    def recorded(self, resource_name: str, key: str) -> str:
        """A value Chalice recorded; a placeholder in a dry run before the first deploy."""
        value = self.resources.get(resource_name, {}).get(key)
        if value is None:
            if self.dry_run:
                return f"<{resource_name}.{key} from .chalice/deployed/{self.stage}.json>"
            raise SystemExit(f"chalice recorded no {resource_name}.{key} in .chalice/deployed/{self.stage}.json")
        return value


def _deployed_resources(chalice_dir: Path, stage: str) -> dict[str, dict[str, Any]]:
    path = chalice_dir / "deployed" / f"{stage}.json"
    if not path.exists():
        return {}
    return {resource["name"]: resource for resource in json.loads(path.read_text()).get("resources", [])}


def api_throttling(deployed: DeployedStage) -> list[AwsCall]:
    """Stage-wide rate and burst limits on every method of the API's stage (``chalice
    deploy`` sets none). Applied after every deploy, so the config file is the truth."""
    limits = throttling_for(deployed.stage, deployed.config)
    return [AwsCall("apigateway", "update_stage", {
        "restApiId": deployed.recorded("rest_api", "rest_api_id"),
        "stageName": deployed.config.get("api_gateway_stage", "api"),
        "patchOperations": [
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(limits.rate_limit)},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(limits.burst_limit)},
        ],
    })]


def _gateway_error(code: str, message: str) -> str:
    """A gateway response body in agora's error shape (chalicelib.core.http.error_body); the
    request id is API Gateway's. Fixed text only: API Gateway's own messages can quote the
    request's Authorization header, so none of them is passed on."""
    return json.dumps({"error": {"code": code, "message": message,
                                 "details": {"request_id": "$context.requestId"}}})


# What API Gateway answers itself (before any Lambda runs), in agora's error shape. A path or
# method no route declares is "Missing Authentication Token" (403) to API Gateway, or, when
# the request carries an Authorization header, "Incomplete Signature" (403, quoting the
# header): both become agora's 404. API Gateway cannot tell an unknown method on a known path
# from an unknown path, so deployed, both are 404 (locally, dev/local_api.py answers 405).
NO_ROUTE = ("not_found", "No route matches this path and method.", "404")
GATEWAY_RESPONSES: dict[str, tuple[str, str, str | None]] = {
    # response type: (agora code, message, status; None keeps API Gateway's status)
    "MISSING_AUTHENTICATION_TOKEN": NO_ROUTE,
    "INCOMPLETE_SIGNATURE": NO_ROUTE,
    "THROTTLED": ("too_many_requests", "Too many requests to the API; retry in a moment.", None),
    "QUOTA_EXCEEDED": ("too_many_requests", "Too many requests to the API; retry later.", None),
    "REQUEST_TOO_LARGE": ("payload_too_large", "The request is too large.", None),
    "DEFAULT_4XX": ("bad_request", "The API gateway refused the request.", None),
    "DEFAULT_5XX": ("internal_error", "An internal error occurred. Quote the request id when reporting it.", None),
}


def gateway_responses(deployed: DeployedStage) -> list[AwsCall]:
    """API Gateway's own answers (unknown route, throttled, too large, its 4xx and 5xx) in
    agora's JSON error shape, then a deployment of the stage so that they take effect."""
    rest_api_id = deployed.recorded("rest_api", "rest_api_id")
    calls = []
    for response_type, (code, message, status) in GATEWAY_RESPONSES.items():
        params: dict[str, Any] = {
            "restApiId": rest_api_id, "responseType": response_type,
            "responseParameters": {"gatewayresponse.header.Cache-Control": "'no-store'"},
            "responseTemplates": {"application/json": _gateway_error(code, message)},
        }
        if status is not None:
            params["statusCode"] = status
        calls.append(AwsCall("apigateway", "put_gateway_response", params))
    calls.append(AwsCall("apigateway", "create_deployment", {
        "restApiId": rest_api_id, "stageName": deployed.config.get("api_gateway_stage", "api"),
        "description": "agora's gateway responses"}))
    return calls


STREAM_FUNCTION = "table_stream"


@dataclass(frozen=True)
class StreamFailureHandling:
    """How Lambda treats a batch of table-stream records whose relay fails. Without these
    (``chalice deploy`` sets none) Lambda retries the shard's oldest batch until its records
    leave the stream after 24 h, and every event behind it waits and is then lost."""

    maximum_retry_attempts: int = 5  # then the batch's position goes to the on-failure destination
    bisect_batch_on_function_error: bool = True  # halve a failing batch, to isolate the bad record
    maximum_record_age_seconds: int = 6 * 3600  # a record older than this goes there too


STREAM_FAILURE_HANDLING = StreamFailureHandling()


def stream_failure_handling(deployed: DeployedStage) -> list[AwsCall]:
    """Retry limit, bisect-on-error and the stream's dead-letter queue as on-failure
    destination on the relay's event source mapping (the function's role may send there:
    ``Needs.stream_dead_letters``)."""
    handling = STREAM_FAILURE_HANDLING
    return [AwsCall("lambda", "update_event_source_mapping", {
        "UUID": deployed.recorded(f"{STREAM_FUNCTION}-dynamodb-event-source", "event_uuid"),
        "MaximumRetryAttempts": handling.maximum_retry_attempts,
        "BisectBatchOnFunctionError": handling.bisect_batch_on_function_error,
        "MaximumRecordAgeInSeconds": handling.maximum_record_age_seconds,
        "DestinationConfig": {"OnFailure": {"Destination": deployed.outputs["TableStreamDeadLetterQueueArn"]}},
    })]


def package_overrides(outputs: dict[str, str]) -> dict[str, Any]:
    """The same failure handling for a stage packaged with ``chalice package --merge-template
    .chalice/package-overrides-<stage>.json`` instead of deployed: merged into the relay's
    DynamoDB event of the SAM template Chalice generates (``TableStream`` function, event
    ``TableStreamDynamodbEventSource``; tests/unit/infra checks the names on its output)."""
    handling = STREAM_FAILURE_HANDLING
    return {"Resources": {"TableStream": {"Properties": {"Events": {"TableStreamDynamodbEventSource": {
        "Properties": {
            "MaximumRetryAttempts": handling.maximum_retry_attempts,
            "BisectBatchOnFunctionError": handling.bisect_batch_on_function_error,
            "MaximumRecordAgeInSeconds": handling.maximum_record_age_seconds,
            "DestinationConfig": {"OnFailure": {"Type": "SQS",
                                                "Destination": outputs["TableStreamDeadLetterQueueArn"]}},
        }}}}}}}


def package_overrides_file_name(stage: str) -> str:
    return f"package-overrides-{stage}.json"


AfterDeployStep = Callable[[DeployedStage], list[AwsCall]]
# What `chalice deploy` cannot configure, in order. Each step only plans its calls. The
# gateway responses' deployment comes before the stage's throttling is set (moto, unlike
# API Gateway, forgets a stage's method settings when it is deployed again).
AFTER_CHALICE_DEPLOY: tuple[AfterDeployStep, ...] = (gateway_responses, api_throttling, stream_failure_handling)


def after_chalice_deploy(deployed: DeployedStage,
                         steps: Sequence[AfterDeployStep] = AFTER_CHALICE_DEPLOY) -> list[AwsCall]:
    return [call for step in steps for call in step(deployed)]


def make_calls(session: Any, calls: Sequence[AwsCall]) -> None:
    clients: dict[str, Any] = {}
    for call in calls:
        if call.service not in clients:
            clients[call.service] = session.client(call.service)
        getattr(clients[call.service], call.operation)(**call.params)


def forget_replaced_stream(chalice_dir: Path, stage: str, stream_arn: str, *, dry_run: bool = False) -> list[dict]:
    """Make ``chalice deploy`` subscribe the stream relay to the table's current stream.

    Chalice keeps a DynamoDB event source mapping as long as it exists with the stream ARN
    it recorded; it never compares that with the ARN the app now names. So when the stack
    replaced the stream (a new stream view type), Chalice would keep the relay on the old,
    closed stream. Forgetting the recorded mapping makes Chalice create one on the new
    stream. The old mapping stays, to relay what the old stream still holds (kept 24 h);
    the returned records name it so the operator can delete it afterwards.
    """
    path = chalice_dir / "deployed" / f"{stage}.json"
    if not path.exists():
        return []
    deployed = json.loads(path.read_text())
    stale = [r for r in deployed.get("resources", [])
             if r.get("resource_type") == "dynamodb_event" and r.get("stream_arn") != stream_arn]
    if stale and not dry_run:
        deployed["resources"] = [r for r in deployed["resources"] if r not in stale]
        _write_json(path, deployed)
    return stale


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", required=True, choices=DEPLOYABLE_STAGES)
    parser.add_argument("--sender-email", help="SES sender address (template default: hello@agora.example)")
    parser.add_argument("--frontend-url", help="base URL of the marketplace frontend")
    parser.add_argument("--api-url", help="public base URL of the API (its custom domain), used in mail headers")
    parser.add_argument("--alarm-email", help="address subscribed to dead-letter alarms")
    parser.add_argument("--throttle-rate", type=float,
                        help="API requests per second for the whole stage (kept in .chalice/config.json)")
    parser.add_argument("--throttle-burst", type=int,
                        help="API burst limit for the whole stage (kept in .chalice/config.json)")
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION"))
    parser.add_argument("--chalice-dir", type=Path, default=ROOT / ".chalice")
    parser.add_argument("--dry-run", action="store_true",
                        help="no AWS calls and no chalice deploy; read outputs from --outputs-file")
    parser.add_argument("--outputs-file", type=Path, help="stack outputs as JSON (with --dry-run)")
    parser.add_argument("--account", default="123456789012", help="account id for --dry-run policies")
    args = parser.parse_args(argv)
    if args.dry_run and not args.outputs_file:
        parser.error("--dry-run needs --outputs-file")
    if (args.throttle_rate is not None and args.throttle_rate <= 0) or (
            args.throttle_burst is not None and args.throttle_burst < 1):
        parser.error("throttle limits must be positive")
    return args


def _throttling(args: argparse.Namespace) -> Throttling | None:
    """The limits given on the command line, completed from the stage's current ones."""
    if args.throttle_rate is None and args.throttle_burst is None:
        return None
    config = json.loads((args.chalice_dir / "config.json").read_text())
    current = throttling_for(args.stage, config.get("stages", {}).get(args.stage, {}))
    return Throttling(rate_limit=current.rate_limit if args.throttle_rate is None else args.throttle_rate,
                      burst_limit=current.burst_limit if args.throttle_burst is None else args.throttle_burst)


Runner = Callable[..., Any]


def deploy(args: argparse.Namespace, session: Any = None, run: Runner = subprocess.run) -> dict[str, str]:
    """Run the steps; returns the stage environment the app was deployed with."""
    if args.dry_run:
        outputs = json.loads(args.outputs_file.read_text())
        region, account = args.region or "eu-central-1", args.account
    else:
        import boto3

        session = session or boto3.session.Session(region_name=args.region)
        region = session.region_name
        outputs = deploy_stack(session.client("cloudformation"), args.stage, stack_parameters(args))
        account = session.client("sts").get_caller_identity()["Account"]
    env = stage_environment(outputs)
    update_chalice_config(args.chalice_dir / "config.json", args.stage, env, _throttling(args))
    written = write_policies(args.chalice_dir, args.stage, function_policies(outputs, region, account))
    print(f"wrote {args.chalice_dir / 'config.json'} ({args.stage}) and {len(written)} policies: "
          f"{', '.join(path.name for path in written)}")
    overrides = args.chalice_dir / package_overrides_file_name(args.stage)
    _write_json(overrides, package_overrides(outputs))
    print(f"wrote {overrides.name} (for chalice package --merge-template)")
    replaced = forget_replaced_stream(args.chalice_dir, args.stage, outputs["TableStreamArn"], dry_run=args.dry_run)
    command = chalice_command(args.stage)
    if args.dry_run:
        for mapping in replaced:
            print(f"would forget event source mapping {mapping['event_uuid']} on the replaced stream "
                  f"{mapping['stream_arn']}, so that chalice subscribes the relay to {outputs['TableStreamArn']}")
        print("would run:", " ".join(command))
        for call in after_chalice_deploy(DeployedStage.load(args.chalice_dir, args.stage, outputs, dry_run=True)):
            print("then would call:", call)
        print(json.dumps(env, indent=2))
        return env
    run(command, cwd=args.chalice_dir.parent, env={**os.environ, **env, "AWS_DEFAULT_REGION": region}, check=True)
    calls = after_chalice_deploy(DeployedStage.load(args.chalice_dir, args.stage, outputs))
    make_calls(session, calls)
    for call in calls:
        print("called:", call)
    for mapping in replaced:
        print(f"The table's stream was replaced; the relay now reads {outputs['TableStreamArn']}. The old mapping "
              f"{mapping['event_uuid']} still relays what {mapping['stream_arn']} holds. After 24 hours (or once "
              f"its IteratorAge is 0): aws lambda delete-event-source-mapping --uuid {mapping['event_uuid']}")
    return env


def main(argv: Sequence[str] | None = None) -> int:
    deploy(parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
