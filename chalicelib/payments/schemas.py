"""Request and response schemas of payments."""

from typing import Literal

from chalicelib.core.schemas import ResponseSchema


class WebhookReceipt(ResponseSchema):
    """What agora did with a Stripe event (Stripe only looks at the status, so every event
    that is not applied is still a 200; the outcome says why, see ``payments.webhooks``)."""

    received: bool = True
    event_id: str
    type: str
    outcome: Literal["processed", "duplicate", "ignored", "wrong_endpoint", "refused"]
