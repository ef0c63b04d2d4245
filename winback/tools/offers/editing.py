"""A person's edit of a drafted offer: saved only when the text still holds exactly the policy's offer
(value, code, validity) and nothing more — the same validation a model's draft passes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, insert, select, update

from winback.data.schema import Offer, OfferEvent
from winback.errors import UserError
from winback.tools.offers.facts import load_facts
from winback.tools.offers.policy import OfferPolicy
from winback.tools.offers.terms import OfferTerms
from winback.tools.offers.validation import Draft, validate_draft


class OfferEditRefused(UserError, ValueError):
    """The edit cannot be saved; the message lists every problem."""


def _offer(engine: Engine, offer_id: str) -> Offer:
    with engine.connect() as connection:
        row = connection.execute(select(Offer).where(Offer.offer_id == offer_id.strip())).first()
    if row is None:
        raise OfferEditRefused(f"no offer with id {offer_id.strip()!r}")
    return row  # type: ignore[return-value]


def check_offer_text(engine: Engine, policy: OfferPolicy, offer_id: str, subject: str, message: str) -> list[str]:
    """Problems with this text for this saved offer; empty when it may be saved or approved."""
    offer = _offer(engine, offer_id)
    terms = OfferTerms(offer.offer_type, float(offer.value), policy.currency, offer.redeem_code,
                       offer.valid_until or offer.created_at)
    facts = load_facts(engine, offer.customer_id, terms)
    return validate_draft(Draft(subject.strip(), message.strip()), facts, offer.channel)


def save_edited_draft(engine: Engine, policy: OfferPolicy, offer_id: str, subject: str, message: str,
                      actor: str, now: datetime | None = None) -> Offer:
    """Replace a draft's text after validation, with an `edited` audit event. Raises OfferEditRefused."""
    offer = _offer(engine, offer_id)
    if offer.status != "draft":
        raise OfferEditRefused(f"offer {offer.offer_id} is {offer.status}; only drafts can be edited")
    problems = check_offer_text(engine, policy, offer_id, subject, message)
    if problems:
        raise OfferEditRefused(f"offer {offer.offer_id} not saved: " + "; ".join(problems))
    now = (now or datetime.now()).replace(microsecond=0)
    with engine.begin() as connection:
        connection.execute(update(Offer).where(Offer.offer_id == offer.offer_id).values(
            subject=subject.strip(), message=message.strip(), draft_source="person"))
        connection.execute(insert(OfferEvent).values(
            offer_id=offer.offer_id, at=now, actor=actor, action="edited",
            details={"previous_subject": offer.subject, "previous_source": offer.draft_source},
        ))
    return _offer(engine, offer.offer_id)
