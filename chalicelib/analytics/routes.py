"""HTTP routes of retention analytics: a seller's customers (``/v1/seller/analytics…``, the
seller from the principal) and the marketplace's buyers (``/v1/admin/analytics…``).

Routes name their models and views import the reports module, so a cold start imports none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.core.http import operation

if TYPE_CHECKING:
    from chalicelib.analytics import schemas
    from chalicelib.core.auth import Principal

bp = Blueprint(__name__)

TAGS = ("analytics",)
SELLER: dict[str, Any] = {"tags": TAGS, "auth": "seller", "scopes": ("reports:read",)}
ADMIN: dict[str, Any] = {"tags": TAGS, "auth": "operator"}
_CSV = {"also_content": {"text/csv": {"schema": {"type": "string"}}}}
_RETENTION = ("Per calendar period: S, E and N (customers active at its start and end, new in it), retention rate "
              "CRR = (E - N) / S x 100 (null with a reason when S = 0), churn rate = 100 - CRR, repeat-purchase rate, "
              "purchase frequency, average order value, the median days between orders, and revenue from new "
              "against returning customers. Active: a counted order within the look-back window (`active_days`). "
              "Counted: paid, net of refunds; wholly refunded orders do not count. Definitions: README, "
              "\"Retention analytics\". Read from counters: a constant number of Queries however many orders.")
_COHORTS = ("Customers by the month of their first counted order, and per month since: the share of the cohort "
            "buying and revenue per cohort customer (net of refunds). format=csv: the same as rows.")


def _retention(seller_id: str | None, query: schemas.RetentionQuery) -> schemas.RetentionReport:
    from chalicelib.analytics import reports, schemas

    reports.check_breakdown(query.breakdown)
    from_, to = reports.default_range(query.period, query.from_, query.to)
    currency = reports.currency_of(seller_id, query.currency)
    return schemas.RetentionReport.model_validate(reports.retention(seller_id, currency, query.period, from_, to))


def _cohorts(seller_id: str | None, query: schemas.CohortQuery) -> schemas.CohortReport | Response:
    from chalicelib.analytics import reports, schemas

    from_, to = reports.default_range("month", query.from_, query.to)
    report = reports.cohorts(seller_id, reports.currency_of(seller_id, query.currency), from_, to)
    if query.format == "csv":
        return Response(body=reports.cohorts_csv(report), status_code=200,
                        headers={"Content-Type": "text/csv; charset=utf-8",
                                 "Content-Disposition": 'attachment; filename="cohorts.csv"'})
    return schemas.CohortReport.model_validate(report)


@bp.route("/v1/seller/analytics/retention", methods=["GET"])
@operation("Retention of your customers per period", query="RetentionQuery", response="RetentionReport",
           errors=(422,), description=_RETENTION, **SELLER)
def seller_retention(query: schemas.RetentionQuery, principal: Principal) -> schemas.RetentionReport:
    return _retention(principal.own_seller_id, query)


@bp.route("/v1/admin/analytics/retention", methods=["GET"])
@operation("Retention of the marketplace's buyers per period", query="MarketplaceRetentionQuery",
           response="RetentionReport", errors=(422,), description=_RETENTION, **ADMIN)
def marketplace_retention(query: schemas.MarketplaceRetentionQuery, principal: Principal) -> schemas.RetentionReport:
    return _retention(None, query)


@bp.route("/v1/seller/analytics/cohorts", methods=["GET"])
@operation("Cohorts of your customers by month of first order", query="CohortQuery", response="CohortReport",
           errors=(422,), description=_COHORTS, extra=_CSV, **SELLER)
def seller_cohorts(query: schemas.CohortQuery, principal: Principal) -> schemas.CohortReport | Response:
    return _cohorts(principal.own_seller_id, query)


@bp.route("/v1/admin/analytics/cohorts", methods=["GET"])
@operation("Cohorts of the marketplace's buyers by month of first order", query="MarketplaceCohortQuery",
           response="CohortReport", errors=(422,), description=_COHORTS, extra=_CSV, **ADMIN)
def marketplace_cohorts(query: schemas.MarketplaceCohortQuery, principal: Principal) -> schemas.CohortReport | Response:
    return _cohorts(None, query)
