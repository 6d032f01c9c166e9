"""Deploy agora to a stage: the infra stack first, then the Chalice app bound to it.

    python -m infra.deploy --stage prod --sender-email hello@shop.example --frontend-url https://shop.example \
        --api-url https://api.shop.example

1. creates or updates the CloudFormation stack ``agora-<stage>`` from infra/template.yaml;
2. writes its outputs as the stage's ``environment_variables`` in .chalice/config.json;
3. writes ``.chalice/policy-<stage>.json``, the Lambda role's least-privilege policy on
   exactly the stack's resources (the stage sets ``autogen_policy: false``);
4. runs ``chalice deploy --stage <stage>`` with the same variables exported, because
   chalicelib/core/resources.py reads the queue names and stream ARN at import time.

``--dry-run --outputs-file outputs.json`` does steps 2 and 3 from saved outputs and prints
the chalice command instead of calling AWS or running it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
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
    "AGORA_IMPORTS_BUCKET": "ImportsBucketName",
    "AGORA_SENDER_EMAIL": "SenderEmail",
    "AGORA_SECRETS_PATH": "SecretsPath",
    "AGORA_FRONTEND_URL": "FrontendUrl",
    "AGORA_API_URL": "ApiUrl",
}
WORKER_QUEUE_OUTPUTS = ("RetentionQueueArn", "EventsQueueArn", "CustomerImportsQueueArn")
DEAD_LETTER_QUEUE_OUTPUTS = (
    "RetentionDeadLetterQueueArn",
    "EventsDeadLetterQueueArn",
    "CustomerImportsDeadLetterQueueArn",
)
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
STREAM_ACTIONS = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
WORKER_QUEUE_ACTIONS = [
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
    "sqs:SendMessage",
]
# The dead-letter report only reads the DLQs' depth.
DEAD_LETTER_QUEUE_ACTIONS = ["sqs:GetQueueAttributes", "sqs:GetQueueUrl"]


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


def policy_document(outputs: dict[str, str], region: str, account: str) -> dict[str, Any]:
    """The Lambda role's policy: each statement names exactly the stack's resources."""
    stage = outputs["Stage"]
    table_arn = f"arn:aws:dynamodb:{region}:{account}:table/{outputs['TableName']}"
    secrets_arn = _path_arn(region, account, outputs["SecretsPath"])
    config_arn = _path_arn(region, account, outputs["ConfigPath"])
    ses_arn = f"arn:aws:ses:{region}:{account}"
    function_logs = f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{APP_NAME}-{stage}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Table", "Effect": "Allow", "Action": TABLE_ACTIONS, "Resource": [table_arn]},
            {
                "Sid": "TableIndexes",
                "Effect": "Allow",
                "Action": INDEX_ACTIONS,
                "Resource": [f"{table_arn}/index/{name}" for name in _index_names()],
            },
            {"Sid": "TableStream", "Effect": "Allow", "Action": STREAM_ACTIONS,
             "Resource": [outputs["TableStreamArn"]]},
            {"Sid": "TableStreamList", "Effect": "Allow", "Action": ["dynamodb:ListStreams"],
             "Resource": [f"{table_arn}/stream/*"]},
            {"Sid": "WorkerQueues", "Effect": "Allow", "Action": WORKER_QUEUE_ACTIONS,
             "Resource": [outputs[name] for name in WORKER_QUEUE_OUTPUTS]},
            {"Sid": "DeadLetterQueues", "Effect": "Allow", "Action": DEAD_LETTER_QUEUE_ACTIONS,
             "Resource": [outputs[name] for name in DEAD_LETTER_QUEUE_OUTPUTS]},
            {
                "Sid": "SendMail",
                "Effect": "Allow",
                "Action": ["ses:SendEmail", "ses:SendRawEmail"],
                # The identity's default configuration set is authorised on every send too.
                "Resource": [
                    f"{ses_arn}:identity/{outputs['SenderEmail']}",
                    f"{ses_arn}:configuration-set/{outputs['SesConfigurationSetName']}",
                ],
            },
            {"Sid": "Secrets", "Effect": "Allow", "Action": ["ssm:GetParametersByPath"],
             "Resource": [secrets_arn, f"{secrets_arn}/*"]},
            {"Sid": "Config", "Effect": "Allow",
             "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
             "Resource": [config_arn, f"{config_arn}/*"]},
            {
                "Sid": "DecryptSecrets",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": [f"arn:aws:kms:{region}:{account}:key/*"],
                # Only through SSM, and only for parameters under the secrets path.
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"ssm.{region}.amazonaws.com"},
                    "StringLike": {"kms:EncryptionContext:PARAMETER_ARN": f"{secrets_arn}/*"},
                },
            },
            {
                "Sid": "Logs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                # agora-<stage> is the API function, agora-<stage>-<name> the handlers.
                "Resource": [
                    function_logs,
                    f"{function_logs}:*",
                    f"{function_logs}-*",
                    f"{function_logs}-*:*",
                ],
            },
        ],
    }


def update_chalice_config(path: Path, stage: str, env: dict[str, str]) -> dict[str, Any]:
    """Merge ``env`` into the stage's environment variables; other stages stay as they are."""
    config = json.loads(path.read_text())
    stage_config = config.setdefault("stages", {}).setdefault(stage, {})
    stage_config.setdefault("api_gateway_stage", "api")
    stage_config["autogen_policy"] = False
    stage_config["iam_policy_file"] = f"policy-{stage}.json"
    stage_config.setdefault("environment_variables", {}).update(env)
    _write_json(path, config)
    return config


def write_policy(chalice_dir: Path, stage: str, policy: dict[str, Any]) -> Path:
    path = chalice_dir / f"policy-{stage}.json"
    _write_json(path, policy)
    return path


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


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", required=True, choices=DEPLOYABLE_STAGES)
    parser.add_argument("--sender-email", help="SES sender address (template default: hello@agora.example)")
    parser.add_argument("--frontend-url", help="base URL of the marketplace frontend")
    parser.add_argument("--api-url", help="public base URL of the API (its custom domain), used in mail headers")
    parser.add_argument("--alarm-email", help="address subscribed to dead-letter alarms")
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION"))
    parser.add_argument("--chalice-dir", type=Path, default=ROOT / ".chalice")
    parser.add_argument("--dry-run", action="store_true",
                        help="no AWS calls and no chalice deploy; read outputs from --outputs-file")
    parser.add_argument("--outputs-file", type=Path, help="stack outputs as JSON (with --dry-run)")
    parser.add_argument("--account", default="123456789012", help="account id for --dry-run policies")
    args = parser.parse_args(argv)
    if args.dry_run and not args.outputs_file:
        parser.error("--dry-run needs --outputs-file")
    return args


Runner = Callable[..., Any]


def deploy(args: argparse.Namespace, session: Any = None, run: Runner = subprocess.run) -> dict[str, str]:
    """Run the four steps; returns the stage environment the app was deployed with."""
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
    update_chalice_config(args.chalice_dir / "config.json", args.stage, env)
    policy_path = write_policy(args.chalice_dir, args.stage, policy_document(outputs, region, account))
    command = chalice_command(args.stage)
    print(f"wrote {args.chalice_dir / 'config.json'} ({args.stage}) and {policy_path}")
    if args.dry_run:
        print("would run:", " ".join(command))
        print(json.dumps(env, indent=2))
        return env
    run(command, cwd=args.chalice_dir.parent, env={**os.environ, **env, "AWS_DEFAULT_REGION": region}, check=True)
    return env


def main(argv: Sequence[str] | None = None) -> int:
    deploy(parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
