"""How a demo customer answers a win-back offer after the as-of date: the planted truth campaigns are
measured against (docs/demo-shop.md, "After the as-of date").

Each customer is one of four response types, drawn with weights that depend on hidden traits the data
shows only in part (price sensitivity, patience, satisfaction, whether they already left):

- sure_thing: keeps ordering at their own pace; an offer changes nothing (they may still quote its code);
- lost_cause: has left and (almost) never orders again, offer or not;
- persuadable: orders rarely on their own; an offer makes them order once with chance
  `offer_response x OFFER_EFFECT[type]`, after an exponential delay, quoting the code, if within its validity;
- do_not_disturb: an offer annoys them: they order at DND_RATE_FACTOR of their pace afterwards.

Orders without an offer are a Poisson process with `reorder_rate` per day, so every probability below
is in closed form and a campaign's expected lift is exact (`expected_saved`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from winback.data.demo.rng import Rng

if TYPE_CHECKING:
    from winback.data.demo.simulate import Traits

RESPONSE_TYPES = ("persuadable", "sure_thing", "lost_cause", "do_not_disturb")
# how strongly each offer type moves a persuadable customer (1.0 = a typical discount)
OFFER_EFFECT = {
    "percent_discount": 1.0,
    "free_shipping": 0.55,
    "loyalty_points": 0.35,
    "gift": 0.7,
    "personal_call": 0.9,
    "no_incentive": 0.15,
}
RESPONSE_MEAN_DAYS = 10.0  # from receiving the offer to the order it causes
DND_RATE_FACTOR = 0.5
SURE_THING_CODE_USE = 0.5  # a sure thing who got an offer quotes its code on the next order this often
LOST_CAUSE_RATE = 0.0004  # orders per day
MIN_OWN_RATE = 1.0 / 75.0  # even a slow customer still with the shop orders about every 75 days


def planted_response(rng: Rng, traits: Traits, churned: bool, final_hazard: float) -> dict[str, Any]:
    """demo_truth columns: the response type, the persuadable response chance, the no-offer order rate."""
    risk = min(1.0, final_hazard * 10.0)
    weights = {
        "persuadable": 0.3 + 1.5 * traits.price_sensitivity,
        "sure_thing": 0.0 if churned else (1.0 - risk) * (0.4 + traits.base_satisfaction),
        "lost_cause": 1.4 if churned else 0.4 * risk,
        "do_not_disturb": 0.12 + 0.3 * (1.0 - traits.patience),
    }
    total = sum(weights.values())
    pick, cumulative = rng.uniform() * total, 0.0
    response_type = RESPONSE_TYPES[-1]
    for name in RESPONSE_TYPES:
        cumulative += weights[name]
        if pick < cumulative:
            response_type = name
            break
    own_pace = max(traits.orders_per_month / 30.4, MIN_OWN_RATE)
    rate = {
        "sure_thing": own_pace,
        "lost_cause": LOST_CAUSE_RATE,
        "persuadable": 0.15 * own_pace,
        "do_not_disturb": 0.6 * own_pace,
    }[response_type]
    return {
        "response_type": response_type,
        "offer_response": round(min(0.9, 0.35 + 0.5 * traits.price_sensitivity), 4),
        "reorder_rate": round(rate, 6),
    }


def response_chance(offer_response: float, offer_type: str) -> float:
    return min(1.0, offer_response * OFFER_EFFECT.get(offer_type, 0.0))


def saved_probability(
    response_type: str,
    reorder_rate: float,
    offer_response: float,
    window_days: float,
    offer_type: str | None = None,
    valid_days: float = 30.0,
    sent_after_days: float = 0.0,
) -> float:
    """P(at least one order within a window of `window_days`), with the offer received `sent_after_days`
    into the window (or no offer)."""
    never = math.exp(-reorder_rate * window_days)  # no order of the customer's own in the window
    if offer_type is None or response_type in ("sure_thing", "lost_cause"):
        return 1.0 - never
    after = max(0.0, window_days - sent_after_days)
    if response_type == "do_not_disturb":
        return 1.0 - math.exp(-reorder_rate * (sent_after_days + DND_RATE_FACTOR * after))
    acts = response_chance(offer_response, offer_type) * (1.0 - math.exp(-min(after, valid_days) / RESPONSE_MEAN_DAYS))
    return 1.0 - never * (1.0 - acts)
