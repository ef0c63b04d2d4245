"""`winback demo advance --days N`: the N days after the demo shop's clock, for every customer, treated or
not: orders (with their lines, deliveries, tickets and reviews, drawn as during seeding) at each customer's
planted pace, plus the orders offers cause, according to the planted response (response.py) and the
offers each customer was actually sent. Orders in flight at the old clock are delivered when due.
Everything is one transaction: a failure leaves the shop as it was. Deterministic for (seed, clock, sends).
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, select, update

from winback.data.bulk import bulk_insert
from winback.data.clock import is_demo
from winback.data.demo.response import (
    DND_RATE_FACTOR,
    RESPONSE_MEAN_DAYS,
    SURE_THING_CODE_USE,
    response_chance,
)
from winback.data.demo.rng import Rng, stream_seed
from winback.data.demo.simulate import CustomerLife, CustomerSimulator, _State
from winback.data.demo.world import Calendar
from winback.data.schema import (
    Customer,
    DemoState,
    DemoTruth,
    Offer,
    OfferSend,
    Order,
    OrderItem,
    Review,
    SupportTicket,
)
from winback.errors import UserError

CUSTOMER_NUMBER = re.compile(r"C-(\d+)")
LOST_CAUSE_CLOSE_CHANCE = 0.05  # a lost cause who gets an offer closes the account this often (in the window)


class AdvanceError(UserError, RuntimeError):
    pass


@dataclass
class AdvanceReport:
    days: int
    start: datetime
    end: datetime
    rows: dict[str, int] = field(default_factory=dict)
    caused_orders: int = 0  # orders an offer caused (persuadable customers acting on it)
    delivered: int = 0  # orders in flight at the old clock, delivered since
    closed: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class _Sent:
    offer_type: str
    code: str | None
    sent_day: float
    valid_days: float
    offer_id: str


def advance_demo(engine: Engine, days: int) -> AdvanceReport:
    if not 1 <= days <= 366:
        raise AdvanceError("--days must be between 1 and 366")
    started = time.perf_counter()
    with engine.begin() as connection:
        state = _state(connection)
        start, end = state.as_of, state.as_of + timedelta(days=days)
        simulator = CustomerSimulator(state.seed, Calendar.for_as_of(state.seeded_as_of))
        simulator.horizon = simulator.day_of(end)
        report = AdvanceReport(days, start, end)
        lives = _simulate(connection, simulator, state.seed, simulator.day_of(start), report)
        for name, table in (
            ("orders", Order.__table__),
            ("order_items", OrderItem.__table__),
            ("reviews", Review.__table__),
            ("support_tickets", SupportTicket.__table__),
        ):
            rows = [row for life in lives for row in getattr(life, name)]
            report.rows[name] = bulk_insert(connection, table, rows)  # type: ignore[arg-type]  # ORM __table__ is a Table
        for life in lives:
            if life.customer.get("closed_at") is not None:
                connection.execute(
                    update(Customer)
                    .where(Customer.customer_id == life.customer["customer_id"], Customer.closed_at.is_(None))
                    .values(closed_at=life.customer["closed_at"])
                )
                report.closed += 1
        report.delivered = _deliver_in_flight(connection, end)
        connection.execute(update(DemoState).where(DemoState.state_id == 1).values(as_of=end))
    report.seconds = time.perf_counter() - started
    return report


@dataclass(frozen=True)
class _Clock:
    seed: int
    seeded_as_of: datetime
    as_of: datetime


def _state(connection: Connection) -> _Clock:
    if not is_demo(connection):
        raise AdvanceError("not a demo database: `winback demo advance` runs only on a shop made by `winback seed`")
    row = connection.execute(
        select(DemoState.seed, DemoState.seeded_as_of, DemoState.as_of).where(DemoState.state_id == 1)
    ).first()
    if row is None:
        raise AdvanceError("the demo database has no clock (demo_state is empty); seed it again with `winback seed`")
    return _Clock(row.seed, row.seeded_as_of, row.as_of)


def _deliver_in_flight(connection: Connection, end: datetime) -> int:
    due = and_(Order.status.in_(("placed", "shipped")), Order.promised_delivery_at <= end)
    result = connection.execute(
        update(Order).where(due).values(status="delivered", delivered_at=Order.promised_delivery_at)
    )
    return int(result.rowcount or 0)


def _counts(connection: Connection, column: Any, customer: Any) -> dict[str, int]:
    return {c: int(n) for c, n in connection.execute(select(customer, func.count(column)).group_by(customer)).all()}


def _sent_offers(connection: Connection, simulator: CustomerSimulator) -> dict[str, list[_Sent]]:
    rows = connection.execute(
        select(
            Offer.customer_id, Offer.offer_id, Offer.offer_type, Offer.redeem_code, Offer.valid_until, OfferSend.sent_at
        )
        .join(OfferSend, OfferSend.offer_id == Offer.offer_id)
        .where(OfferSend.status == "sent", OfferSend.sent_at.is_not(None))
        .order_by(OfferSend.sent_at)
    ).all()
    out: dict[str, list[_Sent]] = defaultdict(list)
    for customer_id, offer_id, offer_type, code, valid_until, sent_at in rows:
        if sent_at is None:
            continue
        valid = (valid_until - sent_at).total_seconds() / 86400.0 if valid_until else 30.0
        out[customer_id].append(_Sent(offer_type, code, simulator.day_of(sent_at), valid, offer_id))
    return out


def _simulate(
    connection: Connection, simulator: CustomerSimulator, seed: int, start: float, report: AdvanceReport
) -> list[CustomerLife]:
    truth = {
        r.customer_id: r
        for r in connection.execute(
            select(DemoTruth.customer_id, DemoTruth.response_type, DemoTruth.offer_response, DemoTruth.reorder_rate)
        ).all()
    }
    closed = {
        c: simulator.day_of(at)
        for c, at in connection.execute(
            select(Customer.customer_id, Customer.closed_at).where(Customer.closed_at.is_not(None))
        )
        if at is not None
    }
    orders = _counts(connection, Order.order_id, Order.customer_id)
    tickets = _counts(connection, SupportTicket.ticket_id, SupportTicket.customer_id)
    reviews = _counts(connection, Review.review_id, Review.customer_id)
    sent = _sent_offers(connection, simulator)
    end = simulator.horizon
    lives: list[CustomerLife] = []
    for customer_id in sorted(truth):
        match = CUSTOMER_NUMBER.fullmatch(customer_id)
        if match is None or (customer_id in closed and closed[customer_id] <= start):
            continue
        index = int(match.group(1)) - 1000
        t = truth[customer_id]
        drawn = simulator.draw_customer(Rng(stream_seed(seed, "customer", index)), index)
        life = drawn.life
        life.customer = {"customer_id": customer_id}
        rng = Rng(stream_seed(seed, "advance", index, round(start * 1000)))
        offers = [s for s in sent.get(customer_id, []) if s.sent_day < end]
        when_codes = _order_times(simulator, rng, t, offers, start, end, seed, index, life, report)
        order_no, ticket_no, review_no = (
            orders.get(customer_id, 0),
            tickets.get(customer_id, 0),
            reviews.get(customer_id, 0),
        )
        for day, code in when_codes:
            order_no += 1
            _, ticket_no, review_no = simulator.place_order(
                rng, life, drawn.traits, drawn.country, drawn.favourites, _State(), day, order_no, ticket_no, review_no
            )
            life.orders[-1]["redeem_code"] = code
        if life.orders or life.customer.get("closed_at") is not None:
            lives.append(life)
    return lives


def _order_times(
    simulator: CustomerSimulator,
    rng: Rng,
    truth: Any,
    offers: list[_Sent],
    start: float,
    end: float,
    seed: int,
    index: int,
    life: CustomerLife,
    report: AdvanceReport,
) -> list[tuple[float, str | None]]:
    """Order days in (start, end] and the offer code each quotes (None: no code)."""
    kind, rate = truth.response_type, float(truth.reorder_rate)
    # the customer's own pace, lowered after an offer for a do-not-disturb customer
    annoyed_from = min((o.sent_day for o in offers), default=None) if kind == "do_not_disturb" else None
    times: list[float] = []
    t = start
    while True:
        pace = rate * (DND_RATE_FACTOR if annoyed_from is not None and t >= annoyed_from else 1.0)
        step = rng.exponential(1.0 / pace)
        if annoyed_from is not None and t < annoyed_from < t + step:
            t = annoyed_from  # memoryless: draw again at the new pace
            continue
        t += step
        if t > end:
            break
        times.append(t)
    out: list[tuple[float, str | None]] = [(d, None) for d in times]
    for offer in offers:
        # one stream per offer: whether and when it works does not depend on how time was advanced
        answer = Rng(stream_seed(seed, "offer-response", index, offer.offer_id))
        if kind == "persuadable":
            acts = answer.chance(response_chance(float(truth.offer_response), offer.offer_type))
            delay = answer.exponential(RESPONSE_MEAN_DAYS)
            day = offer.sent_day + delay
            if acts and delay <= offer.valid_days and start < day <= end:
                out.append((day, offer.code))
                report.caused_orders += 1
        elif kind == "sure_thing" and answer.chance(SURE_THING_CODE_USE):
            for i, (day, code) in enumerate(out):
                if code is None and offer.sent_day < day <= offer.sent_day + offer.valid_days:
                    out[i] = (day, offer.code)
                    break
        elif kind == "lost_cause" and answer.chance(LOST_CAUSE_CLOSE_CHANCE):
            day = offer.sent_day + answer.exponential(15.0)
            if start < day <= end:
                life.customer["closed_at"] = simulator.when_of(day)
                out = [(d, c) for d, c in out if d < day]
    return sorted(out)
