"""Sign-up, sign-in and sessions; the buyer's own account under /v1/me."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.core import clock
from chalicelib.core.auth import Principal
from chalicelib.core.http import current_request, operation, parse_body, request_header

if TYPE_CHECKING:
    from chalicelib.accounts import schemas

bp = Blueprint(__name__)


def _source_ip() -> str:
    """The caller as throttles count it (an IPv6 client by its /64)."""
    from chalicelib.core.throttle import source_ip  # lazy: PynamoDB (the throttle's table), not at cold start

    return source_ip(current_request().context)


def _client_address() -> str:
    """The caller's exact address, for records of who did something (the consent log)."""
    from chalicelib.core.throttle import client_address  # lazy: PynamoDB (the throttle's table), not at cold start

    return client_address(current_request().context)


def _no_content() -> Response:
    return Response(body="", status_code=204)


@bp.route("/v1/auth/register", methods=["POST"])
@operation("Sign up with a password: mails a link that creates the account", tags=("auth",),
           body="Registration", response="Accepted", status=202, errors=(422, 429),
           description="The answer is the same whether or not the address has an account; the mail says which. "
                       "The account, with this password, is created when the mailed link is redeemed at "
                       "`POST /v1/auth/magic-link/verify`. Limited per source address; mails to one address are "
                       "paced (extra requests are dropped quietly). A `referral_code` that names no buyer is 422 "
                       "`referral_code_unknown`; a known one makes the new account the referrer's referral (see "
                       "Loyalty in the README).")
def register(body: schemas.Registration) -> schemas.Accepted:
    from chalicelib.accounts import schemas, service

    service.register(email=body.email, password=body.password, name=body.name, newsletter=body.newsletter,
                     source_ip=_source_ip(), client_address=_client_address(), referral_code=body.referral_code)
    return schemas.Accepted(message=schemas.SIGN_UP_MAILED)


@bp.route("/v1/auth/login", methods=["POST"])
@operation("Sign in with email and password", tags=("auth",), body="Credentials",
           response="Tokens", errors=(401, 403, 429),
           description="Only for a confirmed address (403 `email_not_verified` mails a sign-in link instead). After "
                       "several wrong passwords for an address, a proof of work is required (401 "
                       "`challenge_required`); the source address is limited (429).")
def login(body: schemas.Credentials) -> schemas.Tokens:
    from chalicelib.accounts import schemas, service

    return schemas.tokens(service.login(email=body.email, password=body.password, source_ip=_source_ip(),
                                        challenge=body.challenge, solution=body.solution, otp=body.otp))


@bp.route("/v1/auth/refresh", methods=["POST"])
@operation("Exchange a refresh token for new tokens (the old one is spent)", tags=("auth",),
           body="RefreshRequest", response="Tokens", errors=(401, 429))
def refresh(body: schemas.RefreshRequest) -> schemas.Tokens:
    from chalicelib.accounts import schemas, sessions

    return schemas.tokens(sessions.refresh(body.refresh_token, source_ip=_source_ip()))


@bp.route("/v1/auth/logout", methods=["POST"])
@operation("Sign out: revoke this refresh token's session and its access tokens", tags=("auth",),
           body="RefreshRequest", status=204)
def logout(body: schemas.RefreshRequest) -> Response:
    from chalicelib.accounts import sessions

    sessions.end_session(body.refresh_token)
    return _no_content()


@bp.route("/v1/auth/magic-link", methods=["POST"])
@operation("Mail a sign-in link (the answer is the same whether or not the address has an account)",
           tags=("auth",), body="MagicLinkRequest", response="Accepted", status=202, errors=(429,))
def request_magic_link(body: schemas.MagicLinkRequest) -> schemas.Accepted:
    from chalicelib.accounts import magic_links, schemas

    magic_links.request_link(email=body.email, source_ip=_source_ip())
    return schemas.Accepted(message=schemas.MAGIC_LINK_SENT)


