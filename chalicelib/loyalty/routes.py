"""HTTP routes of loyalty: the buyer's points (``/v1/me/loyalty…``), a seller's bonus
campaigns (``/v1/seller/loyalty…``, the seller from the principal) and the operator's
programme, campaigns, adjustments and report (``/v1/admin/loyalty…``).

Routes name their models and views import the schemas module, so a cold start imports none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.accounts.personal_data import export_section
from chalicelib.core.http import operation

if TYPE_CHECKING:
    from chalicelib.core.auth import Principal
    from chalicelib.loyalty import schemas

bp = Blueprint(__name__)

TAGS = ("loyalty",)
ME: dict[str, Any] = {"tags": TAGS, "auth": "buyer"}
ADMIN: dict[str, Any] = {"tags": TAGS, "auth": "operator"}

_EARNING = ("Points per whole currency unit of goods paid: net of VAT, after every discount, without shipping; "
            "x the buyer's tier multiplier x running campaigns. Pending until the seller's part of the order "
            "completes (its return window ends), then available; a refund takes back its share.")


@bp.route("/v1/me/loyalty", methods=["GET"])
@operation("My loyalty points, their value, my tier, what expires soon and my referral code",
           response="LoyaltyOverview", **ME,
           description=_EARNING + " `referral`: my code (made the first time it is asked for) and the link to share; "
                                  "a buyer who signs up with it and keeps a first order past its return window earns "
                                  "us both the programme's referral points (README, Loyalty).")
def my_loyalty(principal: Principal) -> schemas.LoyaltyOverview:
    from chalicelib.loyalty import reading, schemas

    return schemas.overview_out(reading.overview(principal.own_user_id))


@bp.route("/v1/me/loyalty/transactions", methods=["GET"])
@operation("My points history, newest first", query="PageQuery", response="TransactionPage", **ME)
def my_transactions(query: schemas.PageQuery, principal: Principal) -> schemas.TransactionPage:
    from chalicelib.loyalty import reading, schemas

    return schemas.transaction_page(reading.history(principal.own_user_id, cursor=query.cursor, limit=query.limit))


@bp.route("/v1/admin/loyalty/programme", methods=["GET"])
@operation("The loyalty programme", response="ProgrammeOut", **ADMIN)
def get_programme(principal: Principal) -> schemas.ProgrammeOut:
    from chalicelib.loyalty import programme, schemas

    return schemas.programme_out(programme.get_programme())


@bp.route("/v1/admin/loyalty/programme", methods=["PUT"])
@operation("Set the loyalty programme", body="ProgrammeIn", response="ProgrammeOut", errors=(409, 422), **ADMIN,
           description=_EARNING + " Switched off (`enabled: false`): nothing is earned; balances stay, earned "
                                  "points still become available and expire.")
def put_programme(body: schemas.ProgrammeIn, principal: Principal) -> schemas.ProgrammeOut:
    from chalicelib.loyalty import programme, schemas

    return schemas.programme_out(programme.save_programme(schemas.programme_from(body), by=principal.own_user_id))


@bp.route("/v1/admin/loyalty/campaigns", methods=["GET"])
@operation("The marketplace's bonus campaigns, newest first", response="CampaignList", **ADMIN)
def list_campaigns(principal: Principal) -> schemas.CampaignList:
    from chalicelib.loyalty import programme, schemas

    return schemas.CampaignList(items=[schemas.campaign_out(c) for c in programme.campaigns_of(None)])


@bp.route("/v1/admin/loyalty/campaigns", methods=["POST"])
@operation("Create a time-boxed points multiplier (by category, seller or product)", body="CampaignIn",
           response="CampaignOut", status=201, errors=(422,), **ADMIN)
def create_campaign(body: schemas.CampaignIn, principal: Principal) -> schemas.CampaignOut:
    from chalicelib.core import clock
    from chalicelib.loyalty import programme, schemas

    return schemas.campaign_out(programme.create_campaign(
        None, name=body.name, multiplier_bp=body.multiplier_bp, target=body.target, target_values=body.values,
        starts_at=clock.stamp(body.starts_at), ends_at=clock.stamp(body.ends_at)))


@bp.route("/v1/seller/loyalty/campaigns", methods=["GET"])
@operation("My bonus-points campaigns, newest first", response="CampaignList", tags=TAGS, auth="seller",
           scopes=("promotions:read",))
def list_seller_campaigns(principal: Principal) -> schemas.CampaignList:
    from chalicelib.loyalty import programme, schemas

    return schemas.CampaignList(items=[schemas.campaign_out(c) for c in programme.campaigns_of(
        principal.own_seller_id)])


@bp.route("/v1/seller/loyalty/campaigns", methods=["POST"])
@operation("Fund bonus points on my products for a while", body="SellerCampaignIn", response="CampaignOut",
           status=201, errors=(422,), tags=TAGS, auth="seller", scopes=("promotions:write",),
           description="The bonus points are charged to you (your ledger's seller_payable) when they are earned, "
                       "and credited back when a refund takes them back.")
def create_seller_campaign(body: schemas.SellerCampaignIn, principal: Principal) -> schemas.CampaignOut:
    from chalicelib.core import clock
    from chalicelib.loyalty import programme, schemas

    return schemas.campaign_out(programme.create_campaign(
        principal.own_seller_id, name=body.name, multiplier_bp=body.multiplier_bp,
        target="products" if body.product_ids else "all", target_values=body.product_ids,
        starts_at=clock.stamp(body.starts_at), ends_at=clock.stamp(body.ends_at)))


@bp.route("/v1/admin/loyalty/adjustments", methods=["POST"])
@operation("Add or take back a buyer's points by hand, with a reason", body="AdjustmentIn", response="AdjustmentOut",
           status=201, errors=(404, 409, 422), **ADMIN)
def create_adjustment(body: schemas.AdjustmentIn, principal: Principal) -> schemas.AdjustmentOut:
    from chalicelib.loyalty import earning, schemas

    return schemas.adjustment_out(earning.adjust(body.user_id, body.points, reason=body.reason,
                                                 by=principal.own_user_id))


@bp.route("/v1/admin/loyalty/adjustments", methods=["GET"])
@operation("Manual adjustments, newest first: who, when, why", query="PageQuery", response="AdjustmentPage", **ADMIN)
def list_adjustments(query: schemas.PageQuery, principal: Principal) -> schemas.AdjustmentPage:
    from chalicelib.loyalty import earning, schemas

    page = earning.adjustments(cursor=query.cursor, limit=query.limit)
    return schemas.AdjustmentPage(items=[schemas.adjustment_out(a) for a in page.items], next_cursor=page.next_cursor)


@bp.route("/v1/admin/loyalty/report", methods=["GET"])
@operation("How the programme does: members, points, liability, tiers, members against non-members",
           query="ReportQuery",
           response="LoyaltyReport", **ADMIN,
           description="Movements in [from, to) (at most 366 days); members, outstanding points, liability and tiers "
                       "as of now; members' against non-members' orders (repeat-purchase rate, average order value) "
                       "over the calendar months the window touches. format=csv: the same as `metric,value` rows.",
           extra={"also_content": {"text/csv": {"schema": {"type": "string"}}}})
def get_report(query: schemas.ReportQuery, principal: Principal) -> schemas.LoyaltyReport | Response:
    from chalicelib.loyalty import report, schemas

    result = report.report(query.from_, query.to)
    if query.format == "csv":
        return Response(body=report.report_csv(result), status_code=200,
                        headers={"Content-Type": "text/csv; charset=utf-8",
                                 "Content-Disposition": 'attachment; filename="loyalty-report.csv"'})
    return schemas.LoyaltyReport.model_validate(result.to_json())


@export_section("loyalty")
def history_in_export(user_id: str) -> list[Any]:
    """The buyer's points history in their data export (GET /v1/me/export), newest first."""
    from chalicelib.loyalty import reading, schemas  # lazy: PynamoDB, not at cold start

    return [entry.model_dump(mode="json") for entry in schemas.transaction_page(reading.whole_history(user_id)).items]
