"""Compose review and ticket texts from the phrase banks, following what actually happened to the customer."""

from __future__ import annotations

from dataclasses import dataclass

from winback.data.demo.phrases import (
    ASPECT_PHRASES,
    CLOSERS,
    INJECTIONS,
    OPENERS,
    PRICE_COMPARISONS,
    TICKET_BODIES,
    TITLES,
)
from winback.data.demo.rng import Rng

INJECTION_RATE = 0.002


@dataclass(frozen=True)
class Experience:
    """What one delivered order was like, as the customer saw it."""

    late_days: int  # 0 = on time
    bad_quality: bool
    fit_problem: bool
    apparel: bool
    returned: bool
    price_unhappy: bool
    ticket_outcome: str | None  # None, "good" or "bad"
    damaged: bool
    via_app: bool


def _mood(rating: int) -> str:
    return "pos" if rating >= 4 else "neutral" if rating == 3 else "neg"


def _aspects(rng: Rng, exp: Experience, rating: int) -> list[tuple[str, str]]:
    happy = rating >= 4
    chosen: list[tuple[str, str]] = []
    if exp.late_days > 0:
        chosen.append(("delivery", "neg"))
    elif rng.chance(0.35):
        chosen.append(("delivery", "pos"))
    if exp.bad_quality or exp.damaged:
        chosen.append(("quality", "neg"))
    elif happy and rng.chance(0.45):
        chosen.append(("quality", "pos"))
    if exp.apparel:
        if exp.fit_problem:
            chosen.append(("fit", "neg"))
        elif happy and rng.chance(0.35):
            chosen.append(("fit", "pos"))
    if exp.price_unhappy:
        chosen.append(("price", "neg"))
    elif happy and rng.chance(0.2):
        chosen.append(("price", "pos"))
    if exp.ticket_outcome is not None:
        chosen.append(("support", "pos" if exp.ticket_outcome == "good" else "neg"))
    if exp.via_app and rng.chance(0.15):
        chosen.append(("app", "neg" if rng.chance(0.35) else "pos"))
    if exp.damaged:
        chosen.append(("packaging", "neg"))
    elif rng.chance(0.06):
        chosen.append(("packaging", "pos"))
    if exp.returned:
        chosen.append(("refunds", "neg" if rng.chance(0.25) else "pos"))
    if not chosen:
        chosen.append(("quality", "pos" if rating >= 3 else "neg"))
    if len(chosen) > 3:  # people mention a few things, the worst first
        chosen.sort(key=lambda a: a[1] != "neg")
        chosen = chosen[:3]
    return chosen


def review_text(rng: Rng, exp: Experience, rating: int, product: str) -> tuple[str, str]:
    """(title, body) of a review whose content matches the experience and the rating."""
    mood = _mood(rating)
    parts = [rng.choice(OPENERS[mood])]
    slots = {"product": product, "days": max(exp.late_days, 2)}
    for aspect, polarity in _aspects(rng, exp, rating):
        parts.append(rng.choice(ASPECT_PHRASES[aspect][polarity]).format(**slots))
    parts.append(rng.choice(CLOSERS[mood]))
    if rng.chance(INJECTION_RATE):
        parts.append(rng.choice(INJECTIONS))
    body = " ".join(p for p in parts if p)
    return rng.choice(TITLES[rating]), body


def ticket_text(rng: Rng, topic: str, order_id: str, product: str, days: int, amount: str) -> str:
    body = rng.choice(TICKET_BODIES[topic]).format(order_id=order_id, product=product, days=max(days, 1), amount=amount)
    if rng.chance(INJECTION_RATE):
        body += " " + rng.choice(INJECTIONS)
    return body


def price_comparison(rng: Rng, product: str) -> str:
    """A sentence about having found it cheaper elsewhere (the planted text-only churn cause)."""
    return rng.choice(PRICE_COMPARISONS).format(product=product)