@bp.route("/v1/auth/magic-link/verify", methods=["POST"])
@operation("Redeem a mailed link's token for tokens (sign-in, sign-up confirmation or a seller's invitation; once)",
           tags=("auth",), body="MagicLinkRedemption", response="Tokens", errors=(401, 429),
           description="A sign-in link creates a passwordless account for a new address. The first link used on an "
                       "account whose address was never confirmed clears any password on it and ends its sessions.")
def verify_magic_link(body: schemas.MagicLinkRedemption) -> schemas.Tokens:
    from chalicelib.accounts import schemas, service

    return schemas.tokens(service.redeem_link(body.token, source_ip=_source_ip()))


# --- social sign-in (OpenID Connect) ---------------------------------------------------------------------------

_SOCIAL = ("The provider names are the operator's (`AGORA_OIDC_PROVIDERS`; README, \"Social login\"); an unknown one "
           "is 404 `oidc_provider_not_found`.")


def _redirect(location: str) -> Response:
    return Response(body="", status_code=302, headers={"Location": location, "Cache-Control": "no-store"})


@bp.route("/v1/auth/oidc/{provider}/start", methods=["GET"])
@operation("Start a social sign-in: redirects the browser to the provider", tags=("auth",), query="OidcStartQuery",
           status=302, errors=(404, 422, 429, 503),
           description="The authorization-code flow with PKCE, state and nonce. The sign-in must finish within "
                       "10 minutes, once. " + _SOCIAL,
           extra={"redirect": "To the provider's authorization endpoint."})
def start_social_sign_in(provider: str, query: schemas.OidcStartQuery) -> Response:
    from chalicelib.accounts import oidc

    return _redirect(oidc.begin(provider, return_to=query.return_to, role=query.role, source_ip=_source_ip(),
                                referral_code=query.referral_code))


@bp.route("/v1/auth/oidc/{provider}/callback", methods=["GET"])
@operation("Finish a social sign-in (the provider sends the browser here): tokens, like the other sign-ins",
           tags=("auth",), query="OidcCallbackQuery", response="Tokens",
           errors=(400, 401, 403, 404, 409, 422, 429, 503),
           description="Signs in to the account the identity belongs to; a new identity joins the account with its "
                       "email when the provider verified it (409 `sign_in_to_link` when it did not), else creates a "
                       "passwordless account. When the sign-in started with `return_to`, the answer is a 302 to it "
                       "with a one-time `code` (2 minutes) that the frontend exchanges at "
                       "`POST /v1/auth/oidc/exchange`; tokens never travel in a URL. Errors are JSON either way. "
                       + _SOCIAL,
           extra={"redirect": "To the sign-in's `return_to`, with `code` added to its query."})
def finish_social_sign_in(provider: str, query: schemas.OidcCallbackQuery) -> Response | schemas.Tokens:
    return _finish_social_sign_in(provider, query)


@bp.route("/v1/auth/oidc/{provider}/callback", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
@operation("Finish a social sign-in that the provider posts as a form (response_mode=form_post, as Apple does)",
           tags=("auth",), response="Tokens", errors=(400, 401, 403, 404, 409, 415, 422, 429, 503),
           description="As `GET /v1/auth/oidc/{provider}/callback`, with its fields in a form-encoded body (other "
                       "fields, such as Apple's `user`, are ignored).",
           extra={"redirect": "To the sign-in's `return_to`, with `code` added to its query.",
                  "request_body": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                      "type": "object", "properties": {name: {"type": "string"} for name in
                                                       ("code", "state", "error", "error_description")}}}}}})
def finish_social_sign_in_posted(provider: str) -> Response | schemas.Tokens:
    from urllib.parse import parse_qsl

    from pydantic import ValidationError

    from chalicelib.accounts import schemas
    from chalicelib.core.errors import ValidationFailed
    from chalicelib.core.http import request_body

    try:
        query = schemas.OidcCallbackQuery.model_validate(dict(parse_qsl(request_body().decode("utf-8", "replace"))))
    except ValidationError:
        raise ValidationFailed("The posted callback has invalid fields.", details=[
            {"field": "body", "message": "code, state and error are strings of bounded length",
             "type": "string_too_long"}]) from None
    return _finish_social_sign_in(provider, query)


