"""Everything one customer wrote (reviews and support tickets), newest first, straight from the database:
exact for "and her tickets?", where a semantic search would rank rather than list."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from winback.data.lookups.common import capped, require_customer
from winback.data.schema import Review, SupportTicket


class FeedbackItem(BaseModel):
    kind: Literal["review", "ticket"]
    source_id: str
    created_at: datetime
    rating: int | None  # reviews
    topic: str | None  # tickets
    status: str | None  # tickets
    order_id: str | None
    text: str  # untrusted, written by the customer


def customer_feedback(
    engine: Engine, customer_id: str, kind: Literal["review", "ticket"] | None = None, limit: int = 20
) -> tuple[list[FeedbackItem], list[str], dict[str, int]]:
    """The customer's newest texts, notes (e.g. a capped limit) and how many reviews and tickets they wrote in
    all. Raises CustomerNotFound."""
    notes: list[str] = []
    limit = capped(limit, notes)
    items: list[FeedbackItem] = []
    with Session(engine) as session:
        require_customer(session, customer_id)
        if kind in (None, "review"):
            for r in session.scalars(
                select(Review).where(Review.customer_id == customer_id).order_by(Review.created_at.desc()).limit(limit)
            ):
                text = f"{r.title}. {r.body}" if r.title else r.body
                items.append(
                    FeedbackItem(
                        kind="review",
                        source_id=r.review_id,
                        created_at=r.created_at,
                        rating=r.rating,
                        topic=None,
                        status=None,
                        order_id=r.order_id,
                        text=text,
                    )
                )
        if kind in (None, "ticket"):
            for t in session.scalars(
                select(SupportTicket)
                .where(SupportTicket.customer_id == customer_id)
                .order_by(SupportTicket.opened_at.desc())
                .limit(limit)
            ):
                items.append(
                    FeedbackItem(
                        kind="ticket",
                        source_id=t.ticket_id,
                        created_at=t.opened_at,
                        rating=None,
                        topic=t.topic,
                        status=t.status,
                        order_id=t.order_id,
                        text=t.body,
                    )
                )
    items.sort(key=lambda i: i.created_at, reverse=True)
    counts = _feedback_counts(engine, customer_id)
    total = sum(n for name, n in counts.items() if kind in (None, name))
    if total > limit:
        notes.append(f'{total:,} in all; the newest {limit} are shown (ask for more, e.g. "the last 20")')
    return items[:limit], notes, counts


def _feedback_counts(engine: Engine, customer_id: str) -> dict[str, int]:
    """How many reviews and support tickets the customer wrote in all."""
    with engine.connect() as connection:
        return {
            name: connection.execute(
                select(func.count()).select_from(table).where(table.c.customer_id == customer_id)
            ).scalar_one()
            for name, table in (("review", Review.__table__), ("ticket", SupportTicket.__table__))
        }


class TimelineEvent(BaseModel):
    at: datetime
    kind: Literal["order", "ticket", "review", "offer"]
    ref: str
    what: str


def customer_timeline(engine: Engine, customer_id: str, limit: int = 60) -> list[TimelineEvent]:
    """Orders, tickets, reviews and offers of one customer, newest first (for the customer card)."""
    from winback.data.schema import Offer, Order

    events: list[TimelineEvent] = []
    with Session(engine) as session:
        require_customer(session, customer_id)
        for o in session.scalars(
            select(Order).where(Order.customer_id == customer_id).order_by(Order.ordered_at.desc()).limit(limit)
        ):
            late = ""
            if o.delivered_at and o.promised_delivery_at and o.delivered_at > o.promised_delivery_at:
                late = f", {(o.delivered_at - o.promised_delivery_at).days} days late"
            events.append(
                TimelineEvent(
                    at=o.ordered_at,
                    kind="order",
                    ref=o.order_id,
                    what=f"{o.status}, {float(o.total_amount):,.2f}{late}",
                )
            )
        for t in session.scalars(
            select(SupportTicket)
            .where(SupportTicket.customer_id == customer_id)
            .order_by(SupportTicket.opened_at.desc())
            .limit(limit)
        ):
            events.append(TimelineEvent(at=t.opened_at, kind="ticket", ref=t.ticket_id, what=f"{t.topic} ({t.status})"))
        for r in session.scalars(
            select(Review).where(Review.customer_id == customer_id).order_by(Review.created_at.desc()).limit(limit)
        ):
            events.append(
                TimelineEvent(at=r.created_at, kind="review", ref=r.review_id, what=f"{r.rating} stars: {r.title}")
            )
        for f in session.scalars(
            select(Offer).where(Offer.customer_id == customer_id).order_by(Offer.created_at.desc()).limit(limit)
        ):
            events.append(
                TimelineEvent(
                    at=f.created_at,
                    kind="offer",
                    ref=f.offer_id,
                    what=f"{f.offer_type} {float(f.value):g} ({f.status})",
                )
            )
    events.sort(key=lambda e: e.at, reverse=True)
    return events[:limit]
