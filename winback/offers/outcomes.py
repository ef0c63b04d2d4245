"""What a campaign did, from the data itself, for treated and holdout members alike.

Outcomes over the window (from the first send for `window_days`): saved = ordered again (any order not
cancelled), revenue in the window, redeemed = an order quoted the member's offer code, closed = the
account closed. Lift = treatment save rate - holdout save rate (intention to treat: every treatment
member counts, sent or not), with a 95 % Newcombe interval for a difference of two proportions; the
effect is claimed only once the window has closed, and the report says how many members per arm a
result of this size would need for 80 % power at the 5 % level.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, select, update
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_effectsize

from winback.data.clock import shop_now
from winback.data.schema import Campaign, CampaignMember, Customer, Offer, Order
from winback.offers.campaign_store import load_campaign

ALPHA = 0.05
POWER = 0.8
REFERENCE_LIFT = 0.05  # the effect a sample size is quoted for when the measured one is not positive


@dataclass
class MemberOutcome:
    customer_id: str
    arm: str
    risk_band: str
    offer_type: str | None  # treatment: the offer drafted; holdout: what the policy would have offered
    sent: bool
    cost: float
    reachable: bool = True  # accepts marketing and was open at the start: would have been sent if treated
    saved: bool = False
    first_order_day: float | None = None
    revenue: float = 0.0
    redeemed: bool = False
    closed: bool = False


@dataclass
class ArmFigures:
    members: int = 0
    saved: int = 0
    revenue: float = 0.0
    redeemed: int = 0
    closed: int = 0
    sent: int = 0

    @property
    def rate(self) -> float | None:
        return self.saved / self.members if self.members else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "members": self.members,
            "saved": self.saved,
            "rate": round(self.rate, 4) if self.rate is not None else None,
            "revenue": round(self.revenue, 2),
            "redeemed": self.redeemed,
            "closed": self.closed,
            "sent": self.sent,
        }


@dataclass
class Comparison:
    """Treatment against holdout for one group of members."""

    label: str
    treatment: ArmFigures
    holdout: ArmFigures
    offer_cost: float = 0.0

    @property
    def lift(self) -> float | None:
        t, h = self.treatment.rate, self.holdout.rate
        return t - h if t is not None and h is not None else None

    @property
    def ci(self) -> tuple[float, float] | None:
        t, h = self.treatment, self.holdout
        if not t.members or not h.members:
            return None
        low, high = confint_proportions_2indep(
            t.saved, t.members, h.saved, h.members, method="newcomb", compare="diff", alpha=ALPHA
        )
        return float(low), float(high)

    @property
    def incremental_saves(self) -> float | None:
        return self.lift * self.treatment.members if self.lift is not None else None

    @property
    def incremental_revenue(self) -> float | None:
        t, h = self.treatment, self.holdout
        if not t.members or not h.members:
            return None
        return (t.revenue / t.members - h.revenue / h.members) * t.members

    def members_needed(self) -> int | None:
        """Members per arm for 80 % power to see this lift (or REFERENCE_LIFT if it is not positive)."""
        h = self.holdout.rate
        if h is None or self.treatment.rate is None:
            return None
        target = self.lift if self.lift and self.lift > 0 else REFERENCE_LIFT
        effect = abs(float(proportion_effectsize(min(0.999, h + target), h)))
        if effect == 0:
            return None
        return math.ceil(NormalIndPower().solve_power(effect_size=effect, alpha=ALPHA, power=POWER, ratio=1.0))

    def as_dict(self) -> dict[str, Any]:
        ci, lift, saves = self.ci, self.lift, self.incremental_saves
        return {
            "group": self.label,
            "treatment": self.treatment.as_dict(),
            "holdout": self.holdout.as_dict(),
            "lift": round(lift, 4) if lift is not None else None,
            "ci": [round(ci[0], 4), round(ci[1], 4)] if ci else None,
            "incremental_saves": round(saves, 1) if saves is not None else None,
            "incremental_revenue": _round(self.incremental_revenue),
            "offer_cost": round(self.offer_cost, 2),
            "cost_per_incremental_save": round(self.offer_cost / saves, 2) if saves and saves > 0 else None,
            "members_needed_per_arm": self.members_needed(),
        }


def _round(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


@dataclass
class CampaignReport:
    campaign_id: str
    started_at: datetime | None
    window_days: int
    now: datetime
    overall: Comparison
    by_band: list[Comparison] = field(default_factory=list)
    by_offer_type: list[Comparison] = field(default_factory=list)
    curve: dict[str, list[float]] = field(default_factory=dict)

    @property
    def window_end(self) -> datetime | None:
        return self.started_at + timedelta(days=self.window_days) if self.started_at else None

    @property
    def window_closed(self) -> bool:
        return self.window_end is not None and self.now >= self.window_end

    @property
    def conclusive(self) -> bool:
        ci = self.overall.ci
        return self.window_closed and ci is not None and (ci[0] > 0 or ci[1] < 0)

    def note(self) -> str:
        if self.started_at is None:
            return "nothing sent yet: the window opens with the first send (`winback campaign send`)"
        if not self.window_closed:
            return (
                f"the window runs until {self.window_end:%Y-%m-%d}; no effect is claimed before it closes "
                "(the figures so far are interim)"
            )
        ci = self.overall.ci
        if ci is None:
            return "no holdout members: the campaign cannot measure its effect"
        if self.conclusive:
            word = "more" if ci[0] > 0 else "fewer"
            return f"treatment members ordered again {word} often than the holdout (95 % interval excludes 0)"
        needed = self.overall.members_needed()
        return "inconclusive: the 95 % interval includes 0" + (
            f"; about {needed} members per arm would be needed to see an effect of this size" if needed else ""
        )

    def as_dict(self) -> dict[str, Any]:
        overall = self.overall.as_dict()
        closed = self.window_closed
        return {
            "campaign": self.campaign_id,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "window_days": self.window_days,
            "window_end": self.window_end.isoformat() if self.window_end else None,
            "as_of": self.now.isoformat(),
            "window_closed": closed,
            "conclusive": self.conclusive,
            "arms": {"treatment": overall["treatment"], "holdout": overall["holdout"]},
            "lift": overall["lift"] if closed else None,
            "ci": overall["ci"] if closed else None,
            "interim": None if closed else {"lift": overall["lift"], "ci": overall["ci"]},
            **{k: overall[k] for k in ("incremental_saves", "incremental_revenue", "offer_cost")},
            "cost_per_incremental_save": overall["cost_per_incremental_save"],
            "members_needed_per_arm": overall["members_needed_per_arm"],
            "by_band": [c.as_dict() for c in self.by_band],
            "by_offer_type": [c.as_dict() for c in self.by_offer_type],
            "curve": self.curve,
            "note": self.note(),
        }


def member_outcomes(engine: Engine, campaign: Campaign, now: datetime) -> list[MemberOutcome]:
    """Every member's outcome so far (up to the window end or `now`, the shop's, whichever is first)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                CampaignMember.customer_id,
                CampaignMember.arm,
                CampaignMember.risk_band,
                CampaignMember.planned_offer_type,
                Offer.offer_type,
                Offer.status,
                Offer.expected_cost,
                Offer.redeem_code,
                Customer.closed_at,
                Customer.marketing_opt_in,
            )
            .join(Customer, Customer.customer_id == CampaignMember.customer_id)
            .outerjoin(Offer, Offer.offer_id == CampaignMember.offer_id)
            .where(CampaignMember.campaign_id == campaign.campaign_id)
        ).all()
        members: dict[str, MemberOutcome] = {}
        codes: dict[str, str] = {}
        for r in rows:
            sent = r.status in ("sent", "redeemed")
            members[r.customer_id] = MemberOutcome(
                r.customer_id,
                r.arm,
                r.risk_band,
                r.offer_type or r.planned_offer_type,
                sent,
                float(r.expected_cost or 0) if sent else 0.0,
            )
            if r.redeem_code and sent:
                codes[r.customer_id] = r.redeem_code
        start = campaign.started_at
        if start is None:
            return list(members.values())
        end = min(now, start + timedelta(days=campaign.window_days))
        for r in rows:
            closed_at = r.closed_at
            member = members[r.customer_id]
            member.reachable = bool(r.marketing_opt_in) and (closed_at is None or closed_at > start)
            if closed_at is not None and start < closed_at <= end:
                member.closed = True
        orders = connection.execute(
            select(Order.customer_id, Order.ordered_at, Order.total_amount, Order.redeem_code)
            .join(
                CampaignMember,
                and_(
                    CampaignMember.customer_id == Order.customer_id, CampaignMember.campaign_id == campaign.campaign_id
                ),
            )
            .where(Order.ordered_at > start, Order.ordered_at <= end, Order.status != "cancelled")
        ).all()
    for customer_id, ordered_at, total, code in orders:
        member = members[customer_id]
        day = (ordered_at - start).total_seconds() / 86400.0
        member.saved = True
        member.first_order_day = day if member.first_order_day is None else min(member.first_order_day, day)
        member.revenue += float(total or 0)
        if code and codes.get(customer_id) == code:
            member.redeemed = True
    return list(members.values())


