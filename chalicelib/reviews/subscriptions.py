"""What reviews do when events arrive; registered when app.py imports this module.

The subscribers import their module only when they run (lazy, for cold start)."""

from __future__ import annotations

from chalicelib.accounts.events import AccountErased
from chalicelib.events.registry import Delivered, subscribe
from chalicelib.reviews.events import QuestionAnswered, QuestionAsked


@subscribe(QuestionAsked)
def on_question_asked(asked: Delivered[QuestionAsked]) -> None:
    """Mail the seller about a published question on its product."""
    from chalicelib.reviews import mails  # lazy: cold start

    mails.question_asked(asked.event)


@subscribe(QuestionAnswered)
def on_question_answered(answered: Delivered[QuestionAnswered]) -> None:
    """Mail the asker about an answer."""
    from chalicelib.reviews import mails  # lazy: cold start

    mails.question_answered(answered.event)


@subscribe(AccountErased)
def on_account_erased(erased: Delivered[AccountErased]) -> None:
    """The erased buyer's reviews lose the author's name and images, questions and answers the name."""
    from chalicelib.reviews import questions, service  # lazy: cold start

    service.erase_author(erased.event.user_id)
    questions.erase_author(erased.event.user_id)
