"""The facts a win-back message may use, gathered in code from the customer's card: first name, tenure,
the specific problem in plain words (with the order, ticket or review it comes from), the drivers, and
the customer's own words, kept as quoted data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, select

from winback.data.lookups import CustomerProfile, customer_profile
from winback.data.schema import Order
from winback.tools.offers.situation import Situation, situation_of
from winback.tools.offers.terms import OfferTerms, format_day

TOPIC_WORDS = {
    "delivery_delay": "a late delivery",
    "damaged_item": "a damaged item",
    "sizing": "a size that did not fit",
    "refund": "a refund",
    "payment": "a payment",
    "account": "your account",
    "app_bug": "a problem with our app",
    "discount_code": "a discount code",
}


@dataclass
class DraftFacts:
    customer_id: str
    first_name: str
    email: str
    segment: str
    tenure: str  # "for 2 years", "since May"
    situation: Situation
    problem: str  # plain words, built from records: "your order O-1042-008 arrived 4 days later than promised"
    drivers: list[str]
    complaint: str  # the customer's own words (untrusted), or ""
    complaint_source: str  # "review R-1042-03 (2 stars)", "ticket T-1042-02", or ""
    terms: OfferTerms
    order_ids: list[str] = field(default_factory=list)  # the orders a message may name
    dates: list[datetime] = field(default_factory=list)  # the dates a message may name


def _tenure(days: int, signup: datetime) -> str:
    if days >= 730:
        return f"for {days // 365} years"
    if days >= 365:
        return "for over a year"
    return f"since {signup:%B %Y}"


def gather_facts(profile: CustomerProfile, terms: OfferTerms) -> DraftFacts:
    """`profile` must be read with a role that sees names (the draft greets the customer)."""
    drivers = profile.churn.drivers if profile.churn else []
    topics = [t.topic for t in profile.open_tickets]
    situation = situation_of(drivers, topics)
    dates: list[datetime] = [terms.valid_until]
    order_ids: list[str] = []
    complaint, source = "", ""
    problem = ""
    late = [o for o in profile.recent_orders if o.late_days]
    low_reviews = [r for r in profile.recent_reviews if r.rating <= 2]
    if situation == "late_delivery" and late:
        order = late[0]
        days = max(round(order.late_days or 0), 1)
        problem = (
            f"your order {order.order_id} of {format_day(order.ordered_at)} arrived {days} "
            f"day{'s' if days != 1 else ''} later than we promised"
        )
        order_ids.append(order.order_id)
        dates.append(order.ordered_at)
    elif situation == "support" and profile.open_tickets:
        ticket = profile.open_tickets[0]
        problem = (
            f"your message about {TOPIC_WORDS.get(ticket.topic, ticket.topic.replace('_', ' '))} from "
            f"{format_day(ticket.opened_at)} is still not resolved"
        )
        dates.append(ticket.opened_at)
        complaint, source = ticket.excerpt, f"ticket {ticket.ticket_id}"
    elif situation == "product_quality" and low_reviews:
        review = low_reviews[0]
        problem = (
            f"what you received did not live up to your expectations, as you told us on {format_day(review.created_at)}"
        )
        dates.append(review.created_at)
        complaint, source = review.excerpt, f"review {review.review_id} ({review.rating} stars)"
    elif situation == "price":
        problem = "your recent orders have been smaller than before"
    if not problem:
        situation = "inactivity"
        if profile.last_order_at is not None:
            problem = f"we have not seen you since your last order on {format_day(profile.last_order_at)}"
            dates.append(profile.last_order_at)
        else:
            problem = "you have not placed an order with us yet"
    if not complaint:
        for review in low_reviews:
            complaint, source = review.excerpt, f"review {review.review_id} ({review.rating} stars)"
            break
        else:
            if profile.open_tickets:
                ticket = profile.open_tickets[0]
                complaint, source = ticket.excerpt, f"ticket {ticket.ticket_id}"
    for order in profile.recent_orders[:3]:
        if order.order_id not in order_ids:
            order_ids.append(order.order_id)
            dates.append(order.ordered_at)
    return DraftFacts(
        customer_id=profile.customer_id,
        first_name=(profile.name.split() or ["there"])[0],
        email=profile.email,
        segment=profile.segment,
        tenure=_tenure(profile.tenure_days, profile.signup_at),
        situation=situation,
        problem=problem,
        drivers=[str(d.get("text", d.get("feature"))) for d in drivers if float(d.get("contribution", 0)) > 0][:3],
        complaint=complaint,
        complaint_source=source,
        terms=terms,
        order_ids=order_ids,
        dates=dates,
    )


def load_facts(engine: Engine, customer_id: str, terms: OfferTerms) -> DraftFacts:
    """The facts a message about these terms may use, read from the database (drafting and hand edits)."""
    facts = gather_facts(customer_profile(engine, customer_id, role="admin"), terms)
    with engine.connect() as connection:  # any of the customer's own orders may be named, no other
        facts.order_ids += [
            o
            for o in connection.scalars(select(Order.order_id).where(Order.customer_id == facts.customer_id))
            if o not in facts.order_ids
        ]
    return facts
