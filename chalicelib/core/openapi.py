"""OpenAPI 3.1 document built from the registered routes and their pydantic schemas.

Nothing here is written by hand per route: each route's :class:`Operation` (from
``@operation``) and its path pattern are enough.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic.json_schema import JsonSchemaMode, models_json_schema

from chalicelib.core.errors import Code
from chalicelib.core.schemas import ErrorResponse

if TYPE_CHECKING:
    from chalice import Chalice

    from chalicelib.core.http import Operation

_REF = "#/components/schemas/{model}"
_STATUS_TEXT = {
    200: "OK", 201: "Created", 202: "Accepted", 204: "No content", 302: "Redirect", 400: "Malformed request",
    401: "Not authenticated", 403: "Not allowed", 404: "Not found", 409: "Conflict",
    413: "Body too large", 415: "Unsupported media type", 422: "Invalid fields",
    429: "Too many requests", 503: "A dependency is unavailable",
}
_AUTH_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT or seller API key"},
}

_MEMBERS_ONLY = ("Anonymous callers are welcome unless the operator made the marketplace members-only; then "
                 "this needs `Authorization: Bearer` (401 `members_only` without it).")


_BOUNDS = {"gt": "exclusiveMinimum", "ge": "minimum", "lt": "exclusiveMaximum", "le": "maximum"}


def _standard_bounds(node: Any) -> None:
    """Bounds pydantic could not attach to a validated type stay under its own names (``gt``,
    ``le``…) in the JSON schema; clients and validators read JSON Schema's."""
    if isinstance(node, dict):
        if node.get("type") in ("integer", "number"):
            for ours, standard in _BOUNDS.items():
                if ours in node:
                    node[standard] = node.pop(ours)
        for value in node.values():
            _standard_bounds(value)
    elif isinstance(node, list):
        for value in node:
            _standard_bounds(value)


def _list_error_codes(schemas: dict[str, Any]) -> None:
    """The Error schema names every code of the registry: as an enum a client can switch on, and in
    ``x-error-codes`` with the HTTP status it comes with and what it means."""
    code = schemas["ErrorBody"]["properties"]["code"]
    code["enum"] = [c.value for c in Code]
    code["x-enum-descriptions"] = [c.meaning for c in Code]
    code["x-error-codes"] = {c.value: {"status": c.status, "description": c.meaning} for c in Code}


def _operations(app: Chalice) -> list[tuple[str, str, Operation, list[str]]]:
    found = []
    for path, methods in sorted(app.routes.items()):
        for method, entry in sorted(methods.items()):
            spec = getattr(entry.view_function, "__agora_operation__", None)
            if spec is None:
                raise LookupError(f"{method} {path} is not declared with @operation")
            found.append((path, method.lower(), spec, list(entry.view_args)))
    return found


def _schema_models(ops: list[tuple[str, str, Operation, list[str]]]) -> list[Any]:
    models: list[Any] = [ErrorResponse]
    for _, _, spec, _ in ops:
        for model in (spec.body, spec.response):
            if model is not None and hasattr(model, "model_json_schema") and model not in models:
                models.append(model)
    return models


