"""An approved offer as an RFC 5322 e-mail: From/To/Subject/Date, a Message-ID fixed by the offer (so a
message sent twice would be recognisably the same), a List-Unsubscribe header (RFC 2369, one-click per
RFC 8058 when an unsubscribe link is configured) and the offer's text as the plain-text body."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from urllib.parse import quote

from winback.data.plain_text import address_problem, control_problem
from winback.errors import UserError


class MessageError(UserError, ValueError):
    pass


@dataclass(frozen=True)
class OutgoingOffer:
    offer_id: str
    customer_id: str
    name: str
    email: str
    subject: str
    message: str
    campaign_id: str | None
    redeem_code: str | None
    valid_until: datetime | None
    offer_type: str


def sender_address(mail_from: str) -> Address:
    display, address = parseaddr(mail_from)
    if "@" not in address:
        raise MessageError(f"WINBACK_MAIL_FROM {mail_from!r} is not an e-mail address")
    local, domain = address.rsplit("@", 1)
    return Address(display, local, domain)


def message_id(offer_id: str, mail_from: str) -> str:
    return f"<{offer_id}@{sender_address(mail_from).domain}>"


def build_message(offer: OutgoingOffer, mail_from: str, unsubscribe_url: str | None) -> EmailMessage:
    """The e-mail for one offer; MessageError (one line, no personal value) when the record cannot make one:
    an address that is not one plain address, a line break or control character in a name or subject."""
    sender = sender_address(mail_from)
    problem = address_problem(offer.email)
    if problem:
        raise MessageError(f"customer {offer.customer_id}: {problem}")
    problem = control_problem(offer.name or "")
    if problem:
        raise MessageError(f"customer {offer.customer_id}: the name {problem}")
    for part, value, long_text in (("subject", offer.subject, False), ("message", offer.message, True)):
        problem = control_problem(value, long_text)
        if problem:
            raise MessageError(f"the offer's {part} {problem}")
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = Address(offer.name or "", *offer.email.rsplit("@", 1))
    msg["Subject"] = offer.subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id(offer.offer_id, mail_from)
    mailto = f"<mailto:{sender.addr_spec}?subject={quote(f'unsubscribe {offer.customer_id}')}>"
    if unsubscribe_url:
        link = unsubscribe_url.format(customer_id=quote(offer.customer_id), offer_id=quote(offer.offer_id))
        msg["List-Unsubscribe"] = f"<{link}>, {mailto}"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    else:
        msg["List-Unsubscribe"] = mailto
    msg["X-Winback-Offer"] = offer.offer_id
    if offer.campaign_id:
        msg["X-Winback-Campaign"] = offer.campaign_id
    msg.set_content(offer.message)
    return msg
