"""Create agora's stack from ``infra/template.yaml`` and read its outputs.

Used by the local runner (against moto's CloudFormation), by the tests and by
``infra/deploy.py``. boto3 and PyYAML only, no Chalice: nothing here is deployed.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
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
    """Apply the settings moto's CloudFormation ignores: the table's TTL and point-in-time
    recovery, the bucket's public access block, ownership, lifecycle and CORS.

    Each setting is applied only where the live resource lacks it, so against real
    CloudFormation (which applies them all) this reads and changes nothing. Returns what
    it applied, for logs and tests.

    The bucket policy (moto skips ``AWS::S3::BucketPolicy``) stays out on purpose: moto
    enforces bucket policies without their conditions, so the TLS-only Deny would refuse
    every request to the bucket, in-process and over the local stack's plain HTTP alike.
    """
    resolve = _resolver(cloudformation, stack_name)

    def client(service: str) -> Any:
        return _client_like(cloudformation, service)

    applied: list[str] = []
    for logical_id, resource in load_template()["Resources"].items():
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::DynamoDB::Table":
            applied += _fill_table(client("dynamodb"), resolve({"Ref": logical_id}), properties)
        elif kind == "AWS::S3::Bucket":
            applied += _fill_bucket(client("s3"), resolve({"Ref": logical_id}), resolve(properties))
    return applied


def _fill_table(dynamodb: Any, table: str, properties: dict[str, Any]) -> list[str]:
    applied = []
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


# Bucket property -> (getter, the error code S3 answers when the bucket has none, setter).
_BUCKET_SETTINGS = {
    "PublicAccessBlockConfiguration": ("get_public_access_block", "NoSuchPublicAccessBlockConfiguration",
                                       "put_public_access_block"),
    "OwnershipControls": ("get_bucket_ownership_controls", "OwnershipControlsNotFoundError",
                          "put_bucket_ownership_controls"),
    "LifecycleConfiguration": ("get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration",
                               "put_bucket_lifecycle_configuration"),
    "CorsConfiguration": ("get_bucket_cors", "NoSuchCORSConfiguration", "put_bucket_cors"),
}


def _fill_bucket(s3: Any, bucket: str, properties: dict[str, Any]) -> list[str]:
    applied = []
    for name, (getter, absent, setter) in _BUCKET_SETTINGS.items():
        if name not in properties or not _lacks(s3, getter, absent, Bucket=bucket):
            continue
        getattr(s3, setter)(Bucket=bucket, **_bucket_api_arguments(name, properties[name]))
        applied.append(f"{bucket}: {name}")
    return applied


def _lacks(client: Any, getter: str, absent: str, **arguments: Any) -> bool:
    """True when ``getter`` answers with the error code ``absent`` (the setting is not there)."""
    try:
        getattr(client, getter)(**arguments)
    except client.exceptions.ClientError as error:
        if error.response["Error"]["Code"] == absent:
            return True
        raise
    return False


def _bucket_api_arguments(name: str, value: dict[str, Any]) -> dict[str, Any]:
    """A bucket property as the S3 API's ``put_*`` call takes it (names differ from CloudFormation's)."""
    if name == "PublicAccessBlockConfiguration":
        return {"PublicAccessBlockConfiguration": value}
    if name == "OwnershipControls":
        return {"OwnershipControls": value}
    if name == "LifecycleConfiguration":
        return {"LifecycleConfiguration": {"Rules": [_lifecycle_rule(rule) for rule in value["Rules"]]}}
    if name == "CorsConfiguration":
        renamed = {"Id": "ID", "ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds"}
        return {"CORSConfiguration": {"CORSRules": [{renamed.get(k, k): v for k, v in rule.items()}
                                                    for rule in value["CorsRules"]]}}
    raise NotImplementedError(name)


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    known = {"Id", "Status", "Prefix", "ExpirationInDays", "AbortIncompleteMultipartUpload"}
    if set(rule) - known:
        raise NotImplementedError(f"lifecycle rule properties {sorted(set(rule) - known)}")
    converted: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"],
                                 "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": rule["ExpirationInDays"]}
    if "AbortIncompleteMultipartUpload" in rule:
        converted["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    return converted


def _resolver(cloudformation: Any, stack_name: str) -> Callable[[Any], Any]:
    """Resolve ``Ref``, ``Fn::GetAtt`` (a bucket's Arn) and ``Fn::Sub`` in template values
    with the live stack's parameters and physical ids: enough for the settings above."""
    described = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    declared = load_template()["Parameters"]
    parameters = {name: str(p.get("Default", "")) for name, p in declared.items()}
    parameters.update({p["ParameterKey"]: p["ParameterValue"] for p in described.get("Parameters", [])})
    _, partition, _, region, account, _ = described["StackId"].split(":", 5)
    parameters.update({"AWS::Partition": partition, "AWS::Region": region, "AWS::AccountId": account,
                       "AWS::StackName": stack_name})
    physical = {
        summary["LogicalResourceId"]: summary["PhysicalResourceId"]
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
        for summary in page["StackResourceSummaries"]
    }
    types = {logical_id: r["Type"] for logical_id, r in load_template()["Resources"].items()}

    def ref(name: str) -> str:
        return parameters[name] if name in parameters else physical[name]

    def get_att(logical_id: str, attribute: str) -> str:
        if types.get(logical_id) == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:{partition}:s3:::{physical[logical_id]}"
        raise NotImplementedError(f"Fn::GetAtt {logical_id}.{attribute}")

    def resolve(node: Any) -> Any:
        if isinstance(node, list):
            return [resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if set(node) == {"Ref"}:
            return ref(node["Ref"])
        if set(node) == {"Fn::GetAtt"}:
            return get_att(*node["Fn::GetAtt"])
        if set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
            return re.sub(r"\$\{([^}!]+)\}",
                          lambda m: get_att(*m.group(1).split(".", 1)) if "." in m.group(1) else ref(m.group(1)),
                          node["Fn::Sub"])
        return {key: resolve(value) for key, value in node.items()}

    return resolve


def _client_like(cloudformation: Any, service: str) -> Any:
    """A client for ``service`` with the same region, credentials and custom endpoint (if any)."""
    endpoint = cloudformation.meta.endpoint_url
    host = urlparse(endpoint).hostname or ""
    on_aws = host.endswith((".amazonaws.com", ".amazonaws.com.cn"))
    # boto3 has no public accessor for a client's credentials; the signer holds them.
    credentials = getattr(getattr(cloudformation, "_request_signer", None), "_credentials", None)
    frozen = credentials.get_frozen_credentials() if credentials is not None else None
    return _client(service, cloudformation.meta.region_name, None if on_aws else endpoint,
                   frozen.access_key if frozen else None, frozen.secret_key if frozen else None,
                   frozen.token if frozen else None)


@lru_cache(maxsize=8)
def _client(service: str, region: str, endpoint: str | None, key: str | None, secret: str | None,
            token: str | None) -> Any:
    """Cached: the unit tests create a stack per test, and creating an S3 client costs more
    than all the calls ``fill_emulator_gaps`` makes with it."""
    return boto3.client(service, region_name=region, endpoint_url=endpoint, aws_access_key_id=key,
                        aws_secret_access_key=secret, aws_session_token=token)
