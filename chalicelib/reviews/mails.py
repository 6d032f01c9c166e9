"""Transactional mails of Q&A, through the mail queue. Each is keyed by what it tells of
(the question, the answer), so a redelivered event sends nothing twice."""

from __future__ import annotations

from chalicelib.accounts.service import get_user
from chalicelib.catalog.service import find_product
from chalicelib.core.errors import NotFound
from chalicelib.core.mail import EmailMessage, enqueue_email
from chalicelib.core.settings import get_settings
from chalicelib.reviews.events import QuestionAnswered, QuestionAsked
from chalicelib.sellers.service import get_seller


def _product_title(product_id: str) -> str:
    try:
        return find_product(product_id).title
    except NotFound:
        return ""


def question_asked(asked: QuestionAsked) -> None:
    """To the seller's contact address (English, or the language of the seller's account)."""
    seller = get_seller(asked.seller_id)
    frontend = get_settings().frontend_url.rstrip("/")
    enqueue_email(EmailMessage(
        template="question_asked", to=seller.contact_email,
        context={"seller_name": seller.display_name, "product_title": _product_title(asked.product_id),
                 "question": asked.text, "link": f"{frontend}/seller/products/{asked.product_id}/questions"},
        dedupe_key=f"question_asked:{asked.question_id}"))


def question_answered(answered: QuestionAnswered) -> None:
    """To the asker, in their account's language; nothing for an erased account."""
    try:
        asker = get_user(answered.asker_id)
    except NotFound:
        return
    if not asker.is_active:
        return
    frontend = get_settings().frontend_url.rstrip("/")
    enqueue_email(EmailMessage(
        template="question_answered", to=asker.email,
        context={"name": asker.name or "", "product_title": _product_title(answered.product_id),
                 "answer": answered.text, "by_seller": answered.by == "seller",
                 "verified_buyer": answered.verified_buyer,
                 "link": f"{frontend}/products/{answered.product_id}#questions"},
        dedupe_key=f"question_answered:{answered.answer_id}"))
