"""Churn features for every customer at a cutoff date, from the contract tables and what the texts say.

Aggregation is pushed down to the database (GROUP BY and window functions that run on SQLite and
PostgreSQL alike), so only one row per customer comes back; customers are processed in chunks of ids so
memory stays bounded at millions of customers. Only data at or before the cutoff is read: an order
placed, a parcel delivered, a ticket closed or a review written after the cutoff changes no feature.
The text features read `text_signals` (topics and sentiment that `winback index` reads from the stored
search embeddings); before the first index they are all at their "no text" values.
Definitions and units: docs/churn-model.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, case, func, literal, or_, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.expression import ColumnElement

from winback.data.schema import TEXT_TOPICS, Customer, Order, Review, SupportTicket, TextSignal
from winback.data.sqlfuncs import epoch_days

ColumnLike = ColumnElement[Any] | InstrumentedAttribute[Any]  # a mapped attribute works wherever a column does

FEATURE_SPEC_VERSION = 2  # 2: what customers wrote (text_signals)
NO_EVENT_DAYS = 730.0  # "days since" a thing that never happened: capped at two years


def topic_feature(topic: str) -> str:
    """The feature that holds a text topic's closest match of the last year (topics: TEXT_TOPICS)."""
    return f"text_{topic}_365d"


@dataclass(frozen=True)
class Feature:
    name: str
    kind: str  # "numeric" or "categorical"
    unit: str
    definition: str


FEATURES: tuple[Feature, ...] = (
    Feature(
        "recency_days",
        "numeric",
        "days",
        "days from the last order to the cutoff (tenure if the customer never ordered)",
    ),
    Feature("tenure_days", "numeric", "days", "days from sign-up to the cutoff"),
    Feature("orders_total", "numeric", "orders", "orders placed before the cutoff, cancelled ones included"),
    Feature("orders_365d", "numeric", "orders", "orders placed in the 365 days before the cutoff"),
    Feature(
        "monetary_365d", "numeric", "currency", "total paid for non-cancelled orders in the 365 days before the cutoff"
    ),
    Feature("orders_last_90d", "numeric", "orders", "orders in the 90 days before the cutoff"),
    Feature(
        "orders_prev_90d", "numeric", "orders", "orders in the 90 days before those (days 91-180 before the cutoff)"
    ),
    Feature("order_trend_90d", "numeric", "orders", "orders_last_90d minus orders_prev_90d"),
    Feature(
        "aov_change",
        "numeric",
        "ratio",
        "average order value in the last 180 days divided by the one before, minus 1 (0 without both)",
    ),
    Feature(
        "discount_share_365d",
        "numeric",
        "share 0-1",
        "discounts divided by list value (paid + discount) of orders in the last 365 days",
    ),
    Feature(
        "late_share_365d",
        "numeric",
        "share 0-1",
        "share of deliveries in the last 365 days that arrived after the promised date",
    ),
    Feature(
        "mean_delay_days_365d",
        "numeric",
        "days",
        "mean lateness of the late deliveries in the last 365 days (0 without any)",
    ),
    Feature("late_of_last_4", "numeric", "deliveries", "how many of the last 4 deliveries were late"),
    Feature("overdue_parcels", "numeric", "orders", "orders past their promised date and not delivered at the cutoff"),
    Feature("returns_365d", "numeric", "orders", "orders returned in the 365 days before the cutoff"),
    Feature("cancellations_365d", "numeric", "orders", "orders cancelled among those placed in the last 365 days"),
    Feature("tickets_365d", "numeric", "tickets", "support tickets opened in the 365 days before the cutoff"),
    Feature(
        "unresolved_tickets", "numeric", "tickets", "tickets opened before the cutoff and not resolved at the cutoff"
    ),
    Feature(
        "last_ticket_satisfaction",
        "numeric",
        "1-5",
        "satisfaction of the last rated ticket closed before the cutoff (3 if none)",
    ),
    Feature("reviews_365d", "numeric", "reviews", "reviews written in the 365 days before the cutoff"),
    Feature("mean_rating_365d", "numeric", "stars 1-5", "mean rating of those reviews (4 if none)"),
    Feature("min_rating_365d", "numeric", "stars 1-5", "lowest rating among those reviews (5 if none)"),
    Feature(
        "last_rating", "numeric", "stars 1-5", "rating of the customer's latest review before the cutoff (4 if none)"
    ),
    Feature("days_since_bad_review", "numeric", "days", "days since the latest review of 1-2 stars (730 if none)"),
    *(
        Feature(
            topic_feature(topic),
            "numeric",
            "similarity",
            f"closest match of a review or ticket of the last 365 days to the {topic.replace('_', ' ')} topic "
            "(cosine of the search embeddings, 0 if no text)",
        )
        for topic in TEXT_TOPICS
    ),
    Feature(
        "text_sentiment_365d",
        "numeric",
        "-1 to 1",
        "mean sentiment of the reviews and tickets of the last 365 days (0 if no text)",
    ),
    Feature(
        "days_since_negative_text",
        "numeric",
        "days",
        "days since the latest review or ticket with negative sentiment (730 if none)",
    ),
    Feature("segment", "categorical", "tier", "customers.segment"),
    Feature("acquisition_channel", "categorical", "channel", "customers.acquisition_channel"),
    Feature("country", "categorical", "country", "customers.country"),
)
NUMERIC = [f.name for f in FEATURES if f.kind == "numeric"]
TEXT = [*(topic_feature(t) for t in TEXT_TOPICS), "text_sentiment_365d", "days_since_negative_text"]
CATEGORICAL = [f.name for f in FEATURES if f.kind == "categorical"]
BY_NAME = {f.name: f for f in FEATURES}


