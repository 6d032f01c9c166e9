"""Create agora's stack from ``infra/template.yaml`` and read its outputs.

Used by the local runner (against moto's CloudFormation), by the tests and by
``infra/deploy.py``. boto3 and PyYAML only, no Chalice: nothing here is deployed.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import yaml

TEMPLATE_PATH = Path(__file__).with_name("template.yaml")


class _TemplateLoader(yaml.SafeLoader):
    """A safe YAML loader that reads CloudFormation's short-form tags as their long form."""


def _short_form(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_TemplateLoader.add_multi_constructor("!", _short_form)


def template_body() -> str:
    return TEMPLATE_PATH.read_text()


@lru_cache(maxsize=1)
def _parsed_template() -> dict[str, Any]:
    return yaml.load(template_body(), Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass


def load_template() -> dict[str, Any]:
    """The template as plain dicts and lists (``!Ref X`` reads as ``{"Ref": "X"}``)."""
    return copy.deepcopy(_parsed_template())


def stack_name_for(stage: str) -> str:
    return f"agora-{stage}"


def parameter_list(stage: str, parameters: dict[str, str] | None = None) -> list[dict[str, str]]:
    """CloudFormation's Parameters list: Stage plus any overrides of the template's defaults."""
    values = {"Stage": stage, **(parameters or {})}
    declared = load_template()["Parameters"]
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise ValueError(f"the template declares no parameter(s) {', '.join(unknown)}")
    return [{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()]


def create_stack(
    cloudformation: Any,
    stage: str,
    stack_name: str | None = None,
    parameters: dict[str, str] | None = None,
) -> dict[str, str]:
    """Create the stack, wait until CREATE_COMPLETE and return its outputs (name -> value)."""
    name = stack_name or stack_name_for(stage)
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=template_body(),
        Parameters=parameter_list(stage, parameters),
        Tags=[{"Key": "app", "Value": "agora"}, {"Key": "stage", "Value": stage}],
    )
    cloudformation.get_waiter("stack_create_complete").wait(
        StackName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 180}
    )
    fill_emulator_gaps(cloudformation, name)
    return stack_outputs(cloudformation, name)


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def fill_emulator_gaps(cloudformation: Any, stack_name: str) -> list[str]:
    """Apply the table settings moto's CloudFormation ignores (TTL, point-in-time recovery).

    moto creates the table but drops ``TimeToLiveSpecification`` and
    ``PointInTimeRecoverySpecification``. Each setting is applied only where the live
    table differs from the template, so against real CloudFormation (which applies both)
    this reads and changes nothing. Returns what it applied, for logs and tests.
    """
    dynamodb = _client_like(cloudformation, "dynamodb")
    applied: list[str] = []
    for logical_id, resource in load_template()["Resources"].items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        table = cloudformation.describe_stack_resource(StackName=stack_name, LogicalResourceId=logical_id)[
            "StackResourceDetail"
        ]["PhysicalResourceId"]
        properties = resource["Properties"]
        ttl = properties.get("TimeToLiveSpecification", {})
        if ttl.get("Enabled"):
            current = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
            if current["TimeToLiveStatus"] not in ("ENABLED", "ENABLING"):
                dynamodb.update_time_to_live(
                    TableName=table,
                    TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
                )
                applied.append(f"{table}: time to live on {ttl['AttributeName']}")
        pitr = properties.get("PointInTimeRecoverySpecification", {})
        if pitr.get("PointInTimeRecoveryEnabled"):
            backups = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
            status = backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
            if status != "ENABLED":
                dynamodb.update_continuous_backups(
                    TableName=table,
                    PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
                )
                applied.append(f"{table}: point-in-time recovery")
    return applied


def _client_like(cloudformation: Any, service: str) -> Any:
    """A client for ``service`` with the same region, credentials and custom endpoint (if any)."""
    endpoint = cloudformation.meta.endpoint_url
    host = urlparse(endpoint).hostname or ""
    on_aws = host.endswith((".amazonaws.com", ".amazonaws.com.cn"))
    # boto3 has no public accessor for a client's credentials; the signer holds them.
    credentials = getattr(getattr(cloudformation, "_request_signer", None), "_credentials", None)
    frozen = credentials.get_frozen_credentials() if credentials is not None else None
    return boto3.client(
        service,
        region_name=cloudformation.meta.region_name,
        endpoint_url=None if on_aws else endpoint,
        aws_access_key_id=frozen.access_key if frozen else None,
        aws_secret_access_key=frozen.secret_key if frozen else None,
        aws_session_token=frozen.token if frozen else None,
    )
