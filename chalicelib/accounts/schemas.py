from __future__ import annotations

from pydantic import Field

from chalicelib.core.schemas import RequestSchema, ResponseSchema


class Registration(RequestSchema):
    email: str = Field(max_length=320, examples=["anna@example.com"])
    password: str = Field(max_length=256, description="At least 10 characters.")
    name: str = Field(min_length=1, max_length=200)
    newsletter: bool = Field(default=False, description="Ask for the newsletter (confirmed by mail: double opt-in).")


class Credentials(RequestSchema):
    email: str = Field(max_length=320)
    password: str = Field(max_length=256)


class RefreshRequest(RequestSchema):
    refresh_token: str = Field(min_length=1, max_length=200)


class AccountSummary(ResponseSchema):
    user_id: str
    email: str
    name: str
    roles: list[str]
    seller_id: str | None = None


class Tokens(ResponseSchema):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(description="Single use: each refresh returns a new one.")
    refresh_expires_in: int
    account: AccountSummary


def account_summary(user: object) -> AccountSummary:
    return AccountSummary(user_id=user.user_id, email=user.email, name=user.name, roles=sorted(user.roles),
                          seller_id=user.seller_id)


def tokens(session: object) -> Tokens:
    return Tokens(access_token=session.access_token, expires_in=session.expires_in,
                  refresh_token=session.refresh_token, refresh_expires_in=session.refresh_expires_in,
                  account=account_summary(session.user))