def feature_spec_hash() -> str:
    """Identifies the feature definitions; a model artefact trained on another spec is refused."""
    payload = json.dumps([FEATURE_SPEC_VERSION, [(f.name, f.kind, f.definition) for f in FEATURES]])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _sum_if(condition: ColumnElement[bool], value: ColumnLike) -> ColumnElement[Any]:
    return func.sum(case((condition, value), else_=0))


@dataclass(frozen=True)
class Scope:
    """Which customers a query covers: listed ids, an inclusive id range (keyset chunk), or everyone."""

    ids: tuple[str, ...] | None = None
    low: str | None = None
    high: str | None = None

    def where(self, column: ColumnLike) -> ColumnElement[bool]:
        if self.ids is not None:
            return column.in_(self.ids)
        if self.low is not None and self.high is not None:
            return column.between(self.low, self.high)
        return literal(True)


def _ranked(customer_id: ColumnLike, newest_first: ColumnLike, where: list[Any], **values: ColumnLike) -> Any:
    """Rows numbered per customer, newest first (rn = 1 is the latest), for "last N" features."""
    return (
        select(
            customer_id.label("customer_id"),
            *(value.label(name) for name, value in values.items()),
            func.row_number().over(partition_by=customer_id, order_by=newest_first.desc()).label("rn"),
        )
        .where(*where)
        .subquery()
    )


