"""Simulate one demo customer's life, from sign-up to churn or the as-of date.

The generative process is documented in docs/demo-shop.md. In short: each customer has latent traits;
orders arrive as a Poisson process whose rate decays with age and dissatisfaction; every order can be
late, faulty, ill-fitting or returned, can lead to a support ticket (resolved or not) and to a review
whose rating and words follow the experience. Bad experiences, shop-wide price rises and a competitor
campaign raise a weekly churn hazard; the customer churns when an exponential clock with that hazard
rings before the next order. Time runs in days (floats) from the calendar start.
"""

from __future__ import annotations

import heapq
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from winback.data.demo.phrases import TICKET_CHANNELS
from winback.data.demo.response import planted_response
from winback.data.demo.rng import Rng, stream_seed
from winback.data.demo.texts import Experience, price_comparison, review_text, ticket_text
from winback.data.demo.world import (
    ACQUISITION_CHANNELS,
    ACQUISITION_WEIGHTS,
    CATEGORIES,
    CATEGORY_WEIGHTS,
    COUNTRIES,
    COUNTRY_WEIGHTS,
    FIRST_NAMES,
    LAST_NAMES,
    PRODUCTS_PER_NAME,
    SEGMENT_HAZARD_FACTOR,
    SEGMENT_SPEND_THRESHOLDS,
    SEGMENTS,
    Calendar,
    Category,
)

# Weekly churn hazard added per unit of each dissatisfaction state (the planted drivers).
BASE_WEEKLY_HAZARD = 0.0032
HAZARD_PER_UNIT = {
    "late_delivery": 0.0090,
    "unresolved_tickets": 0.0075,
    "poor_experience": 0.0090,
    "price_rise": 0.0160,
    "found_cheaper": 0.0250,
}
COMPETITOR_HAZARD = 0.0170  # times price_sensitivity squared, while the competitor campaign runs
MAX_WEEKLY_HAZARD = 0.30
HALF_LIFE_DAYS = {
    "late_delivery": 120.0,
    "unresolved_tickets": 150.0,
    "poor_experience": 150.0,
    "price_rise": 240.0,
    "found_cheaper": 180.0,
}
# The text-only cause: a customer may start shopping around after finding a better price elsewhere (at a
# rate of FOUND_CHEAPER_PER_YEAR x price sensitivity squared, three times that while the competitor's
# campaign runs). It raises the churn hazard but not the order rate, ratings or tickets; it shows only in
# what the customer writes.
FOUND_CHEAPER_PER_YEAR = 0.8
FOUND_CHEAPER_MENTION = 0.8  # chance that a review or ticket written afterwards says so
TEXT_ONLY = ("found_cheaper",)
UNRESOLVED_TICKET_UNITS = 2.0  # each ticket left unresolved for over a week, until it is resolved
UNRESOLVED_AFTER_DAYS = 7.0
MAX_STEP_DAYS = 30.0  # hazards are re-evaluated at least monthly as states decay
FREE_SHIPPING_FROM = 50.0
SHIPPING_FEE = 4.95
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
DRIVERS = ("late_delivery", "unresolved_tickets", "poor_experience", "price_rise", "competitor", "found_cheaper")


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    category: Category
    base_price: float


def build_catalogue(seed: int) -> tuple[list[Product], dict[str, list[Product]]]:
    """Every product with its list price before price rises; fixed for a seed."""
    rng = Rng(stream_seed(seed, "catalogue"))
    products: list[Product] = []
    by_category: dict[str, list[Product]] = {}
    for ci, category in enumerate(CATEGORIES):
        for ni, name in enumerate(category.products):
            for variant in range(PRODUCTS_PER_NAME):
                price = category.median_price * rng.lognormal(1.0, 0.25)
                product = Product(
                    f"P-{ci + 1:02d}{ni + 1:02d}{variant + 1}", name, category, round(price - 0.01, 0) + 0.99
                )
                products.append(product)
                by_category.setdefault(category.name, []).append(product)
    return products, by_category


@dataclass
class Traits:
    price_sensitivity: float
    patience: float
    base_satisfaction: float
    orders_per_month: float
    order_decay_per_year: float
    basket_scale: float
    fit_propensity: float
    review_propensity: float
    app_share: float
    base_hazard: float


@dataclass
class CustomerLife:
    """Rows produced for one customer (dicts keyed by contract column names)."""

    customer: dict[str, Any]
    orders: list[dict[str, Any]] = field(default_factory=list)
    order_items: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    support_tickets: list[dict[str, Any]] = field(default_factory=list)
    truth: dict[str, Any] = field(default_factory=dict)


