"""Mail and posts to the retention team (alerts, the daily briefing) through the same channels campaigns
send offers through (winback/offers/channels.py): SMTP, an outbox folder, or a signed webhook."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from typing import Any

from winback.config import Settings
from winback.offers.messages import MessageError, sender_address


def staff_message(
    settings: Settings,
    key: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    images: dict[str, bytes] | None = None,
) -> tuple[EmailMessage, dict[str, Any]]:
    """An RFC 5322 message (plain text, with an HTML alternative whose inline PNGs are named by cid) and the
    payload a channel needs, for one recipient ("" for a webhook). `key` fixes the Message-ID, so the same alert or briefing sent twice is
    recognisably the same message."""
    sender = sender_address(settings.mail_from)
    address = parseaddr(to)[1] if to else ""
    if to and "@" not in address:
        raise MessageError(f"{to!r} is not an e-mail address")
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    if address:  # a webhook post has no addressee
        msg["To"] = address
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = f"<{key}@{sender.domain}>"
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
        html_part = msg.get_body(("html",))
        assert isinstance(html_part, EmailMessage)
        for cid, png in (images or {}).items():
            html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>")
    payload = {
        "message_id": msg["Message-ID"],
        "file_stem": key,
        "from": sender.addr_spec,
        "to": address,
        "subject": subject,
        "text": text,
    }
    return msg, payload
