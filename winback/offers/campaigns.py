"""Campaigns: a named cohort from the at-risk filters, split at random (per risk band) into a treatment arm
that gets offers through the ordinary policy and drafting, and a holdout arm that gets nothing, so that
what the offers caused can be measured (outcomes.py) rather than assumed.

The split is auditable: each member's draw is a hash of (seed, campaign, customer), recorded with the
member; in every risk band the members with the lowest draws, round(holdout_share x band size) of them,
form the holdout. `holdout_split` recomputes it from the recorded seed.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import Engine, insert, select, update

from winback.data.clock import shop_now
from winback.data.lookups import AtRiskArgs, customer_profile
from winback.data.lookups.at_risk import CohortRow, at_risk_cohort
from winback.data.risk_bands import RiskBand
from winback.data.schema import Campaign, CampaignMember, Offer
from winback.model.uplift import UpliftModel
from winback.offers.batch import BatchReport, draft_for_customers
from winback.offers.campaign_store import CampaignError, load_campaign
from winback.offers.choice import OfferDecision, decide, month_to_date
from winback.offers.drafting import DraftOutcome, OfferDrafter
from winback.offers.editing import OfferEditRefused, decide_offer
from winback.offers.policy import OfferPolicy
from winback.offers.save_rates import estimate_save_rates
from winback.offers.uplift import rank_by_incremental_value

CampaignRank = Literal["probability", "revenue_at_risk", "incremental_value", "uplift"]
CAMPAIGN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}")
INCREMENTAL_POOL = 4  # ranking by incremental value looks at this many times N of the most likely churners


class CohortArgs(BaseModel):
    """Who a campaign is for: the at-risk filters, a size and a ranking."""

    top: int = Field(ge=1, le=100_000, description="how many customers")
    rank: CampaignRank = "probability"
    segment: str | None = None
    country: str | None = None
    bands: list[RiskBand] | None = None
    min_lifetime_value: float | None = Field(None, ge=0)
    inactive_days: int | None = Field(None, ge=0)


@dataclass
class CampaignCreated:
    campaign_id: str
    members: int
    arms: dict[str, int]
    by_band: dict[str, dict[str, int]]
    drafts: BatchReport
    excluded_in_other_campaigns: int = 0
    planned: Counter[str] = field(default_factory=Counter)


def member_draw(seed: int, campaign_id: str, customer_id: str) -> float:
    digest = hashlib.sha256(f"{seed}:{campaign_id}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def holdout_split(
    members: Iterable[tuple[str, str]], seed: int, campaign_id: str, share: float
) -> dict[str, tuple[str, float]]:
    """{customer_id: (arm, draw)} for (customer_id, risk_band) pairs: stratified by band, reproducible."""
    by_band: dict[str, list[tuple[float, str]]] = {}
    for customer_id, band in members:
        by_band.setdefault(band, []).append((member_draw(seed, campaign_id, customer_id), customer_id))
    out: dict[str, tuple[str, float]] = {}
    for rows in by_band.values():
        rows.sort()
        held = round(share * len(rows))
        for i, (draw, customer_id) in enumerate(rows):
            out[customer_id] = ("holdout" if i < held else "treatment", draw)
    return out


def _check_name(name: str) -> str:
    name = name.strip()
    if not CAMPAIGN_NAME.fullmatch(name):
        raise CampaignError(
            f"campaign name {name!r}: 1-64 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit"
        )
    return name


def _in_open_campaigns(engine: Engine, now: datetime) -> set[str]:
    """Members of campaigns whose window is still open (or not yet started): never in two experiments at once."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(CampaignMember.customer_id, Campaign.started_at, Campaign.window_days).join(
                Campaign, Campaign.campaign_id == CampaignMember.campaign_id
            )
        ).all()
    return {c for c, started, days in rows if started is None or started + timedelta(days=days) > now}


def _cohort(
    engine: Engine,
    policy: OfferPolicy,
    args: CohortArgs,
    exclude: set[str],
    now: datetime,
    uplift: UpliftModel | None = None,
) -> list[CohortRow]:
    by_value = args.rank in ("incremental_value", "uplift")
    pool = args.top * (INCREMENTAL_POOL if by_value else 1) + len(exclude)
    rows = at_risk_cohort(
        engine,
        AtRiskArgs(
            segment=args.segment,
            country=args.country,
            risk_bands=args.bands,
            min_lifetime_value=args.min_lifetime_value,
            inactive_days=args.inactive_days,
            sort="probability" if by_value else args.rank,
        ),
        pool,
    )
    rows = [r for r in rows if r.customer_id not in exclude]
    if args.rank == "uplift":
        if uplift is None:
            raise CampaignError("ranking by uplift needs an uplift model: run `winback campaign uplift` first")
        return rank_by_incremental_value(engine, uplift, policy, rows, _decider(engine, policy, now), now)[: args.top]
    if args.rank == "incremental_value":
        decision = _decider(engine, policy, now)
        values = {}
        for r in rows:
            chosen = decision(r.customer_id).chosen
            values[r.customer_id] = chosen.expected_value if chosen else float("-inf")
        rows.sort(key=lambda r: -values[r.customer_id])
    return rows[: args.top]


def _decider(engine: Engine, policy: OfferPolicy, now: datetime) -> Callable[[str], OfferDecision]:
    """The policy's decision for one customer, with this moment's save rates and month-to-date spend."""
    rates = estimate_save_rates(engine, policy, now)
    month = month_to_date(engine, now)

    def decision(customer_id: str) -> OfferDecision:
        profile = customer_profile(engine, customer_id, role="admin")
        return decide(profile, policy, rates, policy.monthly_budget - month.spent, now, month.made)

    return decision


