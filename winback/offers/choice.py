"""Which offer, if any, for one customer: every rule of the policy is checked (risk band, segment, lifetime
value, marketing consent, cooldown, monthly budget), the value is capped for the segment, and among the
eligible offers the one with the highest expected value wins:

    expected value = churn probability x save rate x expected margin - cost
    expected margin = margin_rate x yearly spend (at least one mean order)

Costs: a percent discount costs that share of the customer's mean order; free shipping, a gift and a
personal call cost their configured value; loyalty points cost points x point_value. The cost is counted
in full (as if always redeemed), which keeps the budget on the safe side. No offer when nothing is
eligible or nothing has a positive expected value; the reason says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, func, select

from winback.data.lookups import CustomerProfile, customer_profile
from winback.data.schema import Offer
from winback.offers.policy import OfferPolicy, OfferRule
from winback.offers.save_rates import SaveRate, estimate_save_rates

DEFAULT_ORDER_VALUE = 50.0  # for a customer without a paid order yet
BUDGET_STATUSES = ("approved", "sent", "redeemed")


@dataclass(frozen=True)
class Candidate:
    offer_type: str
    value: float
    cost: float
    save_rate: float
    expected_value: float
    eligible: bool
    reasons: tuple[str, ...]  # why not, when not eligible


@dataclass
class OfferDecision:
    customer_id: str
    churn_probability: float | None
    risk_band: str | None
    expected_margin: float
    chosen: Candidate | None
    reason: str  # one line: why this offer, or why none
    candidates: list[Candidate] = field(default_factory=list)
    budget_left: float = 0.0
    # no offer pays for itself, yet nothing forbids writing: a "we'd love you back" message without an
    # incentive may be drafted instead (never for a closed account, inside the cooldown, or without consent)
    without_incentive: bool = False
    opted_in: bool = True


def offer_cost(rule: OfferRule, value: float, mean_order_value: float) -> float:
    if rule.type == "percent_discount":
        return round(value / 100 * mean_order_value, 2)
    if rule.type == "loyalty_points":
        return round(value * rule.point_value, 2)
    return round(value, 2)


@dataclass(frozen=True)
class MonthToDate:
    spent: float  # expected cost of offers approved, sent or redeemed this month
    made: dict[str, int]  # offers per type this month, drafts included, rejected ones not


def month_to_date(engine: Engine, now: datetime) -> MonthToDate:
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with engine.connect() as connection:
        spent = connection.execute(
            select(func.coalesce(func.sum(Offer.expected_cost), 0)).where(
                Offer.status.in_(BUDGET_STATUSES), Offer.created_at >= start
            )
        ).scalar_one()
        made = dict(
            connection.execute(
                select(Offer.offer_type, func.count())
                .where(Offer.status != "rejected", Offer.created_at >= start)
                .group_by(Offer.offer_type)
            ).all()
        )
    return MonthToDate(float(spent or Decimal(0)), {k: int(v) for k, v in made.items()})


def decide(
    profile: CustomerProfile,
    policy: OfferPolicy,
    save_rates: dict[str, SaveRate],
    budget_left: float,
    now: datetime,
    made_this_month: dict[str, int] | None = None,
) -> OfferDecision:
    """The policy applied to one customer's card (pure: no database access, easy to test)."""
    churn = profile.churn
    order_value = profile.mean_order_value or DEFAULT_ORDER_VALUE
    margin = round(policy.margin_rate * max(profile.spend_365d, order_value), 2)
    decision = OfferDecision(
        profile.customer_id,
        churn.probability if churn else None,
        churn.risk_band if churn else None,
        margin,
        None,
        "",
        budget_left=round(budget_left, 2),
    )
    decision.opted_in = profile.marketing_opt_in
    blockers = []
    if profile.closed_at is not None:
        blockers.append("the account is closed")
    if churn is None:
        blockers.append("no churn score yet (run winback score)")
    recent = [
        o
        for o in profile.offers
        if o.status != "rejected" and o.created_at > now - timedelta(days=policy.cooldown_days)
    ]
    if recent:
        blockers.append(
            f"offer {recent[0].offer_id} was made on {recent[0].created_at:%Y-%m-%d}, within the "
            f"{policy.cooldown_days}-day cooldown"
        )
    for rule in policy.offers:
        value = policy.capped_value(rule, profile.segment)
        cost = offer_cost(rule, value, order_value)
        rate = save_rates[rule.type].for_band(churn.risk_band if churn else None)
        ev = round((churn.probability if churn else 0.0) * rate * margin - cost, 2)
        reasons = list(blockers)
        if churn is not None and churn.risk_band not in rule.bands:
            reasons.append(f"risk band {churn.risk_band} is not one of {', '.join(rule.bands)}")
        if rule.segments and profile.segment not in rule.segments:
            reasons.append(f"segment {profile.segment} is not one of {', '.join(rule.segments)}")
        if profile.lifetime_value < rule.min_lifetime_value:
            reasons.append(f"lifetime value {profile.lifetime_value:.2f} is below {rule.min_lifetime_value:.2f}")
        if rule.requires_opt_in and not profile.marketing_opt_in:
            reasons.append("the customer has not accepted marketing messages")
        if cost > budget_left:
            reasons.append(f"cost {cost:.2f} exceeds this month's remaining budget {budget_left:.2f}")
        made = (made_this_month or {}).get(rule.type, 0)
        if rule.monthly_limit is not None and made >= rule.monthly_limit:
            reasons.append(
                f"this month's limit of {rule.monthly_limit} {rule.type.replace('_', ' ')} offers is reached"
            )
        decision.candidates.append(Candidate(rule.type, value, cost, round(rate, 4), ev, not reasons, tuple(reasons)))
    eligible = [c for c in decision.candidates if c.eligible]
    if blockers:
        decision.reason = "no offer: " + blockers[0]
    elif not eligible:
        decision.reason = (
            "no offer: no offer type is eligible ("
            + "; ".join(f"{c.offer_type}: {c.reasons[0]}" for c in decision.candidates)
            + ")"
        )
    else:
        best = max(eligible, key=lambda c: (c.expected_value, -c.cost))
        if best.expected_value <= 0:
            decision.reason = (
                f"no offer: the best eligible offer ({best.offer_type}) is worth "
                f"{best.expected_value:.2f} after its cost"
            )
        else:
            assert churn is not None  # a missing score is a blocker above
            decision.chosen = best
            decision.reason = (
                f"{best.offer_type} has the highest expected value: {churn.probability:.2f} churn x "
                f"{best.save_rate:.2f} save rate x {margin:.2f} margin - {best.cost:.2f} cost = "
                f"{best.expected_value:.2f}"
            )
    decision.without_incentive = decision.chosen is None and not blockers and profile.marketing_opt_in
    return decision


def choose_offer(engine: Engine, customer_id: str, policy: OfferPolicy, now: datetime | None = None) -> OfferDecision:
    """Raises CustomerNotFound for an unknown id."""
    now = now or datetime.now()
    profile = customer_profile(engine, customer_id, role="admin")
    rates = estimate_save_rates(engine, policy, now)
    month = month_to_date(engine, now)
    return decide(profile, policy, rates, policy.monthly_budget - month.spent, now, month.made)
