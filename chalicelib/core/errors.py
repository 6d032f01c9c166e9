"""The one error hierarchy of agora.

Domain code raises these; ``chalicelib.core.http`` is the single place that turns
them into HTTP responses of the shape
``{"error": {"code": "...", "message": "...", "details": ...}}``.
"""

from __future__ import annotations

from typing import Any


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


class ValidationFailed(AgoraError):
    """The request was well-formed JSON but its fields are wrong; details list each field."""

    status = 422
    code = "validation_failed"


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