def create_campaign(
    engine: Engine,
    policy: OfferPolicy,
    drafter: OfferDrafter,
    name: str,
    cohort: CohortArgs,
    holdout_share: float | None = None,
    seed: int = 0,
    window_days: int | None = None,
    actor: str = "assistant",
    concurrency: int = 8,
    progress: Callable[[DraftOutcome | None], None] | None = None,
    uplift: UpliftModel | None = None,
) -> CampaignCreated:
    """Choose the cohort, split it, record every member with its arm and the offer the policy plans for it,
    and draft offers for the treatment arm only (through the ordinary policy: consent, caps, cooldown)."""
    name = _check_name(name)
    share = policy.holdout_share if holdout_share is None else holdout_share
    if not 0 <= share < 1:
        raise CampaignError("--holdout must be at least 0 and below 1 (e.g. 0.2 for 20 %)")
    window = window_days or policy.campaign_window_days
    now = shop_now(engine)
    with engine.connect() as connection:
        if connection.execute(select(Campaign.campaign_id).where(Campaign.campaign_id == name)).first():
            raise CampaignError(f"a campaign named {name!r} exists already; choose another name")
    exclude = _in_open_campaigns(engine, now)
    rows = _cohort(engine, policy, cohort, exclude, now, uplift)
    if not rows:
        raise CampaignError("no customer matches these filters (or all are in a campaign whose window is open)")
    split = holdout_split(((r.customer_id, r.risk_band) for r in rows), seed, name, share)
    with engine.begin() as connection:
        connection.execute(
            insert(Campaign).values(
                campaign_id=name,
                created_at=now,
                created_by=actor,
                cohort=cohort.model_dump(exclude_none=True),
                holdout_share=share,
                seed=seed,
                window_days=window,
                started_at=None,
            )
        )
        connection.execute(
            insert(CampaignMember),
            [
                {
                    "campaign_id": name,
                    "customer_id": r.customer_id,
                    "arm": split[r.customer_id][0],
                    "risk_band": r.risk_band,
                    "churn_probability": r.probability,
                    "draw": split[r.customer_id][1],
                    "planned_offer_type": None,
                    "offer_id": None,
                }
                for r in rows
            ],
        )
    treated = [r.customer_id for r in rows if split[r.customer_id][0] == "treatment"]
    held = [r.customer_id for r in rows if split[r.customer_id][0] == "holdout"]
    # the holdout's plan is read before the treatment's drafts count against monthly limits: as if treated
    decision = _decider(engine, policy, now)
    report = draft_for_customers(engine, drafter, treated, "email", concurrency, actor, progress, None, now)
    planned: dict[str, str | None] = {}
    drafted: dict[str, str] = {}
    for outcome in report.outcomes:
        chosen = outcome.decision.chosen
        planned[outcome.customer_id] = chosen.offer_type if chosen else None
        if outcome.offer_id:
            drafted[outcome.customer_id] = outcome.offer_id
    for customer_id in held:  # what the policy would have offered, had the member been treated
        chosen = decision(customer_id).chosen
        planned[customer_id] = chosen.offer_type if chosen else None
    with engine.begin() as connection:
        for customer_id, offer_type in planned.items():
            connection.execute(
                update(CampaignMember)
                .where(CampaignMember.campaign_id == name, CampaignMember.customer_id == customer_id)
                .values(planned_offer_type=offer_type, offer_id=drafted.get(customer_id))
            )
    by_band: dict[str, dict[str, int]] = {}
    for r in rows:
        arm = split[r.customer_id][0]
        by_band.setdefault(r.risk_band, {"treatment": 0, "holdout": 0})[arm] += 1
    return CampaignCreated(
        name,
        len(rows),
        {"treatment": len(treated), "holdout": len(held)},
        by_band,
        report,
        len(exclude),
        Counter(t or "none" for t in planned.values()),
    )


@dataclass
class CampaignApproval:
    approved: int = 0
    refused: Counter[str] = field(default_factory=Counter)  # reason -> drafts
    not_drafts: int = 0  # already approved, rejected or sent


def approve_campaign(engine: Engine, policy: OfferPolicy, name: str, actor: str, role: str) -> CampaignApproval:
    """Approve every draft of the campaign that passes the policy check, as `actor` (never their own drafts:
    decide_offer refuses those, like every other rule, one offer at a time)."""
    load_campaign(engine, name)
    now = shop_now(engine)
    with engine.connect() as connection:
        offers = connection.execute(
            select(Offer.offer_id, Offer.status)
            .join(CampaignMember, CampaignMember.offer_id == Offer.offer_id)
            .where(CampaignMember.campaign_id == name)
            .order_by(CampaignMember.draw)
        ).all()
    result = CampaignApproval()
    for offer_id, status in offers:
        if status != "draft":
            result.not_drafts += 1
            continue
        try:
            decide_offer(engine, policy, offer_id, "approve", actor, role=role, now=now)
            result.approved += 1
        except OfferEditRefused as exc:
            result.refused[_refusal_kind(str(exc))] += 1
    return result


def _refusal_kind(message: str) -> str:
    for fragment, kind in (
        ("budget", "over the monthly budget"),
        ("drafted or last edited", "the approver's own draft"),
        ("may not approve", "role may not approve"),
        ("limit", "monthly limit reached"),
    ):
        if fragment in message:
            return kind
    return message.split(": ", 1)[-1][:80]
