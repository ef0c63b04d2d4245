"""Approving an offer checks it again: the text as edited, the policy's value now, the budget, and who
decided is recorded; rejected and decided offers cannot be decided again."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select, update

from winback.config import Settings
from winback.data.schema import Offer, OfferEvent
from winback.offers.drafting import OfferDrafter
from winback.offers.editing import OfferEditRefused, decide_offer, save_edited_draft
from winback.offers.policy import load_policy


def _draft(engine: Engine, settings: Settings) -> Offer:
    drafter = OfferDrafter(engine, settings, None)
    with engine.connect() as connection:
        customers = list(connection.scalars(select(Offer.customer_id)))  # none yet
    assert not customers
    from winback.data.schema import Customer

    with engine.connect() as connection:
        ids = list(connection.scalars(select(Customer.customer_id).where(Customer.closed_at.is_(None)).limit(40)))
    outcome = next(o for o in (drafter.draft(c, actor="ann", without_incentive=False) for c in ids) if o.offer_id)
    with engine.connect() as connection:
        return connection.execute(select(Offer).where(Offer.offer_id == outcome.offer_id)).one()


def test_approval_rechecks_text_policy_and_budget(shop: tuple[Engine, Settings]) -> None:
    engine, settings = shop
    policy = load_policy(settings.data_dir)
    offer = _draft(engine, settings)
    with pytest.raises(OfferEditRefused, match="was not approved: its text was changed here. Save the edit"):
        decide_offer(  # an approver who edits and approves in one step would approve their own words
            engine, policy, offer.offer_id, "approve", "bob", role="admin", message=offer.message + " Thanks!"
        )
    with pytest.raises(OfferEditRefused, match="not saved"):
        save_edited_draft(
            engine, policy, offer.offer_id, offer.subject, offer.message + " Code FREE100 works too.", "bob"
        )
    with pytest.raises(OfferEditRefused, match="the subject contains a hidden line break"):
        save_edited_draft(engine, policy, offer.offer_id, "Hi\r\nBcc: x@evil.example", offer.message, "bob")
    cheaper = policy.model_copy(deep=True)
    for rule in cheaper.offers:
        rule.value = rule.value + 1  # the policy changed since the draft: its value is no longer allowed
    cheaper.caps = {}
    with pytest.raises(OfferEditRefused, match="not the policy's"):
        decide_offer(engine, cheaper, offer.offer_id, "approve", "bob", role="admin")
    tight = policy.model_copy(update={"monthly_budget": 0.01})
    with pytest.raises(OfferEditRefused, match="budget"):
        decide_offer(engine, tight, offer.offer_id, "approve", "bob", role="admin")
    with engine.begin() as connection:  # the stored text changed behind the application's back
        connection.execute(
            update(Offer).where(Offer.offer_id == offer.offer_id).values(message=offer.message + " Take 60% off!")
        )
    with pytest.raises(OfferEditRefused, match="not approved: '60%' is not the offer"):
        decide_offer(engine, policy, offer.offer_id, "approve", "bob", role="admin")
    edited = offer.message.replace("\n\n", "\n\nThank you for your patience with us.\n\n", 1)
    save_edited_draft(engine, policy, offer.offer_id, offer.subject, edited, "bob")
    with pytest.raises(OfferEditRefused, match="bob drafted or last edited"):
        decide_offer(engine, policy, offer.offer_id, "approve", "bob", role="admin")
    approved = decide_offer(engine, policy, offer.offer_id, "approve", "carol", role="admin")
    assert (approved.status, approved.decided_by, approved.draft_source) == ("approved", "carol", "person")
    assert approved.message == edited
    with engine.connect() as connection:
        events = connection.execute(
            select(OfferEvent.action, OfferEvent.actor)
            .where(OfferEvent.offer_id == offer.offer_id)
            .order_by(OfferEvent.event_id)
        ).all()
    assert [tuple(e) for e in events] == [("drafted", "ann"), ("edited", "bob"), ("approved", "carol")]
    with pytest.raises(OfferEditRefused, match="already approved"):
        decide_offer(engine, policy, offer.offer_id, "reject", "bob", role="admin")


def test_rejection_is_recorded(shop: tuple[Engine, Settings]) -> None:
    engine, settings = shop
    offer = _draft(engine, settings)
    rejected = decide_offer(
        engine, load_policy(settings.data_dir), offer.offer_id, "reject", "eve", role="manager", note="not now"
    )
    assert (rejected.status, rejected.decided_by) == ("rejected", "eve")
    with engine.begin() as connection:
        connection.execute(update(Offer).values(status="draft"))  # even forced back, a bad action is refused
    with pytest.raises(OfferEditRefused, match="unknown action"):
        decide_offer(engine, load_policy(settings.data_dir), offer.offer_id, "send", "eve", role="manager")


def test_template_drafts_still_pass_their_own_check_after_the_shop_moved_on(shop: tuple[Engine, Settings]) -> None:
    """Drafts are approved days later: by then a ticket is closed and newer orders came in, yet the date a
    draft names (a late order, a ticket, a review, the last order) is still the customer's own."""
    from winback.data.demo.advance import advance_demo
    from winback.data.schema import Customer
    from winback.offers.editing import check_offer_text

    engine, settings = shop
    policy = load_policy(settings.data_dir)
    drafter = OfferDrafter(engine, settings, None)
    with engine.connect() as connection:
        ids = list(connection.scalars(select(Customer.customer_id).where(Customer.closed_at.is_(None)).limit(80)))
    drafted = [o.offer_id for o in (drafter.draft(c, actor="ann", without_incentive=False) for c in ids) if o.offer_id]
    assert len(drafted) >= 30
    advance_demo(engine, 45)
    problems = {}
    with engine.connect() as connection:
        for offer in connection.execute(select(Offer).where(Offer.offer_id.in_(drafted))).all():
            found = check_offer_text(engine, policy, offer.offer_id, offer.subject, offer.message)
            if found:
                problems[offer.offer_id] = found
    assert not problems, problems