@dataclass
class DrawnCustomer:
    life: CustomerLife  # with only the customer row filled
    traits: Traits
    country: Any
    favourites: list[int]
    signup_day: float


def _money(value: float) -> Decimal:
    return Decimal(round(value * 100)).scaleb(-2)


class _State:
    """Dissatisfaction states that decay exponentially, plus counters that do not."""

    def __init__(self) -> None:
        self.level = {k: 0.0 for k in HALF_LIFE_DAYS}
        self.unresolved = 0
        self.at = 0.0

    def decay_to(self, t: float) -> None:
        dt = t - self.at
        if dt > 0:
            for key, half_life in HALF_LIFE_DAYS.items():
                self.level[key] *= 0.5 ** (dt / half_life)
            self.at = t

    def contributions(self, traits: Traits, competitor_active: bool) -> dict[str, float]:
        units = dict(self.level)
        units["unresolved_tickets"] += UNRESOLVED_TICKET_UNITS * self.unresolved
        out = {"base": traits.base_hazard}
        for key, per_unit in HAZARD_PER_UNIT.items():
            out[key] = per_unit * units[key]
        out["competitor"] = COMPETITOR_HAZARD * traits.price_sensitivity**2 if competitor_active else 0.0
        return out

    def total_units(self) -> float:
        """Dissatisfaction that slows ordering (the text-only cause does not: it shows only in words)."""
        felt = sum(v for k, v in self.level.items() if k not in TEXT_ONLY)
        return felt + UNRESOLVED_TICKET_UNITS * self.unresolved


