"""HTTP routes of sellers: applying, the seller's own account, API keys and the
operator's seller admin. The seller always comes from the principal, never from the request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.core.auth import Principal
from chalicelib.core.errors import Code, Forbidden
from chalicelib.core.http import current_request, operation

if TYPE_CHECKING:
    from chalicelib.accounts.schemas import Accepted, MagicLinkRedemption
    from chalicelib.sellers import schemas

bp = Blueprint(__name__)

APPLICATION_MAILED = ("Check your mail: we have sent a link to this address that confirms your "
                      "application. Until it is used, nothing is created.")


def _source_ip() -> str:
    from chalicelib.core.throttle import source_ip  # lazy: PynamoDB (the throttle's table), not at cold start

    return source_ip(current_request().context)


def _user_of(principal: Principal) -> str | None:
    """Key management and the profile need the seller's signed-in user: a leaked API key must
    not mint, list or revoke keys."""
    if principal.kind != "user":
        raise Forbidden("API keys cannot do this; sign in as a user of the seller.", code=Code.USER_REQUIRED)
    return principal.user_id


# --- applying and the seller's own account ----------------------------------------------------

@bp.route("/v1/sellers", methods=["POST"])
@operation("Apply as a seller: mails a link to the address that confirms the application", tags=("sellers",),
           body="SellerApplication", response="chalicelib.accounts.schemas:Accepted", status=202,
           errors=(409, 422, 429),
           description="The answer is the same whether or not the address has an account. Nothing is created until "
                       "the mailed link is redeemed at `POST /v1/sellers/confirm`. While sellers join by invitation, "
                       "`invite_code` is required (checked now, spent at confirmation). Limited per source address; "
                       "mails to one address are paced (extra requests are dropped quietly).")
def apply(body: schemas.SellerApplication) -> Accepted:
    from chalicelib.accounts.schemas import Accepted  # lazy: schemas, not at cold start
    from chalicelib.sellers import service

    service.apply(body, source_ip=_source_ip())
    return Accepted(message=APPLICATION_MAILED)


@bp.route("/v1/sellers/confirm", methods=["POST"])
@operation("Confirm a seller application with the mailed link's token: creates the seller, its owner account "
           "and its Stripe account", tags=("sellers",), body="chalicelib.accounts.schemas:MagicLinkRedemption",
           response="SellerSignUp", status=201, errors=(401, 409, 429),
           description="The seller starts `pending`. In an open marketplace it is approved once Stripe enables "
                       "charges; while sellers join by invitation an operator approves. An existing account with the "
                       "application's address becomes the owner and keeps its own password.")
def confirm_application(body: MagicLinkRedemption) -> schemas.SellerSignUp:
    from chalicelib.accounts.schemas import tokens  # lazy: schemas, not at cold start
    from chalicelib.sellers import schemas, service

    seller, session = service.confirm_application(body.token, source_ip=_source_ip())
    return schemas.SellerSignUp(seller=schemas.SellerAccount.of(seller), tokens=tokens(session))


@bp.route("/v1/seller", methods=["GET"])
@operation("The calling seller's account: status, profile and payments", tags=("sellers",), auth="seller",
           scopes=("seller:read",), response="SellerAccount", errors=(403,))
def own_seller(principal: Principal) -> schemas.SellerAccount:
    from chalicelib.sellers import schemas, service

    return schemas.SellerAccount.of(service.own_seller(principal.own_seller_id))


@bp.route("/v1/seller", methods=["PATCH"])
@operation("Change the calling seller's storefront profile", tags=("sellers",), auth="seller",
           scopes=("seller:manage",), body="SellerProfilePatch", response="SellerAccount",
           errors=(403, 422))
def update_profile(principal: Principal, body: schemas.SellerProfilePatch) -> schemas.SellerAccount:
    from chalicelib.sellers import schemas, service

    _user_of(principal)
    return schemas.SellerAccount.of(service.update_profile(principal.own_seller_id, body.changes()))


@bp.route("/v1/seller/onboarding-link", methods=["POST"])
@operation("A Stripe link to start or continue payment onboarding", tags=("sellers",), auth="seller",
           scopes=("seller:manage",), response="OnboardingLink", errors=(403, 503))
def onboarding_link(principal: Principal) -> schemas.OnboardingLink:
    from chalicelib.sellers import schemas, service

    _user_of(principal)
    url, expires_at = service.onboarding_link(principal.own_seller_id)
    return schemas.OnboardingLink(url=url, expires_at=expires_at)


# --- API keys ---------------------------------------------------------------------------------

@bp.route("/v1/seller/api-keys", methods=["POST"])
@operation("Create an API key (the secret is shown only in this answer)", tags=("sellers",), auth="seller",
           scopes=("api_keys:manage",), body="ApiKeyRequest", response="NewApiKey", status=201,
           errors=(403,))
def create_api_key(principal: Principal, body: schemas.ApiKeyRequest) -> schemas.NewApiKey:
    from chalicelib.sellers import api_keys, schemas

    key, secret = api_keys.create_key(seller_id=principal.own_seller_id, user_id=_user_of(principal), name=body.name,
                                      scopes=body.scopes, expires_in_days=body.expires_in_days)
    return schemas.NewApiKey(**schemas.ApiKeyOut.of(key).model_dump(), secret=secret)


@bp.route("/v1/seller/api-keys", methods=["GET"])
@operation("The calling seller's API keys", tags=("sellers",), auth="seller", scopes=("api_keys:manage",),
           query="PageQuery",
           response="ApiKeyPage", errors=(403,))
def list_api_keys(principal: Principal, query: schemas.PageQuery) -> schemas.ApiKeyPage:
    from chalicelib.sellers import api_keys, schemas

    _user_of(principal)
    page = api_keys.list_keys(principal.own_seller_id, cursor=query.cursor, limit=query.limit)
    return schemas.ApiKeyPage(items=[schemas.ApiKeyOut.of(k) for k in page.items], next_cursor=page.next_cursor)


@bp.route("/v1/seller/api-keys/{key_id}", methods=["DELETE"])
@operation("Revoke an API key at once", tags=("sellers",), auth="seller", scopes=("api_keys:manage",), status=204,
           errors=(403, 404))
def revoke_api_key(principal: Principal, key_id: str) -> Response:
    from chalicelib.sellers import api_keys

    api_keys.revoke_key(seller_id=principal.own_seller_id, key_id=key_id, user_id=_user_of(principal))
    return Response(body="", status_code=204)


# --- operators --------------------------------------------------------------------------------

@bp.route("/v1/admin/sellers", methods=["GET"])
@operation("Sellers of one status, oldest application first", tags=("admin",), auth="operator",
           query="SellerListQuery", response="SellerPage", errors=(403,))
def list_sellers(principal: Principal, query: schemas.SellerListQuery) -> schemas.SellerPage:
    from chalicelib.sellers import schemas, service

    page = service.list_sellers(query.status, cursor=query.cursor, limit=query.limit)
    return schemas.SellerPage(items=[schemas.SellerAccount.of(s) for s in page.items], next_cursor=page.next_cursor)


@bp.route("/v1/admin/sellers/{seller_id}", methods=["GET"])
@operation("One seller, as operators see it", tags=("admin",), auth="operator", response="SellerAccount",
           errors=(403, 404))
def seller_for_operator(principal: Principal, seller_id: str) -> schemas.SellerAccount:
    from chalicelib.sellers import schemas, service

    return schemas.SellerAccount.of(service.seller_for_operator(seller_id))


@bp.route("/v1/admin/sellers/{seller_id}/approve", methods=["POST"])
@operation("Approve a pending seller", tags=("admin",), auth="operator", response="SellerAccount",
           errors=(403, 404, 409))
def approve_seller(principal: Principal, seller_id: str) -> schemas.SellerAccount:
    from chalicelib.sellers import schemas, service

    return schemas.SellerAccount.of(service.change_status(seller_id, "approve", operator_id=principal.user_id))


@bp.route("/v1/admin/sellers/{seller_id}/reject", methods=["POST"])
@operation("Reject a pending application, with a reason the seller sees", tags=("admin",), auth="operator",
           body="StatusReason", response="SellerAccount", errors=(403, 404, 409, 422),
           description="Only `pending` sellers can be rejected (409 `invalid_status_transition` otherwise); "
                       "rejection is final. The seller reads the status and reason in `GET /v1/seller`.")
def reject_seller(principal: Principal, seller_id: str, body: schemas.StatusReason) -> schemas.SellerAccount:
    from chalicelib.sellers import schemas, service

    return schemas.SellerAccount.of(service.change_status(seller_id, "reject", operator_id=principal.user_id,
                                                          reason=body.reason))


@bp.route("/v1/admin/sellers/{seller_id}/suspend", methods=["POST"])
@operation("Suspend a seller: its products leave the catalog and its API keys stop; nothing is deleted",
           tags=("admin",), auth="operator", body="StatusReason", response="SellerAccount",
           errors=(403, 404, 409))
def suspend_seller(principal: Principal, seller_id: str, body: schemas.StatusReason) -> schemas.SellerAccount:
    from chalicelib.sellers import schemas, service

    return schemas.SellerAccount.of(service.change_status(seller_id, "suspend", operator_id=principal.user_id,
                                                          reason=body.reason))


@bp.route("/v1/admin/sellers/{seller_id}/reinstate", methods=["POST"])
@operation("Lift a seller's suspension (the seller is approved again)", tags=("admin",), auth="operator",
           response="SellerAccount", errors=(403, 404, 409))
def reinstate_seller(principal: Principal, seller_id: str) -> schemas.SellerAccount:
    from chalicelib.sellers import schemas, service

    return schemas.SellerAccount.of(service.change_status(seller_id, "reinstate", operator_id=principal.user_id))


@bp.route("/v1/admin/settings", methods=["GET"])
@operation("Who may join the marketplace and how buyers pay", tags=("admin",), auth="operator",
           response="MarketplaceSettingsOut", errors=(403,))
def marketplace_settings(principal: Principal) -> schemas.MarketplaceSettingsOut:
    from chalicelib.sellers import marketplace, schemas

    return schemas.MarketplaceSettingsOut.of(marketplace.current_settings())


@bp.route("/v1/admin/settings", methods=["PUT"])
@operation("Set who may join the marketplace and how buyers pay", tags=("admin",), auth="operator",
           body="MarketplaceSettingsBody", response="MarketplaceSettingsOut", errors=(403, 422))
def save_marketplace_settings(principal: Principal,
                              body: schemas.MarketplaceSettingsBody) -> schemas.MarketplaceSettingsOut:
    from chalicelib.sellers import marketplace, schemas

    return schemas.MarketplaceSettingsOut.of(marketplace.save_settings(
        seller_access=body.seller_access, buyer_access=body.buyer_access, operator_id=principal.user_id,
        payment_methods=list(body.payment_methods) if body.payment_methods is not None else None))


@bp.route("/v1/admin/seller-invites", methods=["POST"])
@operation("Issue a single-use invite code for a seller", tags=("admin",), auth="operator",
           body="InviteRequest", response="Invite", status=201, errors=(403,))
def issue_invite(principal: Principal, body: schemas.InviteRequest) -> schemas.Invite:
    from chalicelib.sellers import marketplace, schemas

    invite, code = marketplace.issue_invite(operator_id=principal.user_id, note=body.note,
                                            expires_in_days=body.expires_in_days)
    return schemas.Invite.of(invite, code)


@bp.route("/v1/admin/seller-invites", methods=["GET"])
@operation("Seller invites, newest first, and what became of each", tags=("admin",), auth="operator",
           query="PageQuery", response="InvitePage", errors=(400, 403))
def list_invites(principal: Principal, query: schemas.PageQuery) -> schemas.InvitePage:
    from chalicelib.sellers import marketplace, schemas

    page = marketplace.list_invites(cursor=query.cursor, limit=query.limit)
    return schemas.InvitePage(items=[schemas.InviteOut.of(i) for i in page.items], next_cursor=page.next_cursor)


@bp.route("/v1/admin/seller-invites/{invite_id}", methods=["DELETE"])
@operation("Revoke an unused invite code", tags=("admin",), auth="operator", response="InviteOut",
           errors=(403, 404, 409),
           description="The code can no longer be redeemed (422 `invite_revoked` at application). Revoking again "
                       "changes nothing; a used code is a 409 `invite_used`.")
def revoke_invite(principal: Principal, invite_id: str) -> schemas.InviteOut:
    from chalicelib.sellers import marketplace, schemas

    return schemas.InviteOut.of(marketplace.revoke_invite(invite_id, operator_id=principal.user_id))