def _query_frames(engine: Engine, cutoff: datetime, scope: Scope) -> dict[str, pd.DataFrame]:
    d90, d180, d365 = (cutoff - timedelta(days=n) for n in (90, 180, 365))
    placed = Order.ordered_at <= cutoff
    delivered = and_(Order.delivered_at.is_not(None), Order.delivered_at <= cutoff)
    late = and_(delivered, Order.promised_delivery_at.is_not(None), Order.delivered_at > Order.promised_delivery_at)
    paid = Order.status != "cancelled"
    recent = Order.ordered_at > d365

    customers = select(
        Customer.customer_id, Customer.signup_at, Customer.segment, Customer.acquisition_channel, Customer.country
    ).where(
        scope.where(Customer.customer_id),
        Customer.signup_at <= cutoff,
        or_(Customer.closed_at.is_(None), Customer.closed_at > cutoff),  # a closed account cannot churn again
    )

    orders = (
        select(
            Order.customer_id,
            func.max(Order.ordered_at).label("last_order_at"),
            func.count().label("orders_total"),
            _count_if(recent).label("orders_365d"),
            _sum_if(and_(recent, paid), Order.total_amount).label("monetary_365d"),
            _count_if(Order.ordered_at > d90).label("orders_last_90d"),
            _count_if(and_(Order.ordered_at > d180, Order.ordered_at <= d90)).label("orders_prev_90d"),
            _sum_if(and_(Order.ordered_at > d180, paid), Order.total_amount).label("value_180d"),
            _count_if(and_(Order.ordered_at > d180, paid)).label("paid_180d"),
            _sum_if(and_(Order.ordered_at <= d180, paid), Order.total_amount).label("value_before"),
            _count_if(and_(Order.ordered_at <= d180, paid)).label("paid_before"),
            _sum_if(and_(recent, paid), Order.discount_amount).label("discount_365d"),
            _count_if(and_(recent, delivered)).label("delivered_365d"),
            _count_if(and_(recent, late)).label("late_365d"),
            _sum_if(and_(recent, late), epoch_days(Order.delivered_at) - epoch_days(Order.promised_delivery_at)).label(
                "delay_days_365d"
            ),
            _count_if(
                and_(
                    paid,
                    Order.promised_delivery_at < cutoff,
                    or_(Order.delivered_at.is_(None), Order.delivered_at > cutoff),
                )
            ).label("overdue_parcels"),
            _count_if(
                and_(Order.returned_at.is_not(None), Order.returned_at <= cutoff, Order.returned_at > d365)
            ).label("returns_365d"),
            _count_if(and_(recent, Order.status == "cancelled")).label("cancellations_365d"),
        )
        .where(placed, scope.where(Order.customer_id))
        .group_by(Order.customer_id)
    )

    ranked_deliveries = _ranked(
        Order.customer_id,
        Order.delivered_at,
        [delivered, scope.where(Order.customer_id)],
        is_late=case((late, 1), else_=0),
    )
    last_four = (
        select(ranked_deliveries.c.customer_id, func.sum(ranked_deliveries.c.is_late).label("late_of_last_4"))
        .where(ranked_deliveries.c.rn <= 4)
        .group_by(ranked_deliveries.c.customer_id)
    )

    resolved_by_cutoff = and_(SupportTicket.closed_at.is_not(None), SupportTicket.closed_at <= cutoff)
    tickets = (
        select(
            SupportTicket.customer_id,
            _count_if(SupportTicket.opened_at > d365).label("tickets_365d"),
            _count_if(~resolved_by_cutoff).label("unresolved_tickets"),
        )
        .where(SupportTicket.opened_at <= cutoff, scope.where(SupportTicket.customer_id))
        .group_by(SupportTicket.customer_id)
    )
    ranked_ratings = _ranked(
        SupportTicket.customer_id,
        SupportTicket.closed_at,
        [resolved_by_cutoff, SupportTicket.satisfaction.is_not(None), scope.where(SupportTicket.customer_id)],
        satisfaction=SupportTicket.satisfaction,
    )
    last_satisfaction = select(
        ranked_ratings.c.customer_id, ranked_ratings.c.satisfaction.label("last_ticket_satisfaction")
    ).where(ranked_ratings.c.rn == 1)

    in_year = Review.created_at > d365
    reviews = (
        select(
            Review.customer_id,
            _count_if(in_year).label("reviews_365d"),
            func.avg(case((in_year, Review.rating), else_=None)).label("mean_rating_365d"),
            func.min(case((in_year, Review.rating), else_=None)).label("min_rating_365d"),
            func.max(case((Review.rating <= 2, Review.created_at), else_=None)).label("last_bad_review_at"),
        )
        .where(Review.created_at <= cutoff, scope.where(Review.customer_id))
        .group_by(Review.customer_id)
    )
    ranked_reviews = _ranked(
        Review.customer_id,
        Review.created_at,
        [Review.created_at <= cutoff, scope.where(Review.customer_id)],
        rating=Review.rating,
    )
    last_review = select(ranked_reviews.c.customer_id, ranked_reviews.c.rating.label("last_rating")).where(
        ranked_reviews.c.rn == 1
    )

    text_year = TextSignal.written_at > d365
    texts = (
        select(
            TextSignal.customer_id,
            *(
                func.max(case((text_year, getattr(TextSignal, topic)), else_=None)).label(topic_feature(topic))
                for topic in TEXT_TOPICS
            ),
            func.avg(case((text_year, TextSignal.sentiment), else_=None)).label("text_sentiment_365d"),
            func.max(case((TextSignal.sentiment < 0, TextSignal.written_at), else_=None)).label("last_negative_at"),
        )
        .where(TextSignal.written_at <= cutoff, scope.where(TextSignal.customer_id))
        .group_by(TextSignal.customer_id)
    )

    frames = {}
    with engine.connect() as connection:
        for name, query in [
            ("customers", customers),
            ("orders", orders),
            ("last_four", last_four),
            ("tickets", tickets),
            ("last_satisfaction", last_satisfaction),
            ("reviews", reviews),
            ("last_review", last_review),
            ("texts", texts),
        ]:
            result = connection.execute(query)
            frames[name] = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    return frames


def _as_datetime(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, errors="coerce")