def _finish_social_sign_in(provider: str, query: schemas.OidcCallbackQuery) -> Response | schemas.Tokens:
    from urllib.parse import urlencode

    from chalicelib.accounts import identities, schemas, sessions

    user, return_to = identities.sign_in(provider, state=query.state, code=query.code, error=query.error,
                                         source_ip=_source_ip())
    if return_to is None:
        return schemas.tokens(sessions.start_session(user))
    separator = "&" if "?" in return_to else "?"
    return _redirect(f"{return_to}{separator}{urlencode({'code': identities.hand_off(user)})}")


@bp.route("/v1/auth/oidc/exchange", methods=["POST"])
@operation("Exchange a social sign-in's one-time code (from the return URL) for tokens", tags=("auth",),
           body="SignInCode", response="Tokens", errors=(401, 429))
def exchange_sign_in_code(body: schemas.SignInCode) -> schemas.Tokens:
    from chalicelib.accounts import identities, schemas

    return schemas.tokens(identities.redeem_handoff(body.code, source_ip=_source_ip()))


@bp.route("/v1/me/identities", methods=["GET"])
@operation("The social-login identities linked to your account", tags=("me",), response="IdentityList",
           auth="buyer")
def list_identities(principal: Principal) -> schemas.IdentityList:
    from chalicelib.accounts import identities, schemas

    return schemas.identities(identities.list_identities(principal.own_user_id))


@bp.route("/v1/me/identities/{provider}/start", methods=["POST"])
@operation("Link a provider to your account: where to send the browser", tags=("me",), body="IdentityLinkStart",
           response="AuthorizationUrl", auth="buyer", errors=(404, 422, 429, 503),
           description="The provider's callback then links the identity to this account, whatever its email (409 "
                       "`identity_taken` if it belongs to another account, `provider_already_linked` if one of this "
                       "provider is linked) and answers as `GET /v1/auth/oidc/{provider}/callback`. " + _SOCIAL)
def start_identity_link(provider: str, body: schemas.IdentityLinkStart,
                        principal: Principal) -> schemas.AuthorizationUrl:
    from chalicelib.accounts import oidc, schemas

    return schemas.AuthorizationUrl(authorization_url=oidc.begin(provider, return_to=body.return_to,
                                                                 source_ip=_source_ip(),
                                                                 link_user_id=principal.own_user_id))


@bp.route("/v1/me/identities/{provider}", methods=["DELETE"])
@operation("Unlink a provider from your account", tags=("me",), status=204, auth="buyer", errors=(404, 409),
           description="Refused (409 `last_sign_in_method`) for the only identity of an account without a password.")
def unlink_identity(provider: str, principal: Principal) -> Response:
    from chalicelib.accounts import identities

    identities.unlink(principal.own_user_id, provider)
    return _no_content()


@bp.route("/v1/me/password", methods=["PUT"])
@operation("Set or change your password; every session ends and you get a fresh one", tags=("me",),
           body="PasswordChange", response="Tokens", auth="user", errors=(401, 403, 422))
def change_password(body: schemas.PasswordChange, principal: Principal) -> schemas.Tokens:
    from chalicelib.accounts import schemas, service

    return schemas.tokens(service.change_password(principal.own_user_id, new_password=body.new_password,
                                                  current_password=body.current_password,
                                                  auth_time=principal.auth_time))


@bp.route("/v1/me/sign-out-everywhere", methods=["POST"])
@operation("Sign out on every device: all sessions and their access tokens end now", tags=("me",), status=204,
           auth="user", errors=(403,))
def sign_out_everywhere(principal: Principal) -> Response:
    from chalicelib.accounts import service

    service.sign_out_everywhere(principal.own_user_id)
    return _no_content()


# --- profile and data rights ----------------------------------------------------------------------------------

@bp.route("/v1/me", methods=["GET"])
@operation("Your profile", tags=("me",), response="Profile", auth="buyer")
def get_me(principal: Principal) -> schemas.Profile:
    from chalicelib.accounts import profile, schemas

    return schemas.profile(profile.get_profile(principal.own_user_id))


