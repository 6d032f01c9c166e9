"""HTTP routes of sellers' shipping profiles. The seller always comes from the principal.

Profiles are part of preparing a catalogue, so they take the products scopes: a pending
seller sets them up before approval, and an API key with ``products:write`` may too. The
service and schema modules are imported inside the views (cold start: see
:data:`chalicelib.core.http.ModelRef`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.core.http import operation

if TYPE_CHECKING:
    from chalicelib.core.auth import Principal
    from chalicelib.shipping.schemas import ProfileCreate, ProfileList, ProfileOut, ProfilePatch

bp = Blueprint(__name__)

TAGS = ("shipping",)
READ = ("products:read",)
WRITE = ("products:write",)
_ZONES = ("Each zone names its countries (ISO 3166-1 alpha-2, each in one zone of the profile: else 422 "
          "`country_in_two_zones`), a standard rate per seller part for the first item, an optional rate per "
          "further item, an optional express rate with its delivery days, and an optional free-shipping threshold "
          "(goods value after discounts). Rates are in your default currency (else 422 `shipping_currency`). A "
          "destination in no zone cannot be ordered from you for the products shipping with this profile.")


@bp.route("/v1/seller/shipping-profiles", methods=["GET"])
@operation("Your shipping profiles, the default first", tags=TAGS, response="ProfileList", auth="seller",
           scopes=READ, errors=(401, 403),
           description="Until you create one, you ship everywhere for free. Cart and checkout apply profiles in a "
                       "coming release.")
def list_profiles(principal: Principal) -> ProfileList:
    from chalicelib.shipping import service
    from chalicelib.shipping.schemas import ProfileList, ProfileOut

    return ProfileList(items=[ProfileOut.of(p) for p in service.list_profiles(principal.own_seller_id)])


@bp.route("/v1/seller/shipping-profiles", methods=["POST"])
@operation("Create a shipping profile; your first one is your default (id `default`)", tags=TAGS,
           body="ProfileCreate", response="ProfileOut", status=201, auth="seller", scopes=WRITE,
           errors=(401, 403, 409, 413, 422),
           description=f"{_ZONES} Products without a profile of their own ship with the default. At most 20 "
                       "profiles (422 `shipping_profiles_full`).")
def create_profile(body: ProfileCreate, principal: Principal) -> ProfileOut:
    from chalicelib.shipping import service
    from chalicelib.shipping.schemas import ProfileOut

    return ProfileOut.of(service.create_profile(principal.own_seller_id, body))


@bp.route("/v1/seller/shipping-profiles/{profile_id}", methods=["GET"])
@operation("One of your shipping profiles (`default` names your default)", tags=TAGS, response="ProfileOut",
           auth="seller", scopes=READ, errors=(401, 403, 404))
def get_profile(profile_id: str, principal: Principal) -> ProfileOut:
    from chalicelib.shipping import service
    from chalicelib.shipping.schemas import ProfileOut

    return ProfileOut.of(service.get_profile(principal.own_seller_id, profile_id))


@bp.route("/v1/seller/shipping-profiles/{profile_id}", methods=["PATCH"])
@operation("Change fields of one of your shipping profiles", tags=TAGS, body="ProfilePatch", response="ProfileOut",
           auth="seller", scopes=WRITE, errors=(401, 403, 404, 409, 413, 422),
           description=f"`zones` replaces every zone. {_ZONES}")
def patch_profile(profile_id: str, body: ProfilePatch, principal: Principal) -> ProfileOut:
    from chalicelib.shipping import service
    from chalicelib.shipping.schemas import ProfileOut

    return ProfileOut.of(service.update_profile(principal.own_seller_id, profile_id, body))


@bp.route("/v1/seller/shipping-profiles/{profile_id}", methods=["DELETE"])
@operation("Delete a shipping profile", tags=TAGS, status=204, auth="seller", scopes=WRITE,
           errors=(401, 403, 404, 409),
           description="Products naming it ship with your default profile from then on. The default cannot be "
                       "deleted (409 `default_shipping_profile`): change it instead.")
def delete_profile(profile_id: str, principal: Principal) -> Response:
    from chalicelib.shipping import service

    service.delete_profile(principal.own_seller_id, profile_id)
    return Response(body="", status_code=204)
