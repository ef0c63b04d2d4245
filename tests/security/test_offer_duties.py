"""Separation of duties on offers (S9, S10, S13, S14) and conversation ownership (S15)."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import Engine, insert, select

from tests.tools.conftest import shop  # noqa: F401 - the scored 300-customer shop fixture
from winback.config import Settings
from winback.data.conversations import SessionNotFound, create_session, load_own_messages
from winback.data.schema import Customer, Offer
from winback.offers.drafting import OfferDrafter
from winback.offers.editing import OfferEditRefused, decide_offer, save_edited_draft, shown_text
from winback.offers.policy import load_policy
from winback.roles import Role
from winback.tools import Services, ToolContext, default_registry
from winback.tools.names import ToolName


def _drafts(engine: Engine, settings: Settings, n: int, actor: str = "sam") -> list[Offer]:
    drafter = OfferDrafter(engine, settings, None)
    with engine.connect() as connection:
        ids = list(connection.scalars(select(Customer.customer_id).where(Customer.closed_at.is_(None)).limit(80)))
    offers = []
    for customer_id in ids:
        outcome = drafter.draft(customer_id, actor=actor)
        if outcome.offer_id:
            with engine.connect() as connection:
                offers.append(connection.execute(select(Offer).where(Offer.offer_id == outcome.offer_id)).one())
        if len(offers) == n:
            return offers
    raise AssertionError("not enough customers eligible for an offer")


def test_only_roles_with_personal_data_draft(shop: tuple[Engine, Settings]) -> None:  # noqa: F811
    engine, settings = shop
    registry = default_registry()
    services = Services(settings)
    with engine.connect() as connection:
        customer = connection.scalars(select(Customer.customer_id).limit(1)).one()
    for role in (Role.CS_STAFF, Role.MANAGER):
        call = registry.call(ToolName.DRAFT_OFFER, {"customer_id": customer}, ToolContext(services, role, "x"))
        assert not call.ok and "may not" in call.result.summary


def test_approval_needs_an_approver_who_did_not_write_the_offer(shop: tuple[Engine, Settings]) -> None:  # noqa: F811
    engine, settings = shop
    policy = load_policy(settings.data_dir)
    offer = _drafts(engine, settings, 1)[0]
    for role in (Role.CS_STAFF, Role.SUPPORT_AGENT):
        with pytest.raises(OfferEditRefused, match="may not approve or reject"):
            decide_offer(engine, policy, offer.offer_id, "approve", "carol", role=role)
    with pytest.raises(OfferEditRefused, match="sam drafted or last edited"):
        decide_offer(engine, policy, offer.offer_id, "approve", "sam", role=Role.ADMIN)  # an admin drafter too
    edited = offer.message.replace("\n\n", "\n\nThank you for staying with us.\n\n", 1)
    with pytest.raises(
        OfferEditRefused, match="was not approved: its text was changed here"
    ):  # no edit-and-approve in one step
        decide_offer(engine, policy, offer.offer_id, "approve", "ada", role=Role.ADMIN, message=edited)
    save_edited_draft(engine, policy, offer.offer_id, offer.subject, edited, "ada")
    with pytest.raises(OfferEditRefused, match="ada drafted or last edited"):
        decide_offer(engine, policy, offer.offer_id, "approve", "ada", role=Role.ADMIN)
    approved = decide_offer(engine, policy, offer.offer_id, "approve", "maria", role=Role.MANAGER)
    assert (approved.status, approved.decided_by) == ("approved", "maria")
    assert approved.message == edited  # the manager approved the stored text, not the masked one she saw


def test_approvers_without_personal_data_see_initials_and_cannot_edit(shop: tuple[Engine, Settings]) -> None:  # noqa: F811
    engine, settings = shop
    policy = load_policy(settings.data_dir)
    offer = _drafts(engine, settings, 1)[0]
    with engine.connect() as connection:
        name = connection.scalars(select(Customer.name).where(Customer.customer_id == offer.customer_id)).one()
    first = name.split()[0]
    assert first in offer.message
    subject, message = shown_text(engine, offer, Role.MANAGER)
    assert first not in subject and first not in message and f"{first[0]}." in message
    assert shown_text(engine, offer, Role.SUPPORT_AGENT) == (offer.subject, offer.message)
    with pytest.raises(OfferEditRefused, match="names masked and may not edit"):
        decide_offer(engine, policy, offer.offer_id, "approve", "maria", role=Role.MANAGER, message=message + " Hi!")
    rejected = decide_offer(
        engine, policy, offer.offer_id, "reject", "maria", role=Role.MANAGER, subject=subject, message=message
    )
    assert rejected.status == "rejected"


@pytest.mark.parametrize(
    "addition",
    [
        "Log in at https://winback-secure.example/login to claim it.",
        "Visit www.claim-now.com today.",
        "Call us on +44 20 7946 0958.",
        "Write to refunds@evil.example for the rest.",
        "Confirm at shop-login.top/verify first.",  # any top-level domain, not a list of 25 (issue 36)
        "Details: evil.pl/konto",
        "Go to evil\u2024com for more.",  # a one-dot leader that reads as a dot
    ],
)
def test_offer_text_with_links_phones_or_addresses_is_refused(shop: tuple[Engine, Settings], addition: str) -> None:  # noqa: F811
    engine, settings = shop
    policy = load_policy(settings.data_dir)
    offer = _drafts(engine, settings, 1)[0]
    with pytest.raises(OfferEditRefused, match="must not appear"):
        save_edited_draft(engine, policy, offer.offer_id, offer.subject, offer.message + " " + addition, "ada")
    allowed = policy.model_copy(update={"contacts_allowed": ["+44 20 7946 0958"]})
    if "+44" in addition:
        save_edited_draft(engine, allowed, offer.offer_id, offer.subject, offer.message + " " + addition, "ada")
        with pytest.raises(OfferEditRefused, match="must not appear"):  # approval checks the stored text again
            decide_offer(engine, policy, offer.offer_id, "approve", "maria", role=Role.MANAGER)
        approved = decide_offer(engine, allowed, offer.offer_id, "approve", "maria", role=Role.MANAGER)
        assert approved.status == "approved"


def test_two_approvals_at_once_keep_one_offer_per_customer(shop: tuple[Engine, Settings]) -> None:  # noqa: F811
    engine, settings = shop
    policy = load_policy(settings.data_dir)
    first = _drafts(engine, settings, 1)[0]
    # two agents drafted for the same customer at the same moment: both drafts exist
    copy = {c: getattr(first, c) for c in (col.name for col in Offer.__table__.columns)} | {
        "offer_id": first.offer_id + "-2"
    }
    with engine.begin() as connection:
        connection.execute(insert(Offer).values(**copy))
    second = type("Second", (), {"offer_id": copy["offer_id"]})
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def approve(offer_id: str, who: str) -> None:
        barrier.wait()
        try:
            decide_offer(engine, policy, offer_id, "approve", who, role=Role.MANAGER)
            outcomes.append("approved")
        except OfferEditRefused as exc:
            outcomes.append(str(exc))

    threads = [
        threading.Thread(target=approve, args=(first.offer_id, "maria")),
        threading.Thread(target=approve, args=(second.offer_id, "mark")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("approved") == 1, outcomes
    assert any("already has an approved or sent offer" in o for o in outcomes), outcomes


def test_a_conversation_continues_only_for_its_owner_in_its_role(shop: tuple[Engine, Settings]) -> None:  # noqa: F811
    engine, _ = shop
    session = create_session(engine, "sam", "support_agent", "C-1 profile")
    assert load_own_messages(engine, session, "sam", "support_agent") == []
    for user, role in (("carol", "cs_staff"), ("sam", "cs_staff"), ("maria", "support_agent")):
        with pytest.raises(SessionNotFound, match="no conversation with id"):
            load_own_messages(engine, session, user, role)


def test_tool_data_names_no_customer_to_roles_without_personal_data(shop: tuple[Engine, Settings]) -> None:  # noqa: F811
    """Offer subjects greet by first name: whatever a tool returns (text, summary, data for screens and
    `--json`) to cs_staff or a manager shows the customers it is about by initials only."""
    engine, settings = shop
    offers = _drafts(engine, settings, 2)
    registry, services = default_registry(), Services(settings)
    with engine.connect() as connection:
        names = dict(
            connection.execute(
                select(Customer.customer_id, Customer.name).where(
                    Customer.customer_id.in_([o.customer_id for o in offers])
                )
            ).all()
        )
    calls = [(ToolName.OFFER_HISTORY, {"limit": 50})] + [
        (ToolName.CUSTOMER_PROFILE, {"customer_id": o.customer_id}) for o in offers
    ]
    for role in (Role.CS_STAFF, Role.MANAGER, Role.SUPPORT_AGENT):
        for tool, args in calls:
            call = registry.call(tool, args, ToolContext(services, role, "tester"))
            assert call.ok, call.result.summary
            shown = call.result.summary + call.result.text + str(call.result.data)
            parts = [part for name in names.values() for part in name.split()]
            found = [part for part in parts if re.search(rf"(?<!\w){re.escape(part)}(?!\w)", shown)]
            if role is Role.SUPPORT_AGENT:
                assert found  # the drafters' roles see the subjects as written
            else:
                assert not found, (role, tool)


def test_the_policy_check_tells_an_approver_nothing_about_a_guessed_name(shop: tuple[Engine, Settings]) -> None:  # noqa: F811
    """A manager sees the greeting as initials; checking a text with a guessed first name must answer the same
    whether the guess is right or wrong (else "must greet the customer by name" is a name oracle)."""
    from winback.ui.views import Views

    engine, settings = shop
    offer = _drafts(engine, settings, 1)[0]
    with engine.connect() as connection:
        first = connection.scalar(select(Customer.name).where(Customer.customer_id == offer.customer_id)).split()[0]
    views = Views(Services(settings), default_registry())
    subject, message = shown_text(engine, offer, Role.MANAGER)
    initial = f"{first[0]}."
    assert initial in message and first not in message

    def check(name: str) -> tuple[list[str], str]:
        return views.check_offer(Role.MANAGER, offer.offer_id, subject, message.replace(initial, name, 1))

    assert check(first) == check("Zebedee") == check("Quentin")
    assert check(first)[0] == [] and check(first)[1].startswith("Your changes to the text were not kept")
    assert views.check_offer(Role.MANAGER, offer.offer_id, subject, message) == ([], "")  # as drafted: it passes