class CustomerSimulator:
    """Simulates customers for one seed and calendar; `simulate(i)` depends only on (seed, i)."""

    def __init__(self, seed: int, calendar: Calendar) -> None:
        self.seed = seed
        self.cal = calendar
        self.horizon = (calendar.as_of - calendar.start).total_seconds() / 86400.0
        self.signup_horizon = self.horizon  # sign-ups happen before the seeded as-of, however far time runs on
        _, self.by_category = build_catalogue(seed)
        self.product_names = {p.product_id: p.name for ps in self.by_category.values() for p in ps}
        self.boundaries = [self._day(d) for d in calendar.boundaries()]
        self.price_rises = [(self._day(d), rise) for d, rise in calendar.price_rises]
        self.competitor = (self._day(calendar.competitor_start), self._day(calendar.competitor_end))
        self.carrier_trouble = (self._day(calendar.carrier_trouble_start), self._day(calendar.carrier_trouble_end))
        self.support_backlog = (self._day(calendar.support_backlog_start), self._day(calendar.support_backlog_end))

    # -- time helpers -------------------------------------------------------------------------
    def _day(self, when: datetime) -> float:
        return (when - self.cal.start).total_seconds() / 86400.0

    def _when(self, day: float) -> datetime:
        return self.cal.start + timedelta(seconds=round(day * 86400.0))

    def day_of(self, when: datetime) -> float:
        return self._day(when)

    def when_of(self, day: float) -> datetime:
        return self._when(day)

    def _price_index(self, day: float) -> float:
        index = 1.0
        for when, rise in self.price_rises:
            if day >= when:
                index *= 1.0 + rise
        return index

    @staticmethod
    def _within(day: float, window: tuple[float, float]) -> bool:
        return window[0] <= day < window[1]

    # -- the customer ---------------------------------------------------------------------------
    def draw_customer(self, rng: Rng, index: int) -> DrawnCustomer:
        """The customer's row and hidden traits: the first draws of its stream, so re-drawing them from a
        fresh stream gives the same customer (`winback demo advance` continues lives this way)."""
        number = 1000 + index
        customer_id = f"C-{number}"

        country = rng.weighted(COUNTRIES, COUNTRY_WEIGHTS)
        acquisition = rng.weighted(ACQUISITION_CHANNELS, ACQUISITION_WEIGHTS)
        # The shop grows: sign-up density rises over time (density proportional to t^0.5).
        signup = self.signup_horizon * rng.uniform() ** (1.0 / 1.5)
        ps = min(0.99, max(0.01, rng.kumaraswamy(2.0, 2.6) + acquisition.price_sensitivity_shift))
        traits = Traits(
            price_sensitivity=ps,
            patience=rng.kumaraswamy(2.5, 2.0),
            base_satisfaction=rng.kumaraswamy(4.0, 2.0),
            orders_per_month=rng.lognormal(0.55, 0.6),
            order_decay_per_year=rng.uniform(0.0, 0.35),
            basket_scale=rng.lognormal(1.0, 0.3),
            fit_propensity=rng.kumaraswamy(1.5, 5.0),
            review_propensity=rng.uniform(0.04, 0.30),
            app_share=rng.uniform(0.0, 0.8),
            base_hazard=0.0,
        )
        expected_spend = traits.orders_per_month * 12 * 55.0 * traits.basket_scale
        segment = SEGMENTS[sum(expected_spend >= t for t in SEGMENT_SPEND_THRESHOLDS) - 1]
        traits.base_hazard = BASE_WEEKLY_HAZARD * acquisition.hazard_factor * SEGMENT_HAZARD_FACTOR[segment]
        favourites = rng.sample(range(len(CATEGORIES)), 3)

        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
        life = CustomerLife(
            customer={
                "customer_id": customer_id,
                "name": f"{first} {last}",
                "email": f"{local}{number}@{rng.choice(country.email_domains)}",
                "country": country.name,
                "city": rng.choice(country.cities),
                "signup_at": self._when(signup),
                "segment": segment,
                "acquisition_channel": acquisition.name,
                "marketing_opt_in": rng.chance(0.55),
                "closed_at": None,
            }
        )
        return DrawnCustomer(life, traits, country, favourites, signup)

    def simulate(self, index: int) -> CustomerLife:
        rng = Rng(stream_seed(self.seed, "customer", index))
        drawn = self.draw_customer(rng, index)
        life, traits, country, favourites = drawn.life, drawn.traits, drawn.country, drawn.favourites
        signup = drawn.signup_day

        state = _State()
        state.at = signup
        # drawn from their own stream, so customers who never shop around live exactly as before
        words = Rng(stream_seed(self.seed, "found_cheaper", index))
        comparing_from = self._comparing_from(words, traits, signup)
        pending: list[tuple[float, int, str, float]] = []  # (day, seq, effect, amount)
        seq = 0
        t = signup
        first_order_due = signup + rng.exponential(2.0)  # most people buy right after signing up
        churned_at: float | None = None
        order_no = ticket_no = review_no = 0
        final_contrib: dict[str, float] = {}

        while True:
            state.decay_to(t)
            competitor_on = self._within(t, self.competitor)
            contrib = state.contributions(traits, competitor_on)
            weekly = min(MAX_WEEKLY_HAZARD, sum(contrib.values()))
            years = (t - signup) / 365.0
            rate_per_day = (traits.orders_per_month / 30.4) * math.exp(
                -traits.order_decay_per_year * years - 0.15 * state.total_units()
            )
            stop = min(self.horizon, t + MAX_STEP_DAYS)
            for b in self.boundaries:
                if b > t:
                    stop = min(stop, b)
                    break
            if pending:
                stop = min(stop, pending[0][0])
            if comparing_from is not None and t < comparing_from:
                stop = min(stop, comparing_from)
            to_churn = rng.exponential(7.0 / weekly)
            to_order = (first_order_due - t) if order_no == 0 else rng.exponential(1.0 / rate_per_day)
            step = min(to_churn, to_order)
            if t + step >= stop:
                t = stop
                self._apply_due(state, pending, t, traits)
                if comparing_from is not None and abs(t - comparing_from) < 1e-9:
                    state.level["found_cheaper"] = 1.0
                if t >= self.horizon:
                    final_contrib = contrib
                    break
                continue
            t += step
            if to_churn < to_order:
                churned_at = t
                final_contrib = contrib
                break
            order_no += 1
            texts_before = (len(life.reviews), len(life.support_tickets))
            new_effects, ticket_no, review_no = self.place_order(
                rng, life, traits, country, favourites, state, t, order_no, ticket_no, review_no
            )
            if comparing_from is not None and t >= comparing_from:
                self._mention_prices(words, life, texts_before)
            for effect in new_effects:
                seq += 1
                heapq.heappush(pending, (effect[0], seq, effect[1], effect[2]))
            state.decay_to(t)

        if churned_at is not None:
            p_close = 0.10 + (0.25 if state.unresolved else 0.0)
            if rng.chance(p_close):
                closed = churned_at + rng.exponential(10.0)
                if closed < self.horizon:
                    life.customer["closed_at"] = self._when(closed)

        total = sum(final_contrib.values()) or 1.0
        causes = {k: round(v / total, 4) for k, v in final_contrib.items()}
        life.truth = {
            "customer_id": life.customer["customer_id"],
            "price_sensitivity": round(traits.price_sensitivity, 4),
            "patience": round(traits.patience, 4),
            "base_satisfaction": round(traits.base_satisfaction, 4),
            "orders_per_month": round(traits.orders_per_month, 4),
            "base_hazard": round(traits.base_hazard, 6),
            "final_hazard": round(min(MAX_WEEKLY_HAZARD, total), 6),
            "churned": churned_at is not None,
            "churned_at": self._when(churned_at) if churned_at is not None else None,
            "primary_cause": max(causes, key=causes.__getitem__) if churned_at is not None else None,
            "causes": causes,
            **planted_response(Rng(stream_seed(self.seed, "response", index)), traits, churned_at is not None, total),
        }
        return life

    def _comparing_from(self, words: Rng, traits: Traits, signup: float) -> float | None:
        """The day this customer starts shopping around, or None (first event of a piecewise Poisson process)."""
        rate = FOUND_CHEAPER_PER_YEAR * traits.price_sensitivity**2 / 365.0  # per day
        start, end = self.competitor
        need = words.exponential(1.0)  # the process's unit-rate clock, spent at 1x or 3x the rate
        pieces = [(signup, max(signup, start), 1.0), (max(signup, start), max(signup, end), 3.0)]
        pieces.append((max(signup, end), self.horizon, 1.0))
        for low, high, factor in pieces:
            if high <= low:
                continue
            span = rate * factor * (high - low)
            if need < span:
                return low + need / (rate * factor)
            need -= span
        return None

    def _mention_prices(self, words: Rng, life: CustomerLife, before: tuple[int, int]) -> None:
        """Put a price comparison into most reviews and tickets the last order led to: a review becomes about
        it (its opener, the comparison, its closer), a ticket gets it added."""
        for review in life.reviews[before[0] :]:
            if words.chance(FOUND_CHEAPER_MENTION):
                sentences = _SENTENCE.split(review["body"])
                comparison = price_comparison(words, self.product_names.get(review["product_id"], "item"))
                kept = [sentences[0], comparison] + (sentences[-1:] if len(sentences) > 2 else [])
                review["body"] = " ".join(kept)
        for ticket in life.support_tickets[before[1] :]:
            if words.chance(FOUND_CHEAPER_MENTION):
                ticket["body"] = f"{ticket['body']} {price_comparison(words, 'item')}"

    def _apply_due(self, state: _State, pending: list, t: float, traits: Traits) -> None:
        """Apply effects scheduled at or before t, and shop-wide price rises happening at t."""
        for when, rise in self.price_rises:
            if abs(when - t) < 1e-9:
                state.level["price_rise"] += rise * 10.0 * traits.price_sensitivity**1.5
        while pending and pending[0][0] <= t:
            _, _, effect, amount = heapq.heappop(pending)
            if effect == "unresolved":
                state.unresolved += 1
            elif effect == "resolved_late":
                state.unresolved = max(0, state.unresolved - 1)
            else:
                state.level[effect] = max(0.0, state.level[effect] + amount)

    def place_order(
        self,
        rng: Rng,
        life: CustomerLife,
        traits: Traits,
        country: Any,
        favourites: list[int],
        state: _State,
        t: float,
        order_no: int,
        ticket_no: int,
        review_no: int,
    ) -> tuple[list[tuple[float, str, float]], int, int]:
        """One order and everything it leads to; returns future effects on the customer's state."""
        number = life.customer["customer_id"][2:]
        order_id = f"O-{number}-{order_no:03d}"
        effects: list[tuple[float, str, float]] = []
        index = self._price_index(t)

        # Basket
        n_lines = min(6, 1 + int(rng.exponential(0.9 * traits.basket_scale)))
        subtotal = 0.0
        items = []
        apparel = False
        for line_no in range(1, n_lines + 1):
            if rng.chance(0.8):
                category = CATEGORIES[rng.choice(favourites)]
            else:
                category = rng.weighted(CATEGORIES, CATEGORY_WEIGHTS)
            product = rng.choice(self.by_category[category.name])
            quantity = 2 if rng.chance(0.1) else 1
            unit_price = round(product.base_price * index, 2)
            subtotal += unit_price * quantity
            apparel = apparel or category.apparel
            items.append((product, quantity, unit_price))
            life.order_items.append(
                {
                    "order_id": order_id,
                    "line_no": line_no,
                    "product_id": product.product_id,
                    "category": category.name,
                    "quantity": quantity,
                    "unit_price": _money(unit_price),
                }
            )
        main_product = max(items, key=lambda it: it[2])[0]
        month = self._when(t).month
        promo_chance = 0.06 + 0.35 * traits.price_sensitivity + (0.15 if month in (1, 7, 11) else 0.0)
        discount = subtotal * rng.choice((0.10, 0.15, 0.20, 0.25)) if rng.chance(promo_chance) else 0.0
        shipping = 0.0 if subtotal - discount >= FREE_SHIPPING_FROM else SHIPPING_FEE
        total = subtotal - discount + shipping
        channel = "app" if rng.chance(traits.app_share) else ("marketplace" if rng.chance(0.12) else "web")

        # Fulfilment
        promised = t + rng.integer(*country.transit_days) + rng.uniform(0.3, 0.7)
        late_rate = country.late_rate
        if self._within(t, self.carrier_trouble):
            late_rate *= 2.6
        if month == 12:
            late_rate *= 1.7
        cancelled = rng.chance(0.025)
        late_days = 0
        delivered: float | None = None
        if not cancelled:
            if rng.chance(late_rate):
                late_days = 1 + int(rng.exponential(3.0))
                delivered = promised + late_days - rng.uniform(0.0, 0.5)
            else:
                delivered = promised - rng.uniform(0.0, 1.2)
        bad_quality = rng.chance(0.04 + 0.10 * (1.0 - traits.base_satisfaction))
        damaged = rng.chance(0.015)
        fit_problem = apparel and rng.chance(0.04 + 0.40 * traits.fit_propensity)
        returned_at: float | None = None
        if delivered is not None and (
            (fit_problem and rng.chance(0.7)) or ((bad_quality or damaged) and rng.chance(0.45)) or rng.chance(0.02)
        ):
            returned_at = delivered + rng.uniform(2.0, 18.0)

        delivered_by_now = delivered is not None and delivered <= self.horizon
        if cancelled:
            status = "cancelled"
        elif not delivered_by_now:
            status = "shipped" if t + 1.0 <= self.horizon else "placed"
        elif returned_at is not None and returned_at <= self.horizon:
            status = "returned"
        else:
            status = "delivered"
        life.orders.append(
            {
                "order_id": order_id,
                "customer_id": life.customer["customer_id"],
                "ordered_at": self._when(t),
                "status": status,
                "total_amount": _money(total),
                "discount_amount": _money(discount),
                "promised_delivery_at": self._when(promised),
                "delivered_at": self._when(delivered) if delivered_by_now and delivered is not None else None,
                "returned_at": self._when(returned_at) if status == "returned" and returned_at is not None else None,
                "channel": channel,
            }
        )
        if cancelled or delivered is None:
            return effects, ticket_no, review_no

        # What the experience does to the customer
        if late_days:
            effects.append((delivered, "late_delivery", (0.6 + late_days / 6.0) * (1.3 - traits.patience)))
        if bad_quality or damaged:
            effects.append((delivered, "poor_experience", 1.0 * (1.2 - traits.patience)))
        if fit_problem:
            effects.append((delivered, "poor_experience", 0.35))

        # Support tickets
        ticket_outcome: str | None = None
        reasons: list[tuple[str, float]] = []
        if late_days and rng.chance(0.15 + 0.06 * late_days):
            reasons.append(("delivery_delay", promised + rng.uniform(1.0, 3.0)))
        if damaged or (bad_quality and rng.chance(0.25)):
            reasons.append(("damaged_item", delivered + rng.uniform(0.1, 2.0)))
        if returned_at is not None and rng.chance(0.22):
            reasons.append(("refund", returned_at + rng.uniform(7.0, 15.0)))
        if fit_problem and rng.chance(0.12):
            reasons.append(("sizing", delivered + rng.uniform(0.2, 3.0)))
        if rng.chance(0.006):
            reasons.append(("payment", t + rng.uniform(0.0, 2.0)))
        if rng.chance(0.004):
            reasons.append(("account", t + rng.uniform(0.0, 10.0)))
        if channel == "app" and rng.chance(0.01):
            reasons.append(("app_bug", t + rng.uniform(0.0, 1.0)))
        if rng.chance(0.02 * traits.price_sensitivity * index):
            reasons.append(("discount_code", t + rng.uniform(0.0, 3.0)))
        for topic, opened in reasons:
            if opened > self.horizon:
                continue
            ticket_no += 1
            outcome = self._ticket(
                rng, life, traits, topic, opened, order_id, main_product, late_days, total, ticket_no, effects
            )
            ticket_outcome = outcome if ticket_outcome != "bad" else "bad"

        # Review
        bad_experience = late_days > 0 or bad_quality or damaged or fit_problem
        if rng.chance(traits.review_propensity * (1.8 if bad_experience else 1.0)):
            written = (returned_at if returned_at is not None else delivered) + rng.uniform(1.0, 14.0)
            if written <= self.horizon:
                price_unhappy = (
                    traits.price_sensitivity > 0.55 and index > 1.05 and rng.chance(traits.price_sensitivity)
                )
                score = (
                    3.0
                    + 2.0 * traits.base_satisfaction
                    + rng.normal(0.0, 0.6)
                    - (1.2 + 0.12 * min(late_days, 10) if late_days else 0.0)
                    - (1.7 if bad_quality or damaged else 0.0)
                    - (0.9 if fit_problem else 0.0)
                    - (0.7 if price_unhappy else 0.0)
                    - (1.0 if ticket_outcome == "bad" else 0.0)
                )
                rating = max(1, min(5, int(round(score))))
                review_no += 1
                title, body = review_text(
                    rng,
                    Experience(
                        late_days=late_days,
                        bad_quality=bad_quality,
                        fit_problem=fit_problem,
                        apparel=apparel,
                        returned=returned_at is not None,
                        price_unhappy=price_unhappy,
                        ticket_outcome=ticket_outcome,
                        damaged=damaged,
                        via_app=channel == "app",
                    ),
                    rating,
                    main_product.name,
                )
                life.reviews.append(
                    {
                        "review_id": f"R-{number}-{review_no:02d}",
                        "customer_id": life.customer["customer_id"],
                        "order_id": order_id,
                        "product_id": main_product.product_id,
                        "rating": rating,
                        "title": title,
                        "body": body,
                        "created_at": self._when(written),
                    }
                )
        return effects, ticket_no, review_no

    def _ticket(
        self,
        rng: Rng,
        life: CustomerLife,
        traits: Traits,
        topic: str,
        opened: float,
        order_id: str,
        product: Product,
        late_days: int,
        total: float,
        ticket_no: int,
        effects: list[tuple[float, str, float]],
    ) -> str:
        """Write one ticket and schedule what its handling does to the customer; returns good/bad."""
        backlog = self._within(opened, self.support_backlog)
        p_resolve = (0.75 if topic == "refund" else 0.86) * (0.6 if backlog else 1.0)
        resolved_at: float | None = None
        if rng.chance(p_resolve):
            resolved_at = opened + rng.exponential(2.0 * (3.5 if backlog else 1.0))
        if resolved_at is None or resolved_at - opened > UNRESOLVED_AFTER_DAYS:
            effects.append((opened + UNRESOLVED_AFTER_DAYS, "unresolved", 0.0))
            if resolved_at is not None:
                effects.append((resolved_at, "resolved_late", 0.0))
        satisfaction: int | None = None
        outcome = "bad"
        closed_by_now = resolved_at is not None and resolved_at <= self.horizon
        if resolved_at is not None:
            days = resolved_at - opened
            sat = max(1, min(5, int(round(4.3 - 0.25 * days + rng.normal(0.0, 0.7)))))
            outcome = "good" if sat >= 4 else "bad"
            effects.append((resolved_at, "unresolved_tickets", 0.8 if sat <= 2 else (-0.3 if sat >= 4 else 0.0)))
            if closed_by_now and rng.chance(0.6):
                satisfaction = sat
        number = life.customer["customer_id"][2:]
        amount = f"{total:.2f}"
        life.support_tickets.append(
            {
                "ticket_id": f"T-{number}-{ticket_no:02d}",
                "customer_id": life.customer["customer_id"],
                "order_id": order_id if topic not in ("account",) else None,
                "opened_at": self._when(opened),
                "closed_at": self._when(resolved_at) if closed_by_now and resolved_at is not None else None,
                "channel": rng.choice(TICKET_CHANNELS),
                "topic": topic,
                "status": "resolved" if closed_by_now else ("pending" if rng.chance(0.4) else "open"),
                "satisfaction": satisfaction,
                "body": ticket_text(rng, topic, order_id, product.name, late_days, amount),
            }
        )
        return outcome
