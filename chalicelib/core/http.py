"""The HTTP edge: request parsing, the error-to-status mapping, request ids.

This is the one place that knows both domain errors and HTTP. Every route is declared
with :func:`operation`, which parses the body and query with pydantic, maps
:class:`AgoraError` to the JSON error shape, and records what the OpenAPI document
says about the route. Routes name their models (:data:`ModelRef`) so that declaring them
imports no schema module: a cold start then does not grow with the number of routes.
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from chalicelib.core.errors import (
    AgoraError,
    BadRequest,
    Code,
    FieldProblem,
    PayloadTooLarge,
    ValidationFailed,
)
from chalicelib.core.ids import new_id
from chalicelib.core.logging import logger
from chalicelib.core.pagination import page_refusal
from chalicelib.core.settings import get_settings

if TYPE_CHECKING:
    from chalice.app import Chalice, Request, Response

_current_request: contextvars.ContextVar[Request | None] = contextvars.ContextVar(
    "agora_request", default=None
)
Body = TypeVar("Body", bound=BaseModel)
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# Chalice's own error codes (raised before a view runs) in agora's vocabulary.
_CHALICE_CODES = {
    "UnsupportedMediaType": Code.UNSUPPORTED_MEDIA_TYPE,
    "MethodNotAllowedError": Code.METHOD_NOT_ALLOWED,
    "BadRequestError": Code.BAD_REQUEST,
    "BadRequest": Code.BAD_REQUEST,
    "NotFoundError": Code.NOT_FOUND,
    "InternalServerError": Code.INTERNAL_ERROR,
}


# A request or response model: its class, or its name. "Registration" is looked up in the schemas
# module of the route's own package, "chalicelib.accounts.schemas:Tokens" in that module. A named
# model's module is imported at the route's first request, or when /openapi.json is built: a
# cold start imports no schema module, however many routes there are.
ModelRef = type[BaseModel] | str


def resolve_model(ref: ModelRef, home: str) -> type[BaseModel]:
    """The class a route names; ``home`` is the route's module (``chalicelib.<package>.routes``)."""
    if not isinstance(ref, str):
        return ref
    module, _, name = ref.rpartition(":")
    module = module or f"{home.rpartition('.')[0]}.schemas"
    found = getattr(importlib.import_module(module), name, None)
    if not (isinstance(found, type) and issubclass(found, BaseModel)):
        raise LookupError(f"{ref!r} (from {home}) names no model of {module}")
    return found


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says about one route. ``body``, ``query`` and ``response``
    read its models as classes, resolving named ones on first read."""

    summary: str
    home: str  # the route's module
    tags: tuple[str, ...] = ()
    body_ref: ModelRef | None = None
    query_ref: ModelRef | None = None
    response_ref: Any = None  # a model, or a JSON schema for what is not one
    status: int = 200
    auth: str | None = None
    scopes: tuple[str, ...] = ()
    errors: tuple[int, ...] = ()
    content_type: str = "application/json"
    description: str | None = None
    headers: tuple[tuple[Any, ...], ...] = ()  # (name, required, description[, JSON schema]) read by the view
    extra: dict[str, Any] = field(default_factory=dict)

    @functools.cached_property
    def body(self) -> type[BaseModel] | None:
        return None if self.body_ref is None else resolve_model(self.body_ref, self.home)

    @functools.cached_property
    def query(self) -> type[BaseModel] | None:
        return None if self.query_ref is None else resolve_model(self.query_ref, self.home)

    @functools.cached_property
    def response(self) -> Any:
        return resolve_model(self.response_ref, self.home) if isinstance(self.response_ref, str) else self.response_ref


def current_request() -> Request:
    request = _current_request.get()
    if request is None:  # pragma: no cover - only outside an HTTP call
        raise RuntimeError("no HTTP request in progress")
    return request


def request_header(name: str) -> str | None:
    """A header of the current request, by its case-insensitive name."""
    return _headers(current_request()).get(name.lower())


def request_body() -> bytes:
    """The current request's body as it came. Chalice decodes it to bytes (its type says
    str | bytes), for a view that reads a body itself: a file, a signed webhook."""
    body = current_request().raw_body or b""
    return body.encode() if isinstance(body, str) else body


def error_body(code: Code, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(error: AgoraError) -> Response:
    from chalice import Response

    return Response(
        body=error_body(error.code, error.message, error.details),
        status_code=error.status,
        headers={"Content-Type": "application/json", **error.headers},
    )


def _validation_details(exc: ValidationError, location: str) -> list[FieldProblem]:
    details: list[FieldProblem] = []
    for problem in exc.errors(include_url=False, include_context=False, include_input=False):
        path = ".".join(str(p) for p in problem["loc"])
        details.append({
            "field": f"{location}.{path}" if path else location,
            "message": problem["msg"],
            "type": problem["type"],
        })
    return details


def parse_body(request: Request, model: type[Body]) -> Body:
    raw = request.raw_body or b""
    if len(raw) > get_settings().max_body_bytes:
        raise PayloadTooLarge(
            f"The request body is larger than {get_settings().max_body_bytes} bytes.",
            details={"limit_bytes": get_settings().max_body_bytes},
        )
    if not raw.strip():
        data: Any = {}
    else:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest("The request body is not valid JSON.", code=Code.MALFORMED_JSON,
                             details={"reason": str(exc)[:200]}) from None
    if not isinstance(data, dict):
        raise ValidationFailed("The request body must be a JSON object.",
                               details=[{"field": "body", "message": "expected an object", "type": "object_type"}])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("The request body has invalid fields.",
                               details=_validation_details(exc, "body")) from None


def parse_query(request: Request, model: type[BaseModel]) -> BaseModel:
    params = dict(request.query_params or {})
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        refusal = page_refusal(exc)
        if refusal is not None:
            raise refusal from None
        raise ValidationFailed("The query string has invalid parameters.",
                               details=_validation_details(exc, "query")) from None


def _to_body(result: Any) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    return result


def operation(summary: str, *, body: ModelRef | None = None, query: ModelRef | None = None, response: Any = None,
              **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a route: parse and validate input, map domain errors, document it.

    The view receives ``body=`` and/or ``query=`` (parsed models) and, for routes with
    ``auth=`` (buyer, seller, operator or any; ``scopes=`` for API keys), ``principal=``
    next to its path parameters. ``auth="member"`` marks a buyer-facing public route: it
    admits anonymous callers unless the marketplace is members-only, and passes no principal.
    ``auth="optional_buyer"`` (carts, checkout) passes a signed-in buyer, or None for a guest
    where the marketplace admits guests. ``headers=`` only documents the request headers the
    view reads itself. The view returns a pydantic model, a plain JSON value or a Chalice Response.
    Models are best named (see :data:`ModelRef`), so that declaring the route imports none.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        spec = Operation(summary=summary, home=view.__module__, body_ref=body, query_ref=query,
                         response_ref=response, **options)

        @functools.wraps(view)
        def handle(**path_params: Any) -> Any:
            from chalice import Response

            try:
                request = current_request()
                kwargs = dict(path_params)
                if spec.auth == "optional_buyer":  # a signed-in buyer, or a guest where guests may shop
                    from chalicelib.core.auth import admit_member, authenticate, authorize

                    header = _headers(request).get("authorization")
                    if header:
                        kwargs["principal"] = authenticate(header)
                        authorize(kwargs["principal"], "buyer")
                    else:
                        admit_member(None)
                        kwargs["principal"] = None
                elif spec.auth == "member":
                    from chalicelib.core.auth import admit_member

                    admit_member(_headers(request).get("authorization"))
                elif spec.auth is not None:
                    from chalicelib.core.auth import authenticate, authorize

                    principal = authenticate(_headers(request).get("authorization"))
                    authorize(principal, spec.auth, spec.scopes)
                    kwargs["principal"] = principal
                if spec.body is not None:
                    kwargs["body"] = parse_body(request, spec.body)
                if spec.query is not None:
                    kwargs["query"] = parse_query(request, spec.query)
                result = view(**kwargs)
            except AgoraError as error:
                if error.status >= 500:
                    logger.exception("request failed", extra={"code": error.code})
                return error_response(error)
            except Exception as error:
                # DynamoDB throttling past the retries, or a transaction cancelled by a
                # concurrent one: nothing was written; the client may send it again.
                from chalicelib.core.db import storage_error

                translated = storage_error(error)
                if translated is None:
                    raise
                logger.warning("storage refused the request", extra={"code": translated.code,
                                                                      "reason": type(error).__name__})
                return error_response(translated)
            if isinstance(result, Response):
                return result
            return Response(body=_to_body(result), status_code=spec.status,
                            headers={"Content-Type": spec.content_type})

        # a function object takes attributes at run time; the spec is read back by core.openapi
        handle.__agora_operation__ = spec  # type: ignore[attr-defined]
        return handle

    return decorate


def _headers(request: Request) -> Mapping[str, str]:
    """Read with a fallback: a request built by hand (a test's) may carry no headers."""
    return request.headers or {}


def _request_id(request: Request) -> str:
    given = _headers(request).get("x-request-id", "")
    if given and _REQUEST_ID_OK.match(given):
        return given
    context = request.context or {}
    return context.get("requestId") or new_id("req")


def install(app: Chalice) -> None:
    """Register the HTTP middleware: request id in logs and headers, and Chalice's own
    errors (415, 405, unhandled 500) rewritten into agora's error shape."""

    @app.middleware("http")
    def agora_http(request: Request, get_response: Callable[[Request], Response]) -> Response:
        token = _current_request.set(request)
        request_id = _request_id(request)
        logger.append_keys(request_id=request_id, path=request.path, method=request.method)
        try:
            response = get_response(request)
        finally:
            _current_request.reset(token)
        body = response.body
        if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
            # (a Chalice error agora never raises answers by its status)
            code = _CHALICE_CODES.get(body["Code"], Code.INTERNAL_ERROR if response.status_code >= 500
                                      else Code.BAD_REQUEST)
            message = body.get("Message", "")
            if response.status_code >= 500:
                message = "An internal error occurred. Quote the request id when reporting it."
            response.body = error_body(code, message, {"request_id": request_id})
        response.headers["X-Request-Id"] = request_id
        logger.info("request served", extra={"status": response.status_code})
        logger.remove_keys(["request_id", "path", "method"])
        return response
