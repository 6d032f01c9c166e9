"""The mail port: any domain asks for a mail by putting a message on the mail queue.

Rendering, consent, language and sending are the retention package's job (its worker
reads the queue); domains below it only describe the mail, so they never import it.

A mail that carries a sign-in link names the link (:class:`MailLink`) instead of holding
it: the mail worker mints the one-time token when it sends the mail. A live credential
therefore never sits in a queue message, its dead-letter queue or a log of either.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler
from pydantic_core import CoreSchema

from chalicelib.core import sqs
from chalicelib.core.settings import get_settings

LinkPurpose = Literal["sign_in", "sign_up", "seller_application", "customer_invite"]


class _EmailStr:
    """pydantic's EmailStr, looked up when the message model is built: importing it loads
    importlib.metadata (and e-mail parsing), over 10 ms of every cold start otherwise."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        from pydantic import EmailStr  # lazy: cold start (see above)

        return handler.generate_schema(EmailStr)


MailAddress = Annotated[str, _EmailStr()]


class MailLink(BaseModel):
    """A one-time link to mint at sending: what it does when redeemed, what it completes,
    and the frontend page that opens it (the page POSTs the token to the API)."""

    model_config = ConfigDict(defer_build=True)  # built at the first mail, not at cold start

    purpose: LinkPurpose
    ref: str | None = Field(default=None, max_length=100,
                            description="What the link completes: a sign-up, an application, an invitation.")
    path: str = Field(pattern=r"^/[a-z0-9/_-]*$", description="The frontend page the link opens.")


class EmailMessage(BaseModel):
    """A message on the retention email queue."""

    model_config = ConfigDict(defer_build=True)  # built at the first mail, not at cold start

    template: str = Field(pattern=r"^[a-z_]+$")
    to: MailAddress
    context: dict[str, Any] = Field(default_factory=dict)
    dedupe_key: str = Field(min_length=1, max_length=300,
                            description="Same key, same mail: a redelivered message is not sent twice.")
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$",
                                 description="de or en. Absent: the language the recipient's account prefers "
                                             "when the mail is sent, else English.")
    topic: str | None = Field(default=None, pattern=r"^[a-z_]+$",
                              description="Marketing mails only: the consent topic (e.g. newsletter) they are sent "
                                          "under. Such a mail goes out only while the recipient's account has "
                                          "granted that consent, and carries one-click unsubscribe (RFC 8058). "
                                          "Absent for transactional mails.")
    link: MailLink | None = Field(default=None,
                                  description="A one-time link minted when the mail is sent, given to the template "
                                              "as `link` (and `minutes`/`days`, how long it stays valid).")


def enqueue_email(message: EmailMessage) -> None:
    sqs.send(get_settings().retention_queue_name, message.model_dump(mode="json"))
