"""The facts a win-back message may use, gathered in code from the customer's card: first name, tenure,
the specific problem in plain words (with the order, ticket or review it comes from), the drivers, and
the customer's own words, kept as quoted data. Everything code writes is in the offer's language."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, select

from winback.data.lookups import CustomerProfile, customer_profile
from winback.data.schema import Order, Review, SupportTicket
from winback.offers.language import format_day, format_month_year, phrases
from winback.offers.situation import Situation, situation_of
from winback.offers.terms import OfferTerms


@dataclass
class DraftFacts:
    customer_id: str
    first_name: str
    email: str
    segment: str
    tenure: str  # "for 2 years", "since May"
    situation: Situation
    problem: str  # plain words, built from records: "your order O-1042-008 arrived 4 days later than promised"
    problem_brief: str  # the same without any figure, date or id ("your order arrived later than we promised")
    drivers: list[str]
    complaint: str  # the customer's own words (untrusted), or ""
    complaint_source: str  # "review R-1042-03 (2 stars)", "ticket T-1042-02", or ""
    terms: OfferTerms
    order_ids: list[str] = field(default_factory=list)  # the orders a message may name
    dates: list[datetime] = field(default_factory=list)  # the dates a message may name
    marketing_opt_in: bool = True

    @property
    def language(self) -> str:
        return self.terms.language


def _tenure(days: int, signup: datetime, language: str) -> str:
    words = phrases(language)["tenure"]
    if days >= 730:
        return str(words["years"]).format(n=days // 365)
    if days >= 365:
        return str(words["over_a_year"])
    return str(words["since"]).format(month_year=format_month_year(signup, language))


def gather_facts(profile: CustomerProfile, terms: OfferTerms) -> DraftFacts:
    """`profile` must be read with a role that sees names (the draft greets the customer)."""
    language = terms.language
    said = phrases(language)["problem"]
    topics_said = phrases(language)["topics"]
    drivers = profile.churn.drivers if profile.churn else []
    topics = [t.topic for t in profile.open_tickets]
    situation = situation_of(drivers, topics)
    dates: list[datetime] = [terms.valid_until]
    order_ids: list[str] = []
    complaint, source = "", ""
    problem = ""
    brief = ""
    late = [o for o in profile.recent_orders if o.late_days]
    low_reviews = [r for r in profile.recent_reviews if r.rating <= 2]
    if situation == "late_delivery" and late:
        order = late[0]
        days = max(round(order.late_days or 0), 1)
        problem = str(said["late_delivery"]).format(
            order=order.order_id,
            day=format_day(order.ordered_at, language),
            days=days,
            day_word=said["day" if days == 1 else "days"],
        )
        brief = str(said["late_delivery_brief"])
        order_ids.append(order.order_id)
        dates.append(order.ordered_at)
    elif situation == "support" and profile.open_tickets:
        ticket = profile.open_tickets[0]
        topic = topics_said.get(ticket.topic, ticket.topic.replace("_", " "))
        problem = str(said["support"]).format(topic=topic, day=format_day(ticket.opened_at, language))
        brief = str(said["support_brief"]).format(topic=topic)
        dates.append(ticket.opened_at)
        complaint, source = ticket.excerpt, f"ticket {ticket.ticket_id}"
    elif situation == "product_quality" and low_reviews:
        review = low_reviews[0]
        problem = str(said["product_quality"]).format(day=format_day(review.created_at, language))
        brief = str(said["product_quality_brief"])
        dates.append(review.created_at)
        complaint, source = review.excerpt, f"review {review.review_id} ({review.rating} stars)"
    elif situation == "price":
        problem = brief = str(said["price"])
    if not problem:
        situation = "inactivity"
        if profile.last_order_at is not None:
            problem = str(said["inactivity"]).format(day=format_day(profile.last_order_at, language))
            brief = str(said["inactivity_brief"])
            dates.append(profile.last_order_at)
        else:
            problem = brief = str(said["never_ordered"])
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
        tenure=_tenure(profile.tenure_days, profile.signup_at, language),
        situation=situation,
        problem=problem,
        problem_brief=brief,
        drivers=[str(d.get("text", d.get("feature"))) for d in drivers if float(d.get("contribution", 0)) > 0][:3],
        complaint=complaint,
        complaint_source=source,
        terms=terms,
        order_ids=order_ids,
        dates=dates,
        marketing_opt_in=profile.marketing_opt_in,
    )


def load_facts(engine: Engine, customer_id: str, terms: OfferTerms) -> DraftFacts:
    """The facts a message about these terms may use, read from the database (drafting and hand edits)."""
    facts = gather_facts(customer_profile(engine, customer_id, role="admin"), terms)
    with engine.connect() as connection:  # any of the customer's own orders may be named, no other
        orders = connection.execute(
            select(Order.order_id, Order.ordered_at).where(Order.customer_id == facts.customer_id)
        ).all()
        facts.order_ids += [o.order_id for o in orders if o.order_id not in facts.order_ids]
        # and the day of any of their own orders, tickets and reviews: a draft approved days later names a
        # ticket since closed or an order no longer among the newest, still a fact of this customer's record
        own_days = [o.ordered_at for o in orders]
        own_days += connection.scalars(
            select(SupportTicket.opened_at).where(SupportTicket.customer_id == facts.customer_id)
        ).all()
        own_days += connection.scalars(select(Review.created_at).where(Review.customer_id == facts.customer_id)).all()
    facts.dates += [day for day in own_days if day is not None and day not in facts.dates]
    return facts
