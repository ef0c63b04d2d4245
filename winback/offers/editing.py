"""A person's edit of a drafted offer: saved only when the text still holds exactly the policy's offer
(value, code, validity) and nothing more — the same validation a model's draft passes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, insert, select, text, update

from winback.data.db import write_transaction
from winback.data.schema import Customer, Offer, OfferEvent
from winback.errors import UserError
from winback.offers.facts import load_facts
from winback.offers.policy import OfferPolicy, OfferRule
from winback.offers.terms import NO_INCENTIVE, OfferTerms
from winback.offers.validation import Draft, validate_draft
from winback.roles import ROLES_THAT_APPROVE, Role, mask_name_in_text, may_see_pii, parse_role

DECISION_LOCK = 0x77696E6261636B  # "winback": the advisory lock key of offer decisions on PostgreSQL


class OfferEditRefused(UserError, ValueError):
    """The edit cannot be saved; the message lists every problem."""


def load_offer(engine: Engine, offer_id: str) -> Offer:
    with engine.connect() as connection:
        row = connection.execute(select(Offer).where(Offer.offer_id == offer_id.strip())).first()
    if row is None:
        raise OfferEditRefused(f"no offer with id {offer_id.strip()!r}")
    return row  # type: ignore[return-value]  # a Row of Offer's columns, read like an Offer


def check_offer_text(engine: Engine, policy: OfferPolicy, offer_id: str, subject: str, message: str) -> list[str]:
    """Problems with this text for this saved offer; empty when it may be saved or approved."""
    offer = load_offer(engine, offer_id)
    terms = OfferTerms(
        offer.offer_type,
        float(offer.value),
        policy.currency,
        offer.redeem_code,
        offer.valid_until or offer.created_at,
        offer.language or "en",
    )
    facts = load_facts(engine, offer.customer_id, terms)
    return validate_draft(
        Draft(subject.strip(), message.strip()), facts, offer.channel, frozenset(policy.contacts_allowed)
    )


def save_edited_draft(
    engine: Engine,
    policy: OfferPolicy,
    offer_id: str,
    subject: str,
    message: str,
    actor: str,
    now: datetime | None = None,
) -> Offer:
    """Replace a draft's text after validation, with an `edited` audit event. Raises OfferEditRefused."""
    offer = load_offer(engine, offer_id)
    if offer.status != "draft":
        raise OfferEditRefused(f"offer {offer.offer_id} is {offer.status}; only drafts can be edited")
    problems = check_offer_text(engine, policy, offer_id, subject, message)
    if problems:
        raise OfferEditRefused(f"offer {offer.offer_id} not saved: " + "; ".join(problems))
    now = (now or datetime.now()).replace(microsecond=0)
    with write_transaction(engine) as connection:
        _record_edit(connection, offer, subject.strip(), message.strip(), actor, now)
    return load_offer(engine, offer.offer_id)


def _record_edit(connection: Connection, offer: Offer, subject: str, message: str, actor: str, now: datetime) -> None:
    """A person's text replaces the draft's, with an `edited` event saying what it replaced."""
    connection.execute(
        update(Offer)
        .where(Offer.offer_id == offer.offer_id)
        .values(subject=subject, message=message, draft_source="person")
    )
    connection.execute(
        insert(OfferEvent).values(
            offer_id=offer.offer_id,
            at=now,
            actor=actor,
            action="edited",
            details={"previous_subject": offer.subject, "previous_source": offer.draft_source},
        )
    )


def policy_problems(engine: Engine, policy: OfferPolicy, offer: Offer, now: datetime) -> list[str]:
    """What the policy says against approving this offer now: its value must still be the policy's value
    for its type and the customer's segment (a message without an incentive: none), and its expected cost
    must fit this month's budget."""
    from sqlalchemy import func

    from winback.offers.choice import month_to_date

    problems: list[str] = []
    with engine.connect() as connection:
        segment = connection.execute(
            select(Customer.segment).where(Customer.customer_id == offer.customer_id)
        ).scalar_one()
        rules: dict[str, OfferRule] = {r.type: r for r in policy.offers}
        rule = rules.get(offer.offer_type)
        if offer.offer_type == NO_INCENTIVE:
            if float(offer.value) != 0 or offer.redeem_code:
                problems.append("a message without an incentive must have no value and no code")
        elif rule is None:
            problems.append(f"the policy no longer has offers of type {offer.offer_type}")
        elif abs(float(offer.value) - policy.capped_value(rule, segment)) > 1e-9:
            problems.append(
                f"its value {float(offer.value):g} is not the policy's {policy.capped_value(rule, segment):g} "
                f"for {offer.offer_type} in segment {segment}"
            )
        earlier = connection.execute(
            select(func.count()).where(
                Offer.customer_id == offer.customer_id,
                Offer.offer_id != offer.offer_id,
                Offer.status.in_(("approved", "sent", "redeemed")),
            )
        ).scalar_one()
    if earlier:
        problems.append(f"{offer.customer_id} already has an approved or sent offer")
    month = month_to_date(engine, now)
    cost = float(offer.expected_cost or 0)
    if month.spent + cost > policy.monthly_budget + 1e-9:
        problems.append(
            f"its expected cost {cost:,.2f} exceeds what is left of this month's budget "
            f"({policy.monthly_budget - month.spent:,.2f})"
        )
    return problems


