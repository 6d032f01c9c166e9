"""Sign-up, sign-in and sessions."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.accounts import schemas
from chalicelib.core.http import operation

bp = Blueprint(__name__)


@bp.route("/v1/auth/register", methods=["POST"])
@operation("Create a buyer account with a password", tags=("auth",), body=schemas.Registration,
           response=schemas.Tokens, status=201, errors=(409,))
def register(body: schemas.Registration) -> schemas.Tokens:
    from chalicelib.accounts import service

    return schemas.tokens(service.register(email=body.email, password=body.password, name=body.name,
                                           newsletter=body.newsletter))


@bp.route("/v1/auth/login", methods=["POST"])
@operation("Sign in with email and password", tags=("auth",), body=schemas.Credentials,
           response=schemas.Tokens, errors=(401, 429))
def login(body: schemas.Credentials) -> schemas.Tokens:
    from chalicelib.accounts import service

    return schemas.tokens(service.login(email=body.email, password=body.password))


@bp.route("/v1/auth/refresh", methods=["POST"])
@operation("Exchange a refresh token for new tokens (the old one is spent)", tags=("auth",),
           body=schemas.RefreshRequest, response=schemas.Tokens, errors=(401,))
def refresh(body: schemas.RefreshRequest) -> schemas.Tokens:
    from chalicelib.accounts import sessions

    return schemas.tokens(sessions.refresh(body.refresh_token))


@bp.route("/v1/auth/logout", methods=["POST"])
@operation("Sign out: revoke this refresh token's session", tags=("auth",), body=schemas.RefreshRequest,
           status=204)
def logout(body: schemas.RefreshRequest) -> Response:
    from chalicelib.accounts import sessions

    sessions.end_session(body.refresh_token)
    return Response(body="", status_code=204)