def compute_features(
    engine: Engine, cutoff: datetime, customer_ids: Sequence[str] | None = None, scope: Scope | None = None
) -> pd.DataFrame:
    """One row per customer signed up and not closed by `cutoff` (all, or those in `customer_ids`), by customer_id."""
    if scope is None:
        scope = Scope(ids=tuple(customer_ids)) if customer_ids is not None else Scope()
    frames = _query_frames(engine, cutoff, scope)
    df = frames["customers"].set_index("customer_id")
    for name in ("orders", "last_four", "tickets", "last_satisfaction", "reviews", "last_review", "texts"):
        frame = frames[name]
        if not frame.empty:
            df = df.join(frame.set_index("customer_id"), how="left")
        else:
            df = df.join(pd.DataFrame(columns=[c for c in frame.columns if c != "customer_id"]), how="left")

    def num(column: str, fill: float = 0.0) -> pd.Series:
        return pd.to_numeric(df[column], errors="coerce").astype(float).fillna(fill)

    cutoff_ts = pd.Timestamp(cutoff)
    signup = _as_datetime(df["signup_at"])
    tenure = ((cutoff_ts - signup).dt.total_seconds() / 86400.0).clip(lower=0).fillna(0.0)
    last_order = _as_datetime(df["last_order_at"])
    recency = ((cutoff_ts - last_order).dt.total_seconds() / 86400.0).fillna(tenure)
    bad_review = _as_datetime(df["last_bad_review_at"])
    since_bad = ((cutoff_ts - bad_review).dt.total_seconds() / 86400.0).fillna(NO_EVENT_DAYS).clip(upper=NO_EVENT_DAYS)

    value_180, paid_180 = num("value_180d"), num("paid_180d")
    value_before, paid_before = num("value_before"), num("paid_before")
    aov_recent = value_180 / paid_180.replace(0, np.nan)
    aov_before = value_before / paid_before.replace(0, np.nan)
    aov_change = (aov_recent / aov_before - 1.0).replace([np.inf, -np.inf], np.nan).fillna(0.0)

    monetary = num("monetary_365d")
    discount = num("discount_365d")
    list_value = monetary + discount
    delivered_365, late_365 = num("delivered_365d"), num("late_365d")

    out = pd.DataFrame(index=df.index)
    out["recency_days"] = recency
    out["tenure_days"] = tenure
    out["orders_total"] = num("orders_total")
    out["orders_365d"] = num("orders_365d")
    out["monetary_365d"] = monetary
    out["orders_last_90d"] = num("orders_last_90d")
    out["orders_prev_90d"] = num("orders_prev_90d")
    out["order_trend_90d"] = out["orders_last_90d"] - out["orders_prev_90d"]
    out["aov_change"] = aov_change.clip(-1.0, 5.0)
    out["discount_share_365d"] = (discount / list_value.replace(0, np.nan)).fillna(0.0)
    out["late_share_365d"] = (late_365 / delivered_365.replace(0, np.nan)).fillna(0.0)
    out["mean_delay_days_365d"] = (num("delay_days_365d") / late_365.replace(0, np.nan)).fillna(0.0)
    out["late_of_last_4"] = num("late_of_last_4")
    out["overdue_parcels"] = num("overdue_parcels")
    out["returns_365d"] = num("returns_365d")
    out["cancellations_365d"] = num("cancellations_365d")
    out["tickets_365d"] = num("tickets_365d")
    out["unresolved_tickets"] = num("unresolved_tickets")
    out["last_ticket_satisfaction"] = num("last_ticket_satisfaction", 3.0)
    out["reviews_365d"] = num("reviews_365d")
    out["mean_rating_365d"] = num("mean_rating_365d", 4.0)
    out["min_rating_365d"] = num("min_rating_365d", 5.0)
    out["last_rating"] = num("last_rating", 4.0)
    out["days_since_bad_review"] = since_bad
    for column in [*(topic_feature(t) for t in TEXT_TOPICS), "text_sentiment_365d"]:
        out[column] = num(column)
    negative = _as_datetime(df["last_negative_at"])
    out["days_since_negative_text"] = (
        ((cutoff_ts - negative).dt.total_seconds() / 86400.0).fillna(NO_EVENT_DAYS).clip(upper=NO_EVENT_DAYS)
    )
    for column in CATEGORICAL:
        out[column] = df[column].astype(str)
    out.index.name = "customer_id"
    return out[[f.name for f in FEATURES]].sort_index()


def iter_feature_chunks(
    engine: Engine, cutoff: datetime, chunk_size: int = 20_000, customer_ids: Sequence[str] | None = None
) -> Iterator[pd.DataFrame]:
    """Features for all customers (or `customer_ids`), `chunk_size` customers at a time (keyset paging)."""
    if customer_ids is not None:
        ids = sorted(set(customer_ids))
        for start in range(0, len(ids), chunk_size):
            yield compute_features(engine, cutoff, ids[start : start + chunk_size])
        return
    last: str | None = None
    while True:
        query = select(Customer.customer_id).where(Customer.signup_at <= cutoff).order_by(Customer.customer_id)
        if last is not None:
            query = query.where(Customer.customer_id > last)
        with engine.connect() as connection:
            ids = list(connection.scalars(query.limit(chunk_size)))
        if not ids:
            return
        last = ids[-1]
        yield compute_features(engine, cutoff, scope=Scope(low=ids[0], high=ids[-1]))