def _compare(label: str, members: list[MemberOutcome]) -> Comparison:
    arms = {"treatment": ArmFigures(), "holdout": ArmFigures()}
    cost = 0.0
    for m in members:
        arm = arms[m.arm]
        arm.members += 1
        arm.saved += m.saved
        arm.revenue += m.revenue
        arm.redeemed += m.redeemed
        arm.closed += m.closed
        arm.sent += m.sent
        if m.redeemed or (m.sent and m.offer_type == "personal_call"):  # a call costs whether or not it works
            cost += m.cost
    return Comparison(label, arms["treatment"], arms["holdout"], cost)


def _curve(members: list[MemberOutcome], days: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"day": [float(d) for d in range(days + 1)]}
    for arm in ("treatment", "holdout"):
        group = [m for m in members if m.arm == arm]
        firsts = sorted(m.first_order_day for m in group if m.first_order_day is not None)
        shares, i = [], 0
        for d in range(days + 1):
            while i < len(firsts) and firsts[i] <= d:
                i += 1
            shares.append(round(i / len(group), 4) if group else 0.0)
        out[arm] = shares
    return out


def campaign_report(engine: Engine, campaign_id: str) -> CampaignReport:
    campaign = load_campaign(engine, campaign_id)
    now = shop_now(engine)
    members = member_outcomes(engine, campaign, now)
    start = campaign.started_at
    groups: dict[str, dict[str, list[MemberOutcome]]] = {"band": defaultdict(list), "type": defaultdict(list)}
    for m in members:
        groups["band"][m.risk_band].append(m)
        groups["type"][m.offer_type or "no offer"].append(m)
    return CampaignReport(
        campaign.campaign_id,
        start,
        campaign.window_days,
        now,
        _compare("all members", members),
        [_compare(band, ms) for band, ms in sorted(groups["band"].items())],
        [_compare(kind, ms) for kind, ms in sorted(groups["type"].items())],
        _curve(members, campaign.window_days) if start else {},
    )


def close_finished_campaigns(engine: Engine) -> list[str]:
    """Record the outcome of every campaign whose window has ended and that is not closed yet (the
    campaigns job): `closed_at` and the report as it stood, so the briefing can say which results came in."""
    now = shop_now(engine)
    with engine.connect() as connection:
        open_ones = [
            row.campaign_id
            for row in connection.execute(
                select(Campaign.campaign_id, Campaign.started_at, Campaign.window_days).where(
                    Campaign.closed_at.is_(None), Campaign.started_at.is_not(None)
                )
            )
            if row.started_at + timedelta(days=row.window_days) <= now
        ]
    closed = []
    for campaign_id in sorted(open_ones):
        report = campaign_report(engine, campaign_id)
        if not report.window_closed:
            continue
        with engine.begin() as connection:
            done = connection.execute(
                update(Campaign)
                .where(Campaign.campaign_id == campaign_id, Campaign.closed_at.is_(None))
                .values(closed_at=now, outcome=report.as_dict())
            )
        if done.rowcount:
            closed.append(campaign_id)
    return closed
