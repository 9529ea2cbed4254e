"""A mail rendered from templates (a text and an HTML part, an inline image,
attachments). What to send and when is the apps' business: attendee mails
are queued and sent by the task workers (registrations.mails)."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.mime.image import MIMEImage
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string


@dataclass
class Mail:
    to: str
    subject: str
    template: str  # "registrations/email/confirmed" -> .txt and .html
    context: dict[str, Any]
    inline_png: tuple[str, bytes] | None = None  # (content id, image), shown in the HTML part
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)  # (file name, content, mimetype)

    def message(
        self, connection: BaseEmailBackend | None = None, *, message_id: str | None = None
    ) -> EmailMultiAlternatives:
        """The message; ``message_id`` (``<id@domain>``) stays the same on every
        attempt of one mail, so mail clients fold a duplicate."""
        message = EmailMultiAlternatives(
            subject=self.subject,
            body=render_to_string(f"{self.template}.txt", self.context),
            to=[self.to],
            connection=connection,
            headers={"Message-ID": message_id} if message_id else None,
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
