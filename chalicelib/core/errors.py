"""The one error hierarchy of agora.

Domain code raises these; ``chalicelib.core.http`` is the single place that turns
them into HTTP responses of the shape
``{"error": {"code": "...", "message": "...", "details": ...}}``.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class AgoraError(Exception):
    """Base of every error a client may see. ``code`` is machine-readable and stable."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details
        self.headers = headers or {}


class BadRequest(AgoraError):
    status = 400
    code = "bad_request"


class FieldProblem(TypedDict):
    """One wrong field of a 422, as pydantic reports it, so a client reads every 422 alike."""

    field: str  # where: "body.quantity", "query.to", "header.Idempotency-Key", "cart"
    message: str
    type: str  # pydantic's kind of problem ("missing", "value_error"…) or agora's
    line: NotRequired[int]  # the file line of an import
    currencies: NotRequired[list[str]]  # a cart in several currencies
    total: NotRequired[dict[str, Any]]  # an order below the smallest charge, and that charge
    minimum: NotRequired[dict[str, Any]]
    order_id: NotRequired[str]  # the order an Idempotency-Key was used for


class ValidationFailed(AgoraError):
    """The request was well-formed JSON but its fields are wrong; details list each field."""

    status = 422
    code = "validation_failed"

    def __init__(self, message: str, *, code: str | None = None, details: list[FieldProblem] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        if details is not None and not isinstance(details, list):
            raise TypeError("ValidationFailed.details is a list of field problems")
        super().__init__(message, code=code, details=details, headers=headers)


class Unauthorized(AgoraError):
    status = 401
    code = "unauthorized"

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("WWW-Authenticate", f'Bearer error="{self.code}"')


class Forbidden(AgoraError):
    status = 403
    code = "forbidden"


class NotFound(AgoraError):
    status = 404
    code = "not_found"


class PaymentRequired(AgoraError):
    """The payment was declined; the client may try another payment method."""

    status = 402
    code = "payment_declined"


class Conflict(AgoraError):
    status = 409
    code = "conflict"


class PayloadTooLarge(AgoraError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(AgoraError):
    status = 415
    code = "unsupported_media_type"


class TooManyRequests(AgoraError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, **kwargs: Any) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)}, **kwargs)
        self.retry_after = retry_after


class ServiceUnavailable(AgoraError):
    """A dependency (Stripe, AWS) failed; the client may retry the same request."""

    status = 503
    code = "service_unavailable"