@bp.route("/v1/me", methods=["PATCH"])
@operation("Change your profile", tags=("me",), body="ProfileChange", response="Profile", auth="buyer")
def patch_me(body: schemas.ProfileChange, principal: Principal) -> schemas.Profile:
    from chalicelib.accounts import profile, schemas

    return schemas.profile(profile.change_profile(principal.own_user_id, body.model_dump(exclude_unset=True)))


@bp.route("/v1/me", methods=["DELETE"])
@operation("Delete your account: personal data is erased, records the law requires are kept anonymised",
           tags=("me",), status=204, auth="buyer", errors=(403, 409),
           description="Needs a sign-in within the last 10 minutes (403 `reauthentication_required` otherwise).")
def delete_me(principal: Principal) -> Response:
    from chalicelib.accounts import data_rights, service

    service.require_recent_sign_in(principal.auth_time)
    data_rights.erase(principal.own_user_id)
    return _no_content()


@bp.route("/v1/me/export", methods=["GET"])
@operation("Everything agora stores about you, as JSON", tags=("me",), response="AccountExport", auth="buyer")
def export_me(principal: Principal) -> schemas.AccountExport:
    from chalicelib.accounts import data_rights, schemas

    return schemas.account_export(data_rights.export(principal.own_user_id), clock.stamp())


# --- address book ---------------------------------------------------------------------------------------------

@bp.route("/v1/me/addresses", methods=["GET"])
@operation("Your addresses", tags=("me",), response="AddressList", auth="buyer")
def list_addresses(principal: Principal) -> schemas.AddressList:
    from chalicelib.accounts import addresses, schemas

    return schemas.AddressList(items=[schemas.address(a) for a in addresses.list_addresses(principal.own_user_id)])


@bp.route("/v1/me/addresses", methods=["POST"])
@operation("Add an address", tags=("me",), body="AddressFields", response="AddressOut", status=201,
           auth="buyer", errors=(409,))
def add_address(body: schemas.AddressFields, principal: Principal) -> schemas.AddressOut:
    from chalicelib.accounts import addresses, schemas

    return schemas.address(addresses.add_address(principal.own_user_id, schemas.address_fields(body),
                                                 default_shipping=body.is_default_shipping,
                                                 default_billing=body.is_default_billing))


@bp.route("/v1/me/addresses/{address_id}", methods=["PATCH"])
@operation("Change an address or make it a default", tags=("me",), body="AddressChange",
           response="AddressOut", auth="buyer", errors=(404, 409))
def change_address(address_id: str, body: schemas.AddressChange, principal: Principal) -> schemas.AddressOut:
    from chalicelib.accounts import addresses, schemas

    return schemas.address(addresses.change_address(principal.own_user_id, address_id, schemas.address_fields(body),
                                                    default_shipping=body.is_default_shipping,
                                                    default_billing=body.is_default_billing))


@bp.route("/v1/me/addresses/{address_id}", methods=["DELETE"])
@operation("Delete an address", tags=("me",), status=204, auth="buyer", errors=(404,))
def delete_address(address_id: str, principal: Principal) -> Response:
    from chalicelib.accounts import addresses

    addresses.delete_address(principal.own_user_id, address_id)
    return _no_content()


# --- saved payment methods ------------------------------------------------------------------------------------

@bp.route("/v1/me/payment-methods/setup-intent", methods=["POST"])
@operation("Start saving a card or SEPA account: a Stripe SetupIntent for Stripe.js to confirm", tags=("me",),
           response="SetupIntentOut", status=201, auth="buyer", errors=(503,),
           description="Send an Idempotency-Key header to get the same SetupIntent when retrying a request.")
def start_card_setup(principal: Principal) -> schemas.SetupIntentOut:
    from chalicelib.accounts import payment_methods, schemas

    started = payment_methods.start_setup(principal.own_user_id,
                                          request_key=request_header("idempotency-key"))
    return schemas.SetupIntentOut(setup_intent_id=started.setup_intent_id, client_secret=started.client_secret)


