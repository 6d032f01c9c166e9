"""HTTP routes of the ledger: sellers' statements and balances, the operator's revenue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.core.http import operation

if TYPE_CHECKING:
    from chalicelib.core.auth import Principal
    from chalicelib.ledger import schemas

bp = Blueprint(__name__)


@bp.route("/v1/seller/statements", methods=["GET"])
@operation("My ledger entries in a time window", tags=("ledger",), query="StatementQuery",
           response="Statement", auth="seller", scopes=("reports:read",), errors=(400,),
           description="Entries of [from, to), oldest first. format=json pages with cursor/limit; format=csv "
                       "returns the whole window as text/csv (at most 10000 entries).",
           extra={"also_content": {"text/csv": {"schema": {"type": "string"}}}})
def get_statement(query: schemas.StatementQuery, principal: Principal) -> schemas.Statement | Response:
    from chalicelib.ledger import schemas, service

    seller_id = principal.own_seller_id
    if query.format == "csv":
        filename = f"statement-{query.from_:%Y%m%d}-{query.to:%Y%m%d}.csv"
        return Response(body=service.statement_csv(seller_id, query.from_, query.to), status_code=200,
                        headers={"Content-Type": "text/csv; charset=utf-8",
                                 "Content-Disposition": f'attachment; filename="{filename}"'})
    page = service.seller_entries(seller_id, query.from_, query.to, query.cursor, query.limit)
    return schemas.Statement(seller_id=seller_id, from_=query.from_, to=query.to,
                             items=[e.to_json() for e in page.items], next_cursor=page.next_cursor)


@bp.route("/v1/seller/balance", methods=["GET"])
@operation("What I have earned, been transferred and am owed, per currency", tags=("ledger",),
           response="Balances", auth="seller", scopes=("reports:read",))
def get_balance(principal: Principal) -> schemas.Balances:
    from chalicelib.ledger import schemas, service

    balances = service.seller_balances(principal.own_seller_id)
    return schemas.Balances(seller_id=principal.own_seller_id, balances=[b.to_json() for b in balances])


@bp.route("/v1/admin/revenue", methods=["GET"])
@operation("Platform fee and subscription revenue, and the loyalty accounts, per currency in a time window",
           tags=("ledger",),
           query="Window", response="RevenueReport", auth="operator",
           description="Window [from, to), at most 13 calendar months.")
def get_revenue(query: schemas.Window, principal: Principal) -> schemas.RevenueReport:
    from chalicelib.ledger import schemas, service

    revenue = service.platform_fee_revenue(query.from_, query.to)
    loyalty = service.loyalty_books(query.from_, query.to)
    return schemas.RevenueReport(from_=query.from_, to=query.to,
                                 currencies=[r.to_json() for r in revenue.values()],
                                 loyalty=[b.to_json() for b in loyalty.values()])
