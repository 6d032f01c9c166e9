"""HTTP routes of fees: the operator's schedules and the seller's view of its own.

Category slugs contain ``/``; in a URL path write each ``/`` as ``--``
(``/v1/admin/fees/categories/fashion--shoes`` for ``fashion/shoes``). Slugs are lowercase
words joined by single hyphens, so ``--`` never occurs in a slug itself.

Routes name their models (``body="FeeScheduleIn"``) and views import the schemas module,
so a cold start imports none (see :data:`chalicelib.core.http.ModelRef`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.core.categories import CATEGORIES
from chalicelib.core.errors import Code, NotFound
from chalicelib.core.http import operation

if TYPE_CHECKING:
    from chalicelib.core.auth import Principal
    from chalicelib.fees import schemas

bp = Blueprint(__name__)

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*)*$")


# A category slug as a path segment: its "/" written "--" (an unknown one is a 404).
CATEGORY_IN_PATH = {"type": "string", "enum": sorted(slug.replace("/", "--") for slug in CATEGORIES)}


def category_from_path(segment: str) -> str:
    """``fashion--shoes`` → ``fashion/shoes``; anything that is not a category's slug is a 404."""
    slug = segment.replace("--", "/")
    if len(slug) > 100 or not _SLUG.match(slug) or slug not in CATEGORIES:
        raise NotFound("No such category.", code=Code.CATEGORY_NOT_FOUND)
    return slug


_PRECEDENCE = ("Precedence: seller override > category override (longest slug prefix) > default; volume "
               "tiers apply to the chosen schedule. Every change is a new version effective now; orders keep "
               "the version that priced them.")


@bp.route("/v1/admin/fees", methods=["GET"])
@operation("The marketplace's default fee schedule and category overrides", tags=("fees",),
           response="FeeOverview", auth="operator", description=_PRECEDENCE)
def get_fees(principal: Principal) -> schemas.FeeOverview:
    from chalicelib.fees import schemas, service

    return schemas.FeeOverview(default=schemas.schedule_out(service.default_schedule()),
                               categories=[schemas.schedule_out(s) for s in service.category_overrides()])


@bp.route("/v1/admin/fees", methods=["PUT"])
@operation("Set the marketplace's default fee schedule (a new version)", tags=("fees",),
           body="FeeScheduleIn", response="FeeScheduleOut", auth="operator", errors=(409,),
           description=_PRECEDENCE)
def put_default_fees(body: schemas.FeeScheduleIn, principal: Principal) -> schemas.FeeScheduleOut:
    from chalicelib.fees import schemas, service
    from chalicelib.fees.engine import DEFAULT_SCOPE

    return schemas.schedule_out(service.set_schedule(DEFAULT_SCOPE, body.model_dump(),
                                                     changed_by=principal.user_id))


@bp.route("/v1/admin/fees/sellers/{seller_id}", methods=["GET"])
@operation("A seller's fee override", tags=("fees",), response="FeeScheduleOut", auth="operator",
           errors=(404,))
def get_seller_override(seller_id: str, principal: Principal) -> schemas.FeeScheduleOut:
    from chalicelib.fees import schemas, service
    from chalicelib.fees.engine import seller_scope

    schedule = service.current_schedule(seller_scope(seller_id))
    if schedule is None:
        raise NotFound("This seller has no fee override.", code=Code.FEE_OVERRIDE_NOT_FOUND)
    return schemas.schedule_out(schedule)


@bp.route("/v1/admin/fees/sellers/{seller_id}", methods=["PUT"])
@operation("Set a seller's fee override (wins over category overrides and the default)", tags=("fees",),
           body="FeeScheduleIn", response="FeeScheduleOut", auth="operator", errors=(404, 409))
def put_seller_override(seller_id: str, body: schemas.FeeScheduleIn, principal: Principal) -> schemas.FeeScheduleOut:
    from chalicelib.fees import schemas, service

    return schemas.schedule_out(service.set_seller_override(seller_id, body.model_dump(),
                                                            changed_by=principal.user_id))


@bp.route("/v1/admin/fees/sellers/{seller_id}", methods=["DELETE"])
@operation("Remove a seller's fee override", tags=("fees",), status=204, auth="operator", errors=(404, 409))
def delete_seller_override(seller_id: str, principal: Principal) -> Response:
    from chalicelib.fees import service
    from chalicelib.fees.engine import seller_scope

    service.remove_override(seller_scope(seller_id), changed_by=principal.user_id)
    return Response(body="", status_code=204)


@bp.route("/v1/admin/fees/categories/{category_slug}", methods=["PUT"])
@operation("Set a category's fee override; write '/' in the slug as '--' (fashion--shoes)", tags=("fees",),
           body="FeeScheduleIn", response="FeeScheduleOut", auth="operator", errors=(404, 409),
           extra={"path_params": {"category_slug": CATEGORY_IN_PATH}})
def put_category_override(category_slug: str, body: schemas.FeeScheduleIn,
                          principal: Principal) -> schemas.FeeScheduleOut:
    from chalicelib.fees import schemas, service
    from chalicelib.fees.engine import category_scope

    scope = category_scope(category_from_path(category_slug))
    return schemas.schedule_out(service.set_schedule(scope, body.model_dump(), changed_by=principal.user_id))


@bp.route("/v1/admin/fees/categories/{category_slug}", methods=["DELETE"])
@operation("Remove a category's fee override; write '/' in the slug as '--'", tags=("fees",), status=204,
           auth="operator", errors=(404, 409), extra={"path_params": {"category_slug": CATEGORY_IN_PATH}})
def delete_category_override(category_slug: str, principal: Principal) -> Response:
    from chalicelib.fees import service
    from chalicelib.fees.engine import category_scope

    service.remove_override(category_scope(category_from_path(category_slug)),
                            changed_by=principal.user_id)
    return Response(body="", status_code=204)


@bp.route("/v1/seller/fees", methods=["GET"])
@operation("The fee schedule that applies to me", tags=("fees",), response="SellerFees", auth="seller",
           scopes=("seller:read",), errors=(403,), description=_PRECEDENCE)
def get_my_fees(principal: Principal) -> schemas.SellerFees:
    from chalicelib.fees import schemas, service

    policy, categories = service.seller_fee_view(principal.own_seller_id)
    applies = "seller_override" if policy.seller is not None else "marketplace_default"
    return schemas.SellerFees(applies=applies, schedule=schemas.schedule_out(policy.base_schedule),
                              category_overrides=[schemas.schedule_out(s) for s in categories])
