"""How likely each offer type is to keep a customer: the configured prior, replaced as campaigns measure
it by the *incremental* effect — treatment minus holdout — never by "ordered again after the offer",
which counts the customers who would have stayed anyway.

For each offer type, over every campaign whose window has closed: the treated members who were sent an
offer of that type (n_t, of whom s_t ordered again in the window) against the holdout members the policy
would have given that type and who could have been sent it — marketing consent, an open account (n_h, s_h). The measured lift s_t/n_t - s_h/n_h is shrunk toward the prior,
which counts as k = `min_outcomes` pseudo-members: rate = (w x lift + k x prior) / (w + k), with
w = n_t n_h / (n_t + n_h) the effective size of a two-arm comparison, so thin data leaves the prior in
charge. Per risk band the same is done again, shrunk toward the type's rate. Rates are kept in [0, 1):
an offer that measurably does nothing (or harm) ends up near 0 and the expected value stops choosing it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from winback.data.clock import shop_now
from winback.offers.campaign_store import list_campaigns
from winback.offers.outcomes import MemberOutcome, member_outcomes
from winback.offers.policy import OfferPolicy


@dataclass(frozen=True)
class Arms:
    treated: int = 0
    treated_saved: int = 0
    holdout: int = 0
    holdout_saved: int = 0

    @property
    def lift(self) -> float | None:
        if not self.treated or not self.holdout:
            return None
        return self.treated_saved / self.treated - self.holdout_saved / self.holdout

    @property
    def weight(self) -> float:
        return self.treated * self.holdout / (self.treated + self.holdout) if self.treated and self.holdout else 0.0

    def add(self, member: MemberOutcome) -> Arms:
        if member.arm == "treatment":
            return Arms(self.treated + 1, self.treated_saved + member.saved, self.holdout, self.holdout_saved)
        return Arms(self.treated, self.treated_saved, self.holdout + 1, self.holdout_saved + member.saved)


def shrunk(arms: Arms, toward: float, k: int) -> float:
    lift = arms.lift
    if lift is None:
        return toward
    return min(0.999, max(0.0, (arms.weight * lift + k * toward) / (arms.weight + k)))


@dataclass(frozen=True)
class SaveRate:
    offer_type: str
    prior: float
    rate: float  # the estimate the expected value uses
    measured: Arms = Arms()
    by_band: dict[str, float] = field(default_factory=dict)

    @property
    def lift(self) -> float | None:
        return self.measured.lift

    def for_band(self, band: str | None) -> float:
        return self.by_band.get(band, self.rate) if band else self.rate


def measured_arms(engine: Engine, now: datetime) -> dict[tuple[str, str | None], Arms]:
    """{(offer type, band or None): Arms} over closed campaigns; treated = sent an offer of that type."""
    closed = [
        c
        for c in list_campaigns(engine)
        if c.started_at is not None and c.started_at + timedelta(days=c.window_days) <= now
    ]
    out: dict[tuple[str, str | None], Arms] = defaultdict(Arms)
    for campaign in closed:
        for member in member_outcomes(engine, campaign, now):
            # like with like: treated members who were sent the offer, holdout members who could have been
            # (consent and an open account: those without would never have been sent it)
            compared = member.sent if member.arm == "treatment" else member.reachable
            if member.offer_type is None or not compared:
                continue
            for key in ((member.offer_type, None), (member.offer_type, member.risk_band)):
                out[key] = out[key].add(member)
    return out


def estimate_save_rates(engine: Engine, policy: OfferPolicy, now: datetime | None = None) -> dict[str, SaveRate]:
    arms = measured_arms(engine, now or shop_now(engine))
    k = policy.min_outcomes
    rates: dict[str, SaveRate] = {}
    for rule in policy.offers:
        overall = arms.get((rule.type, None), Arms())
        rate = shrunk(overall, rule.save_rate_prior, k)
        bands = {band: shrunk(a, rate, k) for (t, band), a in arms.items() if t == rule.type and band is not None}
        rates[rule.type] = SaveRate(rule.type, rule.save_rate_prior, rate, overall, bands)
    return rates
