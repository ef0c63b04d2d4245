"""Campaigns end to end on a scored 3,000-customer demo: the holdout split, approval, sending through a
real SMTP server on 127.0.0.1 (at most once, resumable after a kill), outcomes after `demo advance`, the
lift and its interval against the simulator's planted truth, and save rates learned from lift."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, func, select, update

from tests.cli_runner import invoke
from tests.offers.smtp_server import Recorder, smtp_server
from winback.config import Settings
from winback.data.db import make_engine
from winback.data.demo.advance import AdvanceError, advance_demo
from winback.data.schema import CampaignMember, Customer, Offer, OfferSend, Order
from winback.offers.campaign_store import CampaignError
from winback.offers.campaigns import CohortArgs, approve_campaign, create_campaign, holdout_split
from winback.offers.channels import OutboxChannel, SmtpChannel
from winback.offers.drafting import OfferDrafter
from winback.offers.outcomes import campaign_report
from winback.offers.policy import load_policy
from winback.offers.sending import send_campaign

ShopFactory = Callable[[], Settings]


def _engine(settings: Settings) -> Engine:
    return make_engine(settings.database_url)


def _create(settings: Settings, name: str = "oct", top: int = 600, seed: int = 3, **cohort: object) -> Engine:
    engine = _engine(settings)
    policy = load_policy(settings.data_dir)
    drafter = OfferDrafter(engine, settings, None)
    create_campaign(engine, policy, drafter, name, CohortArgs(top=top, **cohort), 0.2, seed, actor="drafter")
    approve_campaign(engine, policy, name, "maria", "manager")
    return engine


def _expected_recipients(engine: Engine, name: str) -> set[str]:
    """Approved treatment offers to customers who accept marketing and are still open."""
    with engine.connect() as connection:
        return set(
            connection.scalars(
                select(Customer.email)
                .join(CampaignMember, CampaignMember.customer_id == Customer.customer_id)
                .join(Offer, Offer.offer_id == CampaignMember.offer_id)
                .where(
                    CampaignMember.campaign_id == name,
                    CampaignMember.arm == "treatment",
                    Offer.status.in_(("approved", "sent")),
                    Customer.marketing_opt_in.is_(True),
                    Customer.closed_at.is_(None),
                )
            )
        )


def test_the_holdout_split_is_stratified_by_band_and_reproducible() -> None:
    members = [(f"C-{i}", "critical" if i % 3 else "high") for i in range(1000)]
    split = holdout_split(members, seed=7, campaign_id="x", share=0.2)
    again = holdout_split(list(reversed(members)), seed=7, campaign_id="x", share=0.2)
    assert split == again  # order of the input does not matter: the draws do
    per_band = Counter((band, split[c][0]) for c, band in members)
    assert per_band[("critical", "holdout")] == round(0.2 * 666) and per_band[("high", "holdout")] == round(0.2 * 334)
    other = holdout_split(members, seed=8, campaign_id="x", share=0.2)
    assert {c for c, (arm, _) in other.items() if arm == "holdout"} != {
        c for c, (arm, _) in split.items() if arm == "holdout"
    }


def test_a_campaign_splits_drafts_only_for_treatment_and_sends_over_smtp(demo_shop_factory: ShopFactory) -> None:
    settings = demo_shop_factory()
    engine = _create(settings)
    with engine.connect() as connection:
        arms = dict(
            connection.execute(
                select(CampaignMember.arm, func.count())
                .where(CampaignMember.campaign_id == "oct")
                .group_by(CampaignMember.arm)
            ).all()
        )
        holdout_offers = connection.execute(
            select(func.count()).where(CampaignMember.arm == "holdout", CampaignMember.offer_id.is_not(None))
        ).scalar_one()
    assert arms == {"treatment": 480, "holdout": 120} and holdout_offers == 0
    expected = _expected_recipients(engine, "oct")
    assert len(expected) > 30
    with smtp_server() as (url, recorder):
        report = send_campaign(engine, settings, load_policy(settings.data_dir), "oct", SmtpChannel(url, settings))
        again = send_campaign(engine, settings, load_policy(settings.data_dir), "oct", SmtpChannel(url, settings))
    got = [r.recipients[0] for r in recorder.messages]
    assert sorted(got) == sorted(expected)  # exactly the approved, opted-in treatment members, once each
    assert report.sent == len(expected) and again.sent == 0 and again.already_sent == len(expected)
    first = recorder.messages[0].message
    assert first["List-Unsubscribe"].startswith("<mailto:") and first["Message-ID"].startswith("<OF-")
    assert first["Subject"] and first.get_content().strip()
    with engine.connect() as connection:
        statuses = Counter(connection.scalars(select(OfferSend.status)))
        provider = connection.scalars(select(OfferSend.provider_id)).first()
    assert statuses == {"sent": len(expected)} and provider and "queued as" in provider


def test_two_senders_at_once_deliver_each_message_once(demo_shop_factory: ShopFactory) -> None:
    """The same campaign sent by two runs at the same time (two managers at the CLI) and by the UI's button
    pressed twice, through a mail server that answers slowly: every approved message arrives once, counted
    by Message-ID at the server."""
    from concurrent.futures import ThreadPoolExecutor

    from winback.roles import Role
    from winback.tools import Services, default_registry
    from winback.ui.views import Views

    settings = demo_shop_factory()
    engine = _create(settings)
    expected = _expected_recipients(engine, "oct")

    def run(which: int) -> int:
        if which < 2:
            report = send_campaign(
                _engine(settings), settings, load_policy(settings.data_dir), "oct", SmtpChannel(url, settings)
            )
            assert not report.failed
            return report.sent
        views = Views(Services(settings.model_copy(update={"smtp_url": url})), default_registry())
        screen = views.send_campaign(Role.MANAGER, "maria", "oct")
        assert screen.ok and "failed" not in screen.message, screen.message
        return int(re.search(r"(\d+) sent", screen.message).group(1))  # "**Campaign oct: 12 sent · ..."

    with smtp_server(Recorder(delay_s=0.02)) as (url, recorder), ThreadPoolExecutor(max_workers=4) as pool:
        sent = list(pool.map(run, range(4)))
    delivered = Counter(str(r.message["Message-ID"]) for r in recorder.messages)
    assert len(delivered) == len(expected) > 30 and set(delivered.values()) == {1}, delivered.most_common(3)
    assert sorted(r.recipients[0] for r in recorder.messages) == sorted(expected)
    assert sum(sent) == len(expected) and sum(1 for n in sent if n) >= 2  # the work was shared, not serial


def test_a_bad_record_is_one_failed_message_and_the_batch_goes_on(demo_shop_factory: ShopFactory) -> None:
    """A line break in one member's name (a header injection if it reached the message) and a malformed
    address in another: those two are recorded as failed with a reason, every other message goes out, and the
    exit status says not everything was delivered."""
    settings = demo_shop_factory()
    engine = _create(settings)
    expected = sorted(_expected_recipients(engine, "oct"))
    with engine.begin() as connection:
        broken_name, broken_address = connection.scalars(
            select(Customer.customer_id).where(Customer.email.in_(expected[:2])).order_by(Customer.customer_id)
        ).all()
        connection.execute(
            update(Customer).where(Customer.customer_id == broken_name).values(name="Ann\r\nBcc: x@evil.example")
        )
        connection.execute(
            update(Customer).where(Customer.customer_id == broken_address).values(email="bob@@example.com")
        )
    env = {"WINBACK_DATA_DIR": str(settings.data_dir)}
    with smtp_server(Recorder()) as (url, recorder):
        result = invoke(["campaign", "send", "oct", "--smtp", url, "--json"], env)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["sent"] == len(expected) - 2 == len(recorder.messages)
    reasons = sorted(report["failed"].values())
    assert len(reasons) == 2 and "Traceback" not in result.stderr
    assert any(broken_address in r and "not a valid e-mail address" in r for r in reasons), reasons
    assert any("the name contains a hidden line break (U+000D)" in r for r in reasons), reasons
    assert not any(b"evil.example" in r.message.as_bytes() for r in recorder.messages)
    with engine.connect() as connection:
        failed = connection.execute(select(OfferSend.last_error).where(OfferSend.status == "failed")).scalars().all()
    assert sorted(failed) == reasons
    from winback.roles import Role
    from winback.tools import Services, default_registry
    from winback.ui.views import Views

    with smtp_server(Recorder()) as (url, recorder):  # the UI's button: the two are tried again and named
        views = Views(Services(settings.model_copy(update={"smtp_url": url})), default_registry())
        screen = views.send_campaign(Role.MANAGER, "maria", "oct")
    assert not recorder.messages and "0 sent · " in screen.message and " · 2 not delivered**" in screen.message
    assert "not a valid e-mail address" in screen.message and "line break" in screen.message
    assert "have a support agent correct it" in screen.message
    with smtp_server(Recorder()) as (url, recorder):  # and the terminal says the same in words
        again = invoke(["campaign", "send", "oct", "--smtp", url], env)
    assert again.returncode == 1 and not recorder.messages
    assert 'campaign "oct": 0 sent through smtp, 2 failed, ' in again.stdout, again.stdout
    assert "failed, not delivered (2):" in again.stderr and "what to do: " in again.stderr, again.stderr


@pytest.mark.slow  # a process killed mid-send
def test_killing_a_send_halfway_then_running_it_again_sends_each_message_once(
    demo_shop_factory: ShopFactory,
) -> None:
    settings = demo_shop_factory()
    engine = _create(settings)
    expected = _expected_recipients(engine, "oct")
    env = {**os.environ, "WINBACK_DATA_DIR": str(settings.data_dir), "COLUMNS": "200"}
    command = [sys.executable, "-m", "winback.cli", "campaign", "send", "oct", "--json"]
    process: subprocess.Popen[str] | None = None
    half = len(expected) // 2

    def kill_at_half(count: int) -> None:
        # the sender is killed while it waits for the server's answer to a message the server has taken:
        # the hardest moment (delivered, not yet confirmed)
        if count == half and process is not None:
            os.kill(process.pid, signal.SIGKILL)

    with smtp_server(Recorder(on_message=kill_at_half)) as (url, recorder):
        process = subprocess.Popen([*command, "--smtp", url], env=env, text=True, stdout=subprocess.PIPE)
        process.wait(timeout=300)
        assert process.returncode == -signal.SIGKILL and len(recorder.messages) == half
        rerun = subprocess.run([*command, "--smtp", url], env=env, text=True, capture_output=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    result = json.loads(rerun.stdout)
    ids = [r.message["Message-ID"] for r in recorder.messages]
    assert len(ids) == len(set(ids)) == len(expected)  # every message once, none twice
    assert sorted(r.recipients[0] for r in recorder.messages) == sorted(expected)
    assert result["unconfirmed"] and len(result["unconfirmed"]) == 1  # the one in flight, reported, not resent
    assert result["already_sent"] == half - 1


def test_temporary_failures_are_retried_and_permanent_ones_recorded(demo_shop_factory: ShopFactory) -> None:
    settings = demo_shop_factory().model_copy(update={"send_backoff_s": 0.0})
    engine = _create(settings)
    expected = sorted(_expected_recipients(engine, "oct"))
    flaky, refused = expected[0], expected[1]
    recorder = Recorder(replies={flaky: ["451 4.3.0 try again later"], refused: ["550 5.1.1 no such mailbox"]})
    with smtp_server(recorder) as (url, _):
        report = send_campaign(engine, settings, load_policy(settings.data_dir), "oct", SmtpChannel(url, settings))
    got = {r.recipients[0] for r in recorder.messages}
    assert flaky in got and refused not in got and len(got) == len(expected) - 1
    assert list(report.failed.values()) == ["the mail server refused the recipient (550)"]
    with engine.connect() as connection:
        rows = dict(
            connection.execute(select(OfferSend.status, func.max(OfferSend.attempts)).group_by(OfferSend.status)).all()
        )
    assert rows == {"sent": 2, "failed": 1}  # the flaky one took two attempts; the refused one is not retried


def test_the_outbox_writes_one_eml_per_message_and_marks_offers_sent(demo_shop_factory: ShopFactory) -> None:
    settings = demo_shop_factory()
    engine = _create(settings)
    outbox = settings.data_dir / "outbox"
    report = send_campaign(engine, settings, load_policy(settings.data_dir), "oct", OutboxChannel(outbox))
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == report.sent == len(_expected_recipients(engine, "oct"))
    assert b"List-Unsubscribe:" in files[0].read_bytes()
    assert (outbox / "outbox.csv").read_text().count("\n") == report.sent + 1
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).where(Offer.status == "sent")) == report.sent


def test_a_campaign_name_is_unique_and_members_are_never_in_two_open_campaigns(demo_shop_factory: ShopFactory) -> None:
    settings = demo_shop_factory()
    engine = _create(settings, top=300)
    with pytest.raises(CampaignError, match="exists already"):
        _create(settings, top=10)
    _create(settings, name="second", top=200)
    with engine.connect() as connection:
        both = connection.execute(
            select(CampaignMember.customer_id).group_by(CampaignMember.customer_id).having(func.count() > 1)
        ).all()
    assert both == []


def test_the_report_refuses_to_claim_an_effect_before_the_window_closes(demo_shop_factory: ShopFactory) -> None:
    settings = demo_shop_factory()
    engine = _create(settings)
    send_campaign(engine, settings, load_policy(settings.data_dir), "oct", OutboxChannel(settings.data_dir / "out"))
    advance_demo(engine, 30)
    early = campaign_report(engine, "oct").as_dict()
    assert early["window_closed"] is False and early["lift"] is None and early["ci"] is None
    assert "no effect is claimed" in early["note"]
    advance_demo(engine, 30)
    done = campaign_report(engine, "oct").as_dict()
    assert done["window_closed"] is True and isinstance(done["lift"], float) and len(done["ci"]) == 2
    arms = done["arms"]
    assert arms["treatment"]["members"] == 480 and arms["holdout"]["members"] == 120
    assert done["lift"] == pytest.approx(arms["treatment"]["saved"] / 480 - arms["holdout"]["saved"] / 120, abs=1e-4)
    assert done["curve"]["treatment"][-1] == pytest.approx(arms["treatment"]["saved"] / 480, abs=1e-4)


def test_advance_runs_only_on_a_demo_database(tmp_path: Path) -> None:
    from winback.data.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'real.db'}")
    upgrade(engine)
    with pytest.raises(AdvanceError, match="not a demo database"):
        advance_demo(engine, 10)


def test_the_webhook_gets_signed_json_and_a_server_error_is_retried(demo_shop_factory: ShopFactory) -> None:
    import hashlib
    import hmac
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from winback.offers.channels import WebhookChannel

    settings = demo_shop_factory().model_copy(update={"webhook_secret": SecretStr("s3cret"), "send_backoff_s": 0.0})
    engine = _create(settings)
    received: list[dict] = []
    failures = {"left": 1}

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            stamp = self.headers["X-Winback-Timestamp"]
            good = hmac.new(b"s3cret", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            assert self.headers["X-Winback-Signature"] == f"sha256={good}"
            if failures["left"]:
                failures["left"] -= 1
                self.send_response(503)
                self.end_headers()
                return
            payload = json.loads(body)
            received.append({**payload, "key": self.headers["Idempotency-Key"]})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"id": f"hook-{len(received)}"}).encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        report = send_campaign(engine, settings, load_policy(settings.data_dir), "oct", WebhookChannel(url, settings))
    finally:
        server.shutdown()
    assert report.sent == len(received) == len(_expected_recipients(engine, "oct")) and not report.failed
    first = received[0]
    assert first["key"] == first["message_id"] and first["redeem_code"] and "from" not in first
    with engine.connect() as connection:
        assert set(connection.scalars(select(OfferSend.provider_id))) >= {"hook-1"}


def test_nothing_goes_out_past_the_budget_or_after_consent_is_withdrawn(demo_shop_factory: ShopFactory) -> None:
    from sqlalchemy import update

    settings = demo_shop_factory()
    engine = _create(settings)
    expected = sorted(_expected_recipients(engine, "oct"))
    with engine.begin() as connection:  # one customer withdraws consent after the approval
        connection.execute(update(Customer).where(Customer.email == expected[0]).values(marketing_opt_in=False))
    policy = load_policy(settings.data_dir).model_copy(update={"monthly_budget": 60.0})
    report = send_campaign(engine, settings, policy, "oct", OutboxChannel(settings.data_dir / "out"))
    with engine.connect() as connection:
        spent = connection.scalar(
            select(func.sum(Offer.expected_cost)).join(OfferSend, OfferSend.offer_id == Offer.offer_id)
        )
        withdrawn = connection.scalar(
            select(func.count())
            .select_from(OfferSend)
            .join(Offer, Offer.offer_id == OfferSend.offer_id)
            .join(Customer, Customer.customer_id == Offer.customer_id)
            .where(Customer.email == expected[0])
        )
    assert 0 < report.sent < len(expected) - 1 and float(spent) <= 60.0
    assert report.skipped["over this month's budget"] > 0 and report.skipped["no marketing consent"] >= 1
    assert withdrawn == 0


def test_a_redemption_imported_with_the_orders_is_counted_for_its_member(demo_shop_factory: ShopFactory) -> None:
    settings = demo_shop_factory()
    engine = _create(settings)
    send_campaign(engine, settings, load_policy(settings.data_dir), "oct", OutboxChannel(settings.data_dir / "out"))
    advance_demo(engine, 60)
    before = campaign_report(engine, "oct").as_dict()["arms"]["treatment"]["redeemed"]
    with engine.connect() as connection:
        used = select(Order.redeem_code).where(Order.redeem_code.is_not(None))
        customer_id, code = connection.execute(
            select(Offer.customer_id, Offer.redeem_code)
            .where(Offer.status == "sent", Offer.redeem_code.not_in(used))
            .order_by(Offer.offer_id)
        ).first()
    csv_file = settings.data_dir / "shop_orders.csv"
    csv_file.write_text(
        "order_id,customer_id,ordered_at,status,total_amount,discount_amount,channel,redeem_code\n"
        f"SHOP-1,{customer_id},2026-11-20 10:00:00,delivered,55.00,8.25,web,{code}\n"
    )
    result = invoke(["import", "csv", "orders", str(csv_file)], {"WINBACK_DATA_DIR": str(settings.data_dir)})
    assert result.returncode == 0, result.stderr
    after = campaign_report(engine, "oct").as_dict()["arms"]["treatment"]["redeemed"]
    assert after == before + 1


def test_a_mail_server_that_is_down_stops_the_run_and_a_later_run_sends_everything(
    demo_shop_factory: ShopFactory,
) -> None:
    from tests.offers.smtp_server import free_port

    settings = demo_shop_factory().model_copy(update={"send_backoff_s": 0.0})
    engine = _create(settings)
    expected = _expected_recipients(engine, "oct")
    down = send_campaign(
        engine,
        settings,
        load_policy(settings.data_dir),
        "oct",
        SmtpChannel(f"smtp://127.0.0.1:{free_port()}", settings),
    )
    assert down.sent == 0 and down.stopped and "cannot reach the mail server" in down.stopped
    assert len(down.failed) == 1  # one message tried, the rest left alone
    with smtp_server() as (url, recorder):
        up = send_campaign(engine, settings, load_policy(settings.data_dir), "oct", SmtpChannel(url, settings))
    assert up.sent == len(recorder.messages) == len(expected) and not up.stopped