def last_writers(engine: Engine, offer: Offer) -> set[str]:
    """Who drafted the offer and who last edited its text: none of them may decide it."""
    with engine.connect() as connection:
        editor = connection.execute(
            select(OfferEvent.actor)
            .where(OfferEvent.offer_id == offer.offer_id, OfferEvent.action == "edited")
            .order_by(OfferEvent.event_id.desc())
            .limit(1)
        ).scalar()
    return {offer.created_by, *([editor] if editor else [])}


def _customer_name(engine: Engine, customer_id: str) -> str:
    with engine.connect() as connection:
        name = connection.execute(select(Customer.name).where(Customer.customer_id == customer_id)).scalar()
    return name or ""


def masked_for(engine: Engine, customer_id: str, role: str | Role, text: str) -> str:
    """`text` about this customer as `role` may read it: the customer's name as initials without personal data."""
    return text if may_see_pii(role) else mask_name_in_text(text, _customer_name(engine, customer_id))


def shown_text(engine: Engine, offer: Offer, role: str | Role) -> tuple[str, str]:
    """The offer's subject and message as this role may read them (the name read once for both)."""
    if may_see_pii(role):
        return offer.subject, offer.message
    name = _customer_name(engine, offer.customer_id)
    return mask_name_in_text(offer.subject, name), mask_name_in_text(offer.message, name)


def _lock_decisions(connection: Connection) -> None:
    """One decision at a time, so policy checks (one approved offer per customer, the monthly budget) hold
    when two people approve at once: SQLite's write transaction is already exclusive; PostgreSQL takes a
    transaction-level advisory lock."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DECISION_LOCK})


def decide_offer(
    engine: Engine,
    policy: OfferPolicy,
    offer_id: str,
    action: str,
    actor: str,
    *,
    role: str | Role,
    subject: str | None = None,
    message: str | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Offer:
    """Approve or reject a draft, as `actor` with `role`. Only approver roles decide, never the person who
    drafted or last edited the offer, and never on text changed in the same step (`subject`/`message` are
    what the decider saw: an edit is saved first, then another person approves). Approval checks the stored
    text and the policy again under the decision lock, and refuses text edited since it was read. Raises
    OfferEditRefused."""
    role = parse_role(role)
    if action not in ("approve", "reject"):
        raise OfferEditRefused(f"unknown action {action!r}: approve or reject")
    if role not in ROLES_THAT_APPROVE:
        raise OfferEditRefused(
            f"the {role.value} role may not approve or reject offers; a manager or admin decides (another person)"
        )
    offer = load_offer(engine, offer_id)
    if offer.status != "draft":
        raise OfferEditRefused(f"offer {offer.offer_id} is already {offer.status}")
    if actor in last_writers(engine, offer):
        raise OfferEditRefused(
            f"{actor} drafted or last edited offer {offer.offer_id}; another person must approve or reject it"
        )
    now = (now or datetime.now()).replace(microsecond=0)
    seen_subject, seen_message = shown_text(engine, offer, role)
    subject = (subject if subject is not None else seen_subject).strip()
    message = (message if message is not None else seen_message).strip()
    edited = (subject, message) != (seen_subject.strip(), seen_message.strip())
    if edited and not may_see_pii(role):
        raise OfferEditRefused(
            f"offer {offer.offer_id}: the {role.value} role sees the text with names masked and may not edit it; "
            "approve or reject it as drafted, or ask the drafter to edit"
        )
    if edited and action == "approve":  # editing and approving in one step would approve one's own words
        raise OfferEditRefused(
            f"offer {offer.offer_id} was not approved: its text was changed here. Save the edit (it is still in "
            "the editor); then someone other than you approves it (whoever changes an offer does not approve it)"
        )
    read = (offer.subject, offer.message)  # a decision is on the stored text (a rejection drops edits)
    status = "approved" if action == "approve" else "rejected"
    with write_transaction(engine) as connection:
        _lock_decisions(connection)
        offer = load_offer(engine, offer.offer_id)  # as it is now, under the lock
        if offer.status != "draft":
            raise OfferEditRefused(f"offer {offer.offer_id} is already {offer.status}")
        if action == "approve" and ((offer.subject, offer.message) != read or actor in last_writers(engine, offer)):
            raise OfferEditRefused(
                f"offer {offer.offer_id} was changed while you were reviewing it; your approval was not recorded. "
                "Open it again to review the new version"
            )
        if action == "approve":
            problems = check_offer_text(engine, policy, offer.offer_id, *read) + policy_problems(
                engine, policy, offer, now
            )
            if problems:
                raise OfferEditRefused(f"offer {offer.offer_id} not approved: " + "; ".join(problems))
        connection.execute(
            update(Offer)
            .where(Offer.offer_id == offer.offer_id, Offer.status == "draft")
            .values(status=status, decided_by=actor, decided_at=now)
        )
        connection.execute(
            insert(OfferEvent).values(
                offer_id=offer.offer_id,
                at=now,
                actor=actor,
                action="approved" if action == "approve" else "rejected",
                details={"note": note} if note else None,
            )
        )
    return load_offer(engine, offer.offer_id)
