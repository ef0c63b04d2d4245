"""How likely each offer type is to keep a customer: a configured prior, updated with the outcomes in
`offers` once offers have been sent.

Estimator (beta-binomial shrinkage): an offer that reached the customer (status sent or redeemed) at
least `outcome_days` ago, or was redeemed, has a known outcome; it "saved" the customer if it was
redeemed or the customer ordered within `outcome_days` after it was created. With n known outcomes of
which s saved, the save rate is (s + prior x k) / (n + k), k = `min_outcomes`: the prior counts as k
pseudo-outcomes, so it dominates while there are few real ones and the data dominate once n exceeds k.
This is an observational rate (customers who got offers were at risk, not randomly chosen); it measures
"ordered again after the offer", an upper bound on what the offer caused. A holdout group is the way to
measure the causal effect, and the policy file is where to start one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, case, exists, func, or_, select

from winback.data.schema import Offer, Order
from winback.data.sqlfuncs import epoch_days
from winback.offers.policy import OfferPolicy


@dataclass(frozen=True)
class SaveRate:
    offer_type: str
    prior: float
    outcomes: int  # offers with a known outcome
    saved: int
    rate: float  # the estimate used in the expected value

    @property
    def observed(self) -> float | None:
        return self.saved / self.outcomes if self.outcomes else None


def estimate_save_rates(engine: Engine, policy: OfferPolicy, now: datetime | None = None) -> dict[str, SaveRate]:
    now = now or datetime.now()
    known_before = now - timedelta(days=policy.outcome_days)
    reordered = exists().where(
        Order.customer_id == Offer.customer_id,
        Order.ordered_at > Offer.created_at,
        epoch_days(Order.ordered_at) <= epoch_days(Offer.created_at) + policy.outcome_days,
    )
    saved = or_(Offer.status == "redeemed", reordered)
    with engine.connect() as connection:
        rows = connection.execute(
            select(Offer.offer_type, func.count(), func.sum(case((saved, 1), else_=0)))
            .where(or_(Offer.status == "redeemed", and_(Offer.status == "sent", Offer.created_at <= known_before)))
            .group_by(Offer.offer_type)
        ).all()
    counts = {t: (int(n), int(s or 0)) for t, n, s in rows}
    k = policy.min_outcomes
    rates: dict[str, SaveRate] = {}
    for rule in policy.offers:
        n, s = counts.get(rule.type, (0, 0))
        rates[rule.type] = SaveRate(rule.type, rule.save_rate_prior, n, s, (s + rule.save_rate_prior * k) / (n + k))
    return rates
