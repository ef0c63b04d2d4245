"""Everything about one customer on one card: identity, activity, open tickets, recent reviews, the latest
churn score with its drivers, and the offers made so far. Personal data is masked for roles without access."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from winback.data.customer_facts import customer_facts
from winback.data.lookups.common import latest_run, reference_date, require_customer
from winback.data.schema import ChurnScore, Offer, Order, Review, SupportTicket
from winback.roles import Role, mask_email, mask_name, may_see_pii

RECENT = 5
EXCERPT_CHARS = 280


class ProfileArgs(BaseModel):
    customer_id: str = Field(min_length=1, max_length=64, description="customer id, e.g. C-1042")


class OrderBrief(BaseModel):
    order_id: str
    ordered_at: datetime
    status: str
    total_amount: float
    late_days: float | None  # days after the promised date; None when not delivered or no promise


class TicketBrief(BaseModel):
    ticket_id: str
    opened_at: datetime
    topic: str
    status: str
    days_open: int
    excerpt: str  # untrusted text written by the customer


class ReviewBrief(BaseModel):
    review_id: str
    created_at: datetime
    rating: int
    title: str
    excerpt: str  # untrusted text written by the customer


class OfferBrief(BaseModel):
    offer_id: str
    created_at: datetime
    offer_type: str
    value: float
    status: str
    subject: str


class ChurnBrief(BaseModel):
    probability: float
    risk_band: str
    model_version: str
    scored_at: datetime
    drivers: list[dict[str, Any]]
    from_latest_run: bool  # False when the customer was not in the latest run (e.g. account closed since)
    # the model's heads (None when the scoring model had none): next 90 days, next order, next 12 months
    order_probability_90d: float | None = None
    expected_next_order_at: datetime | None = None
    predicted_value_12m: float | None = None


class CustomerProfile(BaseModel):
    customer_id: str
    name: str
    email: str
    personal_data_visible: bool
    country: str
    city: str
    language: str | None = None  # the customer's own choice of language for messages (None: from the country)
    segment: str
    acquisition_channel: str
    marketing_opt_in: bool
    signup_at: datetime
    closed_at: datetime | None
    tenure_days: int
    as_of: datetime
    orders: int
    delivered: int
    late_deliveries: int
    returned: int
    cancelled: int
    lifetime_value: float  # paid for non-cancelled orders, all time
    spend_365d: float
    mean_order_value: float | None
    last_order_at: datetime | None
    days_since_last_order: int | None
    recent_orders: list[OrderBrief]
    open_tickets: list[TicketBrief]
    recent_reviews: list[ReviewBrief]
    churn: ChurnBrief | None
    offers: list[OfferBrief]


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1].rstrip() + "…"


def customer_profile(engine: Engine, customer_id: str, role: str | Role) -> CustomerProfile:
    """The card a support agent opens before talking to the customer. Raises CustomerNotFound."""
    show_pii = may_see_pii(role)
    args = ProfileArgs(customer_id=customer_id)
    with Session(engine) as connection:
        customer = require_customer(connection, args.customer_id)
        cid = customer.customer_id
        as_of = reference_date(connection)
        facts = customer_facts(connection, as_of, [cid])[cid]
        recent_orders = (
            connection.execute(
                select(Order).where(Order.customer_id == cid).order_by(Order.ordered_at.desc()).limit(RECENT)
            )
            .scalars()
            .all()
        )
        open_tickets = (
            connection.execute(
                select(SupportTicket)
                .where(SupportTicket.customer_id == cid, SupportTicket.status != "resolved")
                .order_by(SupportTicket.opened_at.desc())
                .limit(RECENT)
            )
            .scalars()
            .all()
        )
        reviews = (
            connection.execute(
                select(Review).where(Review.customer_id == cid).order_by(Review.created_at.desc()).limit(RECENT)
            )
            .scalars()
            .all()
        )
        offers = (
            connection.execute(
                select(Offer).where(Offer.customer_id == cid).order_by(Offer.created_at.desc()).limit(RECENT * 2)
            )
            .scalars()
            .all()
        )
        score = (
            connection.execute(
                select(ChurnScore).where(ChurnScore.customer_id == cid).order_by(ChurnScore.scored_at.desc()).limit(1)
            )
            .scalars()
            .first()
        )
        run = latest_run(connection) if score is not None else None

    last_order = facts.last_order_at
    paid_orders = facts.orders - facts.cancelled
    churn = None
    if score is not None:
        churn = ChurnBrief(
            probability=float(score.probability),
            risk_band=score.risk_band,
            model_version=score.model_version,
            scored_at=score.scored_at,
            drivers=list(score.drivers or []),
            order_probability_90d=score.order_probability_90d,
            expected_next_order_at=score.expected_next_order_at,
            predicted_value_12m=None if score.predicted_value_12m is None else float(score.predicted_value_12m),
            from_latest_run=run is not None and score.scored_at == run.scored_at,
        )
    return CustomerProfile(
        customer_id=cid,
        name=customer.name if show_pii else mask_name(customer.name),
        email=customer.email if show_pii else mask_email(customer.email),
        personal_data_visible=show_pii,
        country=customer.country,
        city=customer.city,
        language=customer.language,
        segment=customer.segment,
        acquisition_channel=customer.acquisition_channel,
        marketing_opt_in=bool(customer.marketing_opt_in),
        signup_at=customer.signup_at,
        closed_at=customer.closed_at,
        tenure_days=max((as_of - customer.signup_at).days, 0),
        as_of=as_of,
        orders=facts.orders,
        delivered=facts.delivered,
        late_deliveries=facts.late,
        returned=facts.returned,
        cancelled=facts.cancelled,
        lifetime_value=float(facts.lifetime_value),
        spend_365d=float(facts.spend_365d),
        mean_order_value=round(float(facts.lifetime_value) / paid_orders, 2) if paid_orders else None,
        last_order_at=last_order,
        days_since_last_order=(as_of - last_order).days if last_order else None,
        recent_orders=[
            OrderBrief(
                order_id=o.order_id,
                ordered_at=o.ordered_at,
                status=o.status,
                total_amount=float(o.total_amount),
                late_days=round((o.delivered_at - o.promised_delivery_at).total_seconds() / 86400, 1)
                if o.delivered_at and o.promised_delivery_at and o.delivered_at > o.promised_delivery_at
                else None,
            )
            for o in recent_orders
        ],
        open_tickets=[
            TicketBrief(
                ticket_id=t.ticket_id,
                opened_at=t.opened_at,
                topic=t.topic,
                status=t.status,
                days_open=max((as_of - t.opened_at).days, 0),
                excerpt=_excerpt(t.body),
            )
            for t in open_tickets
        ],
        recent_reviews=[
            ReviewBrief(
                review_id=r.review_id, created_at=r.created_at, rating=r.rating, title=r.title, excerpt=_excerpt(r.body)
            )
            for r in reviews
        ],
        churn=churn,
        offers=[
            OfferBrief(
                offer_id=o.offer_id,
                created_at=o.created_at,
                offer_type=o.offer_type,
                value=float(o.value),
                status=o.status,
                subject=o.subject,
            )
            for o in offers
        ],
    )