def build_document(app: Chalice, *, server_url: str | None = None) -> dict[str, Any]:
    ops = _operations(app)
    models = _schema_models(ops)
    modes: list[tuple[Any, JsonSchemaMode]] = [
        (m, "validation") if any(m is spec.body for _, _, spec, _ in ops) else (m, "serialization")
        for m in models]
    refs, definitions = models_json_schema(modes, ref_template=_REF)
    schemas = definitions.get("$defs", {})
    _standard_bounds(schemas)
    _list_error_codes(schemas)

    def ref(model: Any, mode: JsonSchemaMode) -> dict[str, Any]:
        return refs[(model, mode)]

    paths: dict[str, dict[str, Any]] = {}
    for path, method, spec, view_args in ops:
        op: dict[str, Any] = {
            "summary": spec.summary,
            "operationId": f"{method}_{re.sub(r'[^a-zA-Z0-9]+', '_', path).strip('_')}",
            "tags": list(spec.tags),
        }
        if spec.description:
            op["description"] = spec.description
        path_schemas = spec.extra.get("path_params", {})
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": path_schemas.get(name, {"type": "string"})}
            for name in view_args
        ]
        if spec.query is not None:
            query_schema = spec.query.model_json_schema()
            _standard_bounds(query_schema)
            for name, info in spec.query.model_fields.items():
                parameters.append({
                    "name": info.alias or name, "in": "query", "required": info.is_required(),
                    "description": info.description or "",
                    "schema": query_schema["properties"][info.alias or name],
                })
        for name, required, description, *header_schema in spec.headers:
            parameters.append({"name": name, "in": "header", "required": required, "description": description,
                               "schema": header_schema[0] if header_schema
                               else {"type": "string", "minLength": int(required)}})
        if parameters:
            op["parameters"] = parameters
        if spec.body is not None:
            mode: JsonSchemaMode = "validation" if (spec.body, "validation") in refs else "serialization"
            # a body whose fields are all optional may be left out (it is read as {})
            required = (any(field.is_required() for field in spec.body.model_fields.values())
                        or bool({"minProperties", "oneOf"} & set(spec.body.model_json_schema())))
            op["requestBody"] = {"required": required,
                                 "content": {"application/json": {"schema": ref(spec.body, mode)}}}
        if "request_body" in spec.extra:  # a body the view reads itself (a file, not JSON)
            op["requestBody"] = spec.extra["request_body"]
        responses: dict[str, Any] = {}
        success: dict[str, Any] = {"description": _STATUS_TEXT.get(spec.status, "OK")}
        if spec.response is not None and spec.status != 204:
            if hasattr(spec.response, "model_json_schema"):
                mode = "serialization" if (spec.response, "serialization") in refs else "validation"
                schema = ref(spec.response, mode)
            else:
                schema = spec.response
            success["content"] = {spec.content_type: {"schema": schema}, **spec.extra.get("also_content", {})}
        responses[str(spec.status)] = success
        if "redirect" in spec.extra:  # a browser's route: it answers by sending the browser on
            responses["302"] = {"description": spec.extra["redirect"], "headers": {"Location": {
                "description": "Where the browser goes next.", "schema": {"type": "string", "format": "uri"}}}}
        error_codes = set(spec.errors)
        if spec.body is not None:
            error_codes |= {400, 413, 415, 422}
        if spec.query is not None:
            error_codes |= {422}
            if {"cursor", "limit"} & set(spec.query.model_fields):
                error_codes |= {400}  # invalid_cursor: a cursor the server did not sign
        if spec.auth == "optional_buyer":
            error_codes |= {401, 403}
            op["security"] = [{}, {"bearerAuth": []}]
            op["description"] = (f"{spec.description}\n\n" if spec.description else "") + _MEMBERS_ONLY
        elif spec.auth == "member":
            error_codes |= {401}
            op["security"] = [{}, {"bearerAuth": []}]
            op["description"] = (f"{spec.description}\n\n" if spec.description else "") + _MEMBERS_ONLY
        elif spec.auth:
            error_codes |= {401, 403}
            op["security"] = [{"bearerAuth": []}]
        # Any operation may meet a gateway throttle (429) or storage that stays busy after the
        # retries (503 storage_busy); any write may lose a race it could not retry (409
        # concurrent_update). Nothing was written in either case.
        error_codes |= {429, 503}
        if method != "get":
            error_codes |= {409}
        for status in sorted(error_codes):
            responses[str(status)] = {
                "description": _STATUS_TEXT.get(status, "Error"),
                "content": {"application/json": {"schema": ref(ErrorResponse, "serialization")}},
            }
        op["responses"] = responses
        paths.setdefault(path, {})[method] = op

    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "agora marketplace API",
            "version": "1.0.0",
            "description": "Multi-tenant marketplace backend with customer retention built in.",
        },
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": _AUTH_SCHEMES},
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document
