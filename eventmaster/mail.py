"""Mails to attendees: rendered from templates, sent after commit.

A mail is built and sent only once the transaction that caused it has
committed (never for one that rolled back), and a failure of the mail server
is logged, never raised: a registration never fails because of its mail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.mime.image import MIMEImage
from typing import Any

from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


@dataclass
class Mail:
    to: str
    subject: str
    template: str  # "registrations/email/confirmed" -> .txt and .html
    context: dict[str, Any]
    inline_png: tuple[str, bytes] | None = None  # (content id, image), shown in the HTML part
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)  # (file name, content, mimetype)

    def message(self, connection: BaseEmailBackend | None = None) -> EmailMultiAlternatives:
        message = EmailMultiAlternatives(
            subject=self.subject,
            body=render_to_string(f"{self.template}.txt", self.context),
            to=[self.to],
            connection=connection,
        )
        message.attach_alternative(render_to_string(f"{self.template}.html", self.context), "text/html")
        if self.inline_png is not None:
            content_id, png = self.inline_png
            # multipart/related: the HTML part shows the image by its Content-ID.
            message.mixed_subtype = "related"  # type: ignore[attr-defined]  # a class attribute of Django's; the stubs lack it
            image = MIMEImage(png, "png")
            image.add_header("Content-ID", f"<{content_id}>")
            image.add_header("Content-Disposition", "inline", filename=f"{content_id}.png")
            message.attach(image)
        for name, content, mimetype in self.attachments:
            message.attach(name, content, mimetype)
        return message


def send_after_commit(build: Callable[[], Iterable[Mail]]) -> None:
    """Build the mails when the current transaction commits and send them over
    one connection; log (never raise) a failure."""

    def send() -> None:
        try:
            mails = list(build())
        except Exception:
            logger.exception("building attendee mail failed")
            return
        if not mails:
            return
        connection = get_connection()
        for mail in mails:  # one refused address must not stop the others
            try:
                connection.send_messages([mail.message(connection)])
            except Exception:
                logger.exception("sending attendee mail failed", extra={"subject": mail.subject})
        try:
            connection.close()
        except Exception:
            logger.exception("closing the mail connection failed")

    transaction.on_commit(send)