@bp.route("/v1/me/payment-methods", methods=["GET"])
@operation("Your saved cards and SEPA accounts", tags=("me",), response="PaymentMethodList", auth="buyer",
           errors=(503,))
def list_payment_methods(principal: Principal) -> schemas.PaymentMethodList:
    from chalicelib.accounts import payment_methods, schemas

    return schemas.payment_methods(payment_methods.list_payment_methods(principal.own_user_id))


@bp.route("/v1/me/payment-methods/{payment_method_id}", methods=["PATCH"])
@operation("Make a saved card or SEPA account your default (or no longer)", tags=("me",), body="PaymentMethodChange",
           response="PaymentMethodOut", auth="buyer", errors=(404, 503))
def change_payment_method(payment_method_id: str, body: schemas.PaymentMethodChange,
                          principal: Principal) -> schemas.PaymentMethodOut:
    from chalicelib.accounts import payment_methods, schemas

    saved = payment_methods.set_default_payment_method(principal.own_user_id, payment_method_id, body.default)
    return schemas.PaymentMethodOut(**vars(saved))


@bp.route("/v1/me/payment-methods/{payment_method_id}", methods=["DELETE"])
@operation("Remove a saved card or SEPA account", tags=("me",), status=204, auth="buyer", errors=(404, 503))
def delete_payment_method(payment_method_id: str, principal: Principal) -> Response:
    from chalicelib.accounts import payment_methods

    payment_methods.remove_payment_method(principal.own_user_id, payment_method_id)
    return _no_content()


# --- consents -------------------------------------------------------------------------------------------------

@bp.route("/v1/me/consents", methods=["GET"])
@operation("Your consents and their log", tags=("me",), query="ConsentsQuery", response="ConsentsOut",
           auth="buyer", errors=(400,))
def get_consents(query: schemas.ConsentsQuery, principal: Principal) -> schemas.ConsentsOut:
    from chalicelib.accounts import consents, schemas

    return schemas.consents(consents.get_consents(principal.own_user_id, cursor=query.cursor, limit=query.limit))


@bp.route("/v1/me/consents", methods=["PUT"])
@operation("Ask for (double opt-in by mail) or withdraw the newsletter", tags=("me",), body="ConsentsChange",
           response="ConsentsOut", auth="buyer", errors=(429,))
def put_consents(body: schemas.ConsentsChange, principal: Principal) -> schemas.ConsentsOut:
    from chalicelib.accounts import consents, schemas

    return schemas.consents(consents.change(principal.own_user_id, newsletter=body.newsletter,
                                            source_ip=_client_address()))


@bp.route("/v1/consents/confirm", methods=["POST"])
@operation("Confirm a consent with the token from the confirmation mail (no sign-in needed)", tags=("consents",),
           body="ConsentToken", response="ConsentOut")
def confirm_consent(body: schemas.ConsentToken) -> schemas.ConsentOut:
    from chalicelib.accounts import consents, schemas

    return schemas.consent(consents.confirm(body.token, source_ip=_client_address(), throttle_by=_source_ip()))


@bp.route("/v1/consents/unsubscribe", methods=["POST"],
          content_types=["application/json", "application/x-www-form-urlencoded"])
@operation("One-click unsubscribe (no sign-in needed)", tags=("consents",), query="UnsubscribeQuery",
           response="ConsentOut", errors=(400,),
           description="The frontend sends {\"token\": …} as JSON. Mailbox providers use RFC 8058: a form-encoded "
                       "POST of List-Unsubscribe=One-Click to the List-Unsubscribe URL, with the token in its "
                       "query string. There is deliberately no GET: mail scanners prefetch links.")
def unsubscribe(query: schemas.UnsubscribeQuery) -> schemas.ConsentOut:
    from chalicelib.accounts import consents, schemas

    token = query.token or parse_body(current_request(), schemas.ConsentToken).token
    return schemas.consent(consents.unsubscribe(token, source_ip=_client_address(), throttle_by=_source_ip()))
