"""Sending a campaign's approved offers, at most once each.

For every treatment member with an approved offer: skip unless the customer still accepts marketing and
the account is open, and unless the month's sent cost stays inside the budget; then *claim* the send
(an `offer_sends` row, status sending, committed) before calling the channel, and mark it sent (offer
status sent, an `offer_events` row with the Message-ID) after. A run killed between the two leaves the
claim: the next run reports it as unconfirmed and does not send it again unless asked
(`--retry-unconfirmed`), so nobody gets a message twice. A failure is kept per message; temporary ones
(4xx, connection lost) are retried with doubling waits, in the run and in later runs, up to
`WINBACK_SEND_MAX_ATTEMPTS`; permanent ones (a refused address) are not retried. When the channel itself
is down (no connection, login refused) the run stops at once and says so; a later run resumes.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from winback.config import Settings
from winback.data.clock import shop_now
from winback.data.db import write_transaction
from winback.data.schema import Campaign, CampaignMember, Customer, Offer, OfferEvent, OfferSend
from winback.offers.campaign_store import load_campaign
from winback.offers.channels import Channel, SendFailed
from winback.offers.messages import MessageError, OutgoingOffer, build_message, message_id, sender_address
from winback.offers.policy import OfferPolicy


@dataclass
class SendReport:
    campaign_id: str
    channel: str
    sent: int = 0
    already_sent: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # why not sent -> members
    failed: dict[str, str] = field(default_factory=dict)  # offer id -> last error (kept for a later run)
    unconfirmed: list[str] = field(default_factory=list)  # claimed by a run that stopped before confirming
    stopped: str | None = None  # why the run stopped early (the channel is down); run it again later
    seconds: float = 0.0


@dataclass(frozen=True)
class _Candidate:
    offer: OutgoingOffer
    cost: float
    status: str  # the offer's
    opted_in: bool
    closed: bool
    send_status: str | None
    attempts: int
    next_attempt_at: datetime | None


def _candidates(engine: Engine, campaign_id: str) -> list[_Candidate]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                Offer.offer_id,
                Offer.customer_id,
                Customer.name,
                Customer.email,
                Offer.subject,
                Offer.message,
                Offer.redeem_code,
                Offer.valid_until,
                Offer.offer_type,
                Offer.expected_cost,
                Offer.status,
                Customer.marketing_opt_in,
                Customer.closed_at,
                OfferSend.status.label("send_status"),
                OfferSend.attempts,
                OfferSend.next_attempt_at,
            )
            .join(CampaignMember, CampaignMember.offer_id == Offer.offer_id)
            .join(Customer, Customer.customer_id == Offer.customer_id)
            .outerjoin(OfferSend, OfferSend.offer_id == Offer.offer_id)
            .where(CampaignMember.campaign_id == campaign_id, CampaignMember.arm == "treatment")
            .order_by(CampaignMember.draw)
        ).all()
    return [
        _Candidate(
            OutgoingOffer(
                r.offer_id,
                r.customer_id,
                r.name,
                r.email,
                r.subject,
                r.message,
                campaign_id,
                r.redeem_code,
                r.valid_until,
                r.offer_type,
            ),
            float(r.expected_cost or Decimal(0)),
            r.status,
            bool(r.marketing_opt_in),
            r.closed_at is not None,
            r.send_status,
            int(r.attempts or 0),
            r.next_attempt_at,
        )
        for r in rows
    ]


def _sent_this_month(engine: Engine, now: datetime) -> float:
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with engine.connect() as connection:
        value = connection.execute(
            select(func.coalesce(func.sum(Offer.expected_cost), 0))
            .join(OfferSend, OfferSend.offer_id == Offer.offer_id)
            .where(OfferSend.status.in_(("sent", "sending")), OfferSend.claimed_at >= start)
        ).scalar_one()
    return float(value or 0)


def send_campaign(
    engine: Engine,
    settings: Settings,
    policy: OfferPolicy,
    campaign_id: str,
    channel: Channel,
    retry_unconfirmed: bool = False,
    progress: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SendReport:
    campaign = load_campaign(engine, campaign_id)
    started = time.perf_counter()
    report = SendReport(campaign.campaign_id, channel.name)
    now = shop_now(engine)
    sender = sender_address(settings.mail_from).addr_spec  # a bad From fails before anything is claimed
    spent = _sent_this_month(engine, now)
    try:
        for candidate in _candidates(engine, campaign.campaign_id):
            reason = _why_not(candidate, now, settings, retry_unconfirmed, report)
            if reason is not None:
                if reason:
                    report.skipped[reason] += 1
                continue
            if spent + candidate.cost > policy.monthly_budget + 1e-9:
                report.skipped["over this month's budget"] += 1
                continue
            if _send_one(engine, settings, campaign, candidate, channel, sender, now, report, sleep):
                spent += candidate.cost
                if progress:
                    progress(candidate.offer.offer_id)
            if report.stopped:
                break
    finally:
        channel.close()
    report.seconds = time.perf_counter() - started
    return report


def _why_not(
    candidate: _Candidate, now: datetime, settings: Settings, retry_unconfirmed: bool, report: SendReport
) -> str | None:
    """None: send it; "": already handled (counted in the report); else the reason it is skipped."""
    if candidate.send_status == "sent" or candidate.status in ("sent", "redeemed"):
        report.already_sent += 1
        return ""
    if candidate.send_status == "sending" and not retry_unconfirmed:
        report.unconfirmed.append(candidate.offer.offer_id)
        return ""
    if candidate.status != "approved":
        return "not approved" if candidate.status == "draft" else f"offer {candidate.status}"
    if candidate.closed:
        return "account closed"
    if not candidate.opted_in:
        return "no marketing consent"
    if candidate.send_status == "failed":
        if candidate.attempts >= settings.send_max_attempts:
            report.failed[candidate.offer.offer_id] = "gave up after the last attempt"
            return ""
        if candidate.next_attempt_at is not None and candidate.next_attempt_at > datetime.now():
            return "waiting to retry"
    return None


def _payload(offer: OutgoingOffer, sender: str, mid: str) -> dict[str, Any]:
    return {
        "message_id": mid,
        "offer_id": offer.offer_id,
        "campaign_id": offer.campaign_id,
        "customer_id": offer.customer_id,
        "from": sender,
        "to": offer.email,
        "name": offer.name,
        "subject": offer.subject,
        "message": offer.message,
        "offer_type": offer.offer_type,
        "redeem_code": offer.redeem_code,
        "valid_until": offer.valid_until.isoformat() if offer.valid_until else None,
    }


def _send_one(
    engine: Engine,
    settings: Settings,
    campaign: Campaign,
    candidate: _Candidate,
    channel: Channel,
    sender: str,
    now: datetime,
    report: SendReport,
    sleep: Callable[[float], None],
) -> bool:
    offer = candidate.offer
    mid = message_id(offer.offer_id, settings.mail_from)
    try:
        message: EmailMessage | None = build_message(offer, settings.mail_from, settings.unsubscribe_url)
        malformed = ""
    except MessageError as exc:  # one bad record is one failed message, never the end of the batch
        message, malformed = None, str(exc)
    payload = _payload(offer, sender, mid)
    attempts = candidate.attempts
    taking_over = candidate.send_status  # None (never claimed), failed, or sending (--retry-unconfirmed)
    while True:
        attempts += 1
        if not _claim(engine, campaign, offer.offer_id, channel.name, mid, attempts, now, taking_over):
            report.already_sent += 1  # another run claimed it first
            return False
        taking_over = "failed"  # a retry in this run takes back its own failure
        try:
            if message is None:  # recorded like a refused address: a later run tries again if the record changed
                raise SendFailed(malformed, retry=False)
            provider_id = channel.send(message, payload)
        except SendFailed as exc:
            wait = settings.send_backoff_s * 2 ** (attempts - 1)
            retry = exc.retry and attempts < settings.send_max_attempts
            # retries wait in real time (a demo shop's clock stands still between advances)
            retry_at = datetime.now().replace(microsecond=0) + timedelta(seconds=wait) if retry else None
            _record_failure(engine, offer.offer_id, str(exc), retry_at)
            if exc.channel_down:  # no point trying the others now: the run stops, a later one resumes
                report.failed[offer.offer_id] = str(exc)
                report.stopped = str(exc)
                return False
            if not retry:
                report.failed[offer.offer_id] = str(exc)
                return False
            sleep(wait)
            continue
        _confirm(engine, campaign, offer.offer_id, channel.name, mid, provider_id, now)
        report.sent += 1
        return True


def _claim(
    engine: Engine,
    campaign: Campaign,
    offer_id: str,
    channel: str,
    mid: str,
    attempts: int,
    now: datetime,
    taking_over: str | None,
) -> bool:
    """Take the send with a conditional write: insert it where no run has (`taking_over` None), or move it to
    sending from the state this run read (`failed`, or with --retry-unconfirmed the `sending` a stopped run
    left) at the attempt count it read. A row any other run has touched since matches nothing: False, and
    this run leaves it alone (a `sending` row is another run's claim, never taken by deleting it)."""
    try:
        with write_transaction(engine) as connection:
            if taking_over is None:
                connection.execute(
                    insert(OfferSend).values(
                        offer_id=offer_id,
                        campaign_id=campaign.campaign_id,
                        channel=channel,
                        status="sending",
                        attempts=attempts,
                        message_id=mid,
                        claimed_at=now,
                    )
                )
            else:
                taken = connection.execute(
                    update(OfferSend)
                    .where(
                        OfferSend.offer_id == offer_id,
                        OfferSend.status == taking_over,
                        OfferSend.attempts == attempts - 1,
                    )
                    .values(status="sending", attempts=attempts, channel=channel, message_id=mid, claimed_at=now)
                )
                if taken.rowcount != 1:
                    return False
            if campaign.started_at is None:  # the first send opens the outcome window
                connection.execute(
                    update(Campaign)
                    .where(Campaign.campaign_id == campaign.campaign_id, Campaign.started_at.is_(None))
                    .values(started_at=now)
                )
    except IntegrityError:  # another run inserted its claim first
        return False
    return True


def _record_failure(engine: Engine, offer_id: str, error: str, next_attempt_at: datetime | None) -> None:
    with write_transaction(engine) as connection:
        connection.execute(
            update(OfferSend)
            .where(OfferSend.offer_id == offer_id)
            .values(status="failed", last_error=error[:2000], next_attempt_at=next_attempt_at)
        )


def _confirm(
    engine: Engine, campaign: Campaign, offer_id: str, channel: str, mid: str, provider_id: str | None, now: datetime
) -> None:
    with write_transaction(engine) as connection:
        connection.execute(
            update(OfferSend)
            .where(OfferSend.offer_id == offer_id)
            .values(status="sent", provider_id=provider_id, sent_at=now, last_error=None, next_attempt_at=None)
        )
        connection.execute(update(Offer).where(Offer.offer_id == offer_id).values(status="sent"))
        connection.execute(
            insert(OfferEvent).values(
                offer_id=offer_id,
                at=now,
                actor=f"campaign {campaign.campaign_id}",
                action="sent",
                details={"channel": channel, "message_id": mid, "provider_id": provider_id},
            )
        )
