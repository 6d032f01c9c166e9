"""HTTP routes of payments (Stripe webhooks, later checkout and statements)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.core.http import operation, request_body, request_header

if TYPE_CHECKING:
    from chalicelib.payments.schemas import WebhookReceipt

bp = Blueprint(__name__)

_WEBHOOK_ERRORS = (400, 409)  # 409: the same event is being processed by another delivery


def _receive(endpoint: str) -> WebhookReceipt:
    from chalicelib.payments import webhooks

    return webhooks.receive(request_body(), request_header("stripe-signature"), endpoint=endpoint)


@bp.route("/v1/webhooks/stripe", methods=["POST"])
@operation("Stripe's events about the platform account (payments, refunds, transfers)", tags=("webhooks",),
           response="WebhookReceipt", errors=_WEBHOOK_ERRORS,
           description="Called by Stripe, signed with the platform endpoint's secret (`Stripe-Signature`).")
def stripe_webhook() -> WebhookReceipt:
    return _receive("platform")


@bp.route("/v1/webhooks/stripe/connect", methods=["POST"])
@operation("Stripe's events about sellers' connected accounts (account.updated)", tags=("webhooks",),
           response="WebhookReceipt", errors=_WEBHOOK_ERRORS,
           description="Called by Stripe, signed with the Connect endpoint's secret (`Stripe-Signature`).")
def stripe_connect_webhook() -> WebhookReceipt:
    return _receive("connect")
