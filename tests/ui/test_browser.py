"""End to end in a real browser: sign in, ask, see the right table, open the customer, see the drivers
chart, draft, edit, save; a support agent may not approve, a cs_staff user may not either, a manager approves
another person's draft (checked again against the policy) and the audit trail shows who did what; a cs_staff
login sees masked e-mails; bad input gets a sentence, never a stack trace; six wrong passwords lock a name."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import bindparam, select, text

from tests.ui.conftest import PASSWORDS
from winback.data.db import make_engine
from winback.data.schema import Customer, Offer, OfferEvent

pytestmark = [pytest.mark.slow, pytest.mark.browser]
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
OFFER: dict[str, str] = {}  # the draft the support agent leaves for a manager


def sign_in(page: Any, url: str, user: str) -> None:
    page.goto(url)
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(PASSWORDS[user])
    page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#chat-input textarea")


def try_password(page: Any, user: str, password: str) -> int:
    """One sign-in attempt, waiting for the server's answer to this very attempt (the "Incorrect" text of an
    earlier one is still on the page, so waiting for it would let the attempts race each other)."""
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(password)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.rstrip("/").endswith("/login")) as answer:
        page.get_by_role("button", name="Login").click()
    return int(answer.value.status)


def ask(page: Any, question: str, wait_for: str = "#chatbot table") -> None:
    page.locator("#chat-input textarea").fill(question)
    page.locator("#chat-input textarea").press("Enter")
    page.wait_for_selector(wait_for)


def top_ids(data_dir: Path, n: int) -> list[str]:
    with make_engine(f"sqlite:///{data_dir / 'winback.db'}").connect() as connection:
        return list(
            connection.scalars(
                text(
                    "SELECT customer_id FROM churn_scores WHERE scored_at = (SELECT MAX(scored_at) FROM churn_scores) "
                    "AND lapsed = 0 ORDER BY probability DESC, customer_id LIMIT :n"
                ),
                {"n": n},
            )
        )


def opted_in(data_dir: Path, customer_ids: list[str]) -> list[str]:
    """Those of `customer_ids` who agreed to marketing, in the order given."""
    with make_engine(f"sqlite:///{data_dir / 'winback.db'}").connect() as connection:
        agreed = set(
            connection.scalars(
                text("SELECT customer_id FROM customers WHERE marketing_opt_in AND customer_id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": customer_ids},
            )
        )
    return [c for c in customer_ids if c in agreed]


def test_support_agent_from_question_to_approved_offer(ui_server: tuple[str, Path], browser_page: Any) -> None:
    url, data_dir = ui_server
    page = browser_page
    sign_in(page, url, "sam")
    assert "sam" in page.get_by_text("Signed in as").inner_text()
    ask(page, "who is most likely to churn?")
    expected = top_ids(data_dir, 1)[0]
    first_row = page.locator("#chatbot table tbody tr").first
    assert first_row.locator("td").nth(1).inner_text().strip() == expected
    assert page.get_by_text("Used tool list_at_risk_customers").count() >= 1  # the tool step is shown
    page.locator("#chatbot").get_by_role("button", name="Like").last.click()  # thumbs up on the answer
    page.wait_for_timeout(1500)
    with make_engine(f"sqlite:///{data_dir / 'winback.db'}").connect() as connection:
        rated = connection.execute(
            text("SELECT feedback, feedback_by FROM chat_messages WHERE feedback IS NOT NULL")
        ).all()
    assert [tuple(r) for r in rated] == [("up", "sam")]

    # the customer to win back: the riskiest one who agreed to marketing (without consent no message may go out)
    expected = opted_in(data_dir, top_ids(data_dir, 10))[0]
    page.get_by_role("tab", name="At risk").click()
    page.locator("#atrisk-show").click()
    page.locator("#atrisk-table").get_by_text(expected, exact=True).locator("visible=true").first.click()
    page.wait_for_selector("#drivers-chart .js-plotly-plot")
    assert expected in page.locator("#customer-headline").inner_text()
    assert page.locator("#drivers-chart .js-plotly-plot .bars path").count() >= 1

    page.locator("#draft-offer").click()
    page.wait_for_function("document.querySelector('#offer-id input, #offer-id textarea').value.startsWith('OF-')")
    offer_id = page.locator("#offer-id input, #offer-id textarea").first.input_value()
    message = page.locator("#offer-message textarea")
    original = message.input_value()
    message.fill(original.replace("\n\n", "\n\nWe have read everything you told us.\n\n", 1) + " 50% off everything!")
    page.locator("#offer-save").click()
    page.wait_for_selector("#offer-status :text('not saved')")  # a hand-edited 50% is refused
    message.fill(original.replace("\n\n", "\n\nWe have read everything you told us.\n\n", 1))
    page.locator("#offer-save").click()
    page.wait_for_selector("#offer-status :text('Saved the edited draft')")
    page.locator("#offer-approve").click()  # a support agent may not approve, least of all their own draft
    page.wait_for_selector("#offer-status :text('may not approve or reject')")
    OFFER["id"] = offer_id

    with make_engine(f"sqlite:///{data_dir / 'winback.db'}").connect() as connection:
        offer = connection.execute(select(Offer).where(Offer.offer_id == offer_id)).one()
    assert offer.customer_id == expected and offer.status == "draft" and offer.draft_source == "person"
    assert "We have read everything you told us." in offer.message and "50%" not in offer.message


def open_offer(page: Any, offer_id: str) -> None:
    page.get_by_role("tab", name="Customer").click()
    page.locator("#offer-id input, #offer-id textarea").first.fill(offer_id)
    page.locator("#offer-open").click()
    page.wait_for_selector(f"#offer-status :text('Offer {offer_id}')")


def test_cs_staff_cannot_approve_and_a_manager_approves_another_persons_draft(
    ui_server: tuple[str, Path], browser_page: Any
) -> None:
    url, data_dir = ui_server
    offer_id = OFFER.get("id")
    assert offer_id, "the support agent's test drafts the offer first"
    page = browser_page
    sign_in(page, url, "carol")
    open_offer(page, offer_id)
    page.locator("#offer-approve").click()
    page.wait_for_selector("#offer-status :text('may not approve or reject')")
    page.context.clear_cookies()

    sign_in(page, url, "maria")
    open_offer(page, offer_id)
    engine = make_engine(f"sqlite:///{data_dir / 'winback.db'}")
    with engine.connect() as connection:
        offer = connection.execute(select(Offer).where(Offer.offer_id == offer_id)).one()
        name = connection.execute(select(Customer.name).where(Customer.customer_id == offer.customer_id)).scalar_one()
    shown = page.locator("#offer-message textarea").input_value()
    assert name.split()[0] not in shown and f"{name.split()[0][0]}." in shown  # a manager sees initials
    page.locator("#offer-check").click()
    page.wait_for_selector("#offer-status :text('Policy check: passed')")
    page.locator("#offer-approve").click()
    page.wait_for_selector("#offer-status :text('approved by maria')")
    with engine.connect() as connection:
        offer = connection.execute(select(Offer).where(Offer.offer_id == offer_id)).one()
        events = connection.execute(
            select(OfferEvent.action, OfferEvent.actor)
            .where(OfferEvent.offer_id == offer_id)
            .order_by(OfferEvent.event_id)
        ).all()
    assert offer.status == "approved" and offer.decided_by == "maria" and name.split()[0] in offer.message
    assert [tuple(e) for e in events] == [("drafted", "sam"), ("edited", "sam"), ("approved", "maria")]


def test_cs_staff_sees_masked_emails(ui_server: tuple[str, Path], browser_page: Any) -> None:
    url, data_dir = ui_server
    page = browser_page
    sign_in(page, url, "carol")
    customer = top_ids(data_dir, 2)[1]
    ask(page, f"tell me about {customer}", wait_for="#chatbot :text('•••@')")
    chat = page.locator("#chatbot").inner_text()
    assert customer in chat
    assert not [e for e in EMAIL.findall(chat) if "•" not in e]
    page.get_by_role("tab", name="Customer").click()
    page.locator("#customer-id textarea, #customer-id input").first.fill(customer)
    page.locator("#customer-open").click()
    page.wait_for_selector("#customer-card :text('•••@')")
    assert not [e for e in EMAIL.findall(page.locator("#customer-card").inner_text()) if "•" not in e]


def test_bad_input_gets_a_sentence(ui_server: tuple[str, Path], browser_page: Any) -> None:
    url, _ = ui_server
    page = browser_page
    sign_in(page, url, "maria")
    ask(page, "x" * 50_000, wait_for="#chatbot :text('characters long')")
    ask(page, "which product ids are reviewed most often?", wait_for="#chatbot :text('need the LLM')")
    page.get_by_role("tab", name="Customer").click()
    page.locator("#customer-id textarea, #customer-id input").first.fill("C-99999999")  # e.g. from a stale table
    page.locator("#customer-open").click()
    page.wait_for_selector("#customer-headline :text('no customer with id')")
    assert "Traceback" not in page.content()


def test_a_metric_answer_carries_its_chart(ui_server: tuple[str, Path], browser_page: Any) -> None:
    url, _ = ui_server
    page = browser_page
    sign_in(page, url, "maria")
    ask(page, "revenue by country in the last 90 days", wait_for="#chatbot .js-plotly-plot")
    assert "last 90 days = orders" in page.locator("#chatbot").inner_text()
    assert "Revenue by country" in (page.locator("#chatbot .js-plotly-plot").first.text_content() or "")


def test_six_wrong_passwords_lock_the_name_out(ui_server: tuple[str, Path], browser_page: Any) -> None:
    """lucas, a cs staff user no other test signs in as: the name stays locked for 15 minutes."""
    url, data_dir = ui_server
    page = browser_page
    page.goto(url)
    for attempt in range(6):
        assert try_password(page, "lucas", f"wrong-password-{attempt}") >= 400
    assert try_password(page, "lucas", PASSWORDS["lucas"]) >= 400  # the right password, refused while locked
    page.wait_for_load_state("networkidle")
    assert page.locator("#chat-input textarea").count() == 0  # still on the sign-in page
    assert "locked for 15 minutes" in page.content()  # the rule is on the sign-in page
    audit = (data_dir / "audit.log").read_text()
    assert "locked out for 900 s after 5 failures: user:lucas" in audit
    assert "sign-in refused (locked out" in audit


def test_a_manager_starts_a_campaign_and_reads_its_report(ui_server: tuple[str, Path], browser_page: Any) -> None:
    url, data_dir = ui_server
    page = browser_page
    sign_in(page, url, "maria")
    page.get_by_role("tab", name="Campaigns").click()
    page.get_by_text("New campaign (managers)").click()
    page.get_by_label("Name").fill("ui-browser")
    page.get_by_label("Customers").fill("40")
    page.locator("#campaign-start").click()
    page.wait_for_selector("#campaign-status :text('Started campaign')")
    expect(page.locator("#campaigns-table")).to_contain_text("ui-browser", timeout=60_000)
    page.locator("#campaign-name textarea").fill("ui-browser")
    page.locator("#campaign-report").click()
    page.wait_for_selector("#campaign-report-text :text('nothing sent yet')")
    page.locator("#campaign-approve").click()
    page.wait_for_selector("#campaign-status :text('Approved 0 offers')")  # her own drafts: not by her
    with make_engine(f"sqlite:///{data_dir / 'winback.db'}").connect() as connection:
        arms = dict(
            connection.execute(
                text("SELECT arm, count(*) FROM campaign_members WHERE campaign_id = 'ui-browser' GROUP BY arm")
            ).all()
        )
    assert arms["treatment"] + arms["holdout"] == 40 and 6 <= arms["holdout"] <= 10  # 20 % of each risk band


def test_a_forwarded_address_is_believed_only_from_a_configured_proxy(ui_server: tuple[str, Path]) -> None:
    """The run's UI has no WINBACK_TRUSTED_PROXIES: an X-Forwarded-For sent from this machine changes neither
    the lockout's client nor the audit line (uvicorn's default would believe loopback)."""
    import httpx

    url, data_dir = ui_server
    response = httpx.post(
        f"{url}/login",
        data={"username": "forger", "password": "wrong"},
        headers={"X-Forwarded-For": "203.0.113.9"},
        timeout=60,
    )
    assert response.status_code >= 400
    audit = (data_dir / "audit.log").read_text()
    assert "sign-in failed: user='forger' client=127.0.0.1" in audit
    assert "203.0.113.9" not in audit
