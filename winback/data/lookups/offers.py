"""Offer history and outcomes: what was offered to whom, what happened to it, and whether the customer
ordered again afterwards."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import Engine, case, exists, func, select
from sqlalchemy.orm import Session

from winback.data.lookups.common import as_datetime, capped, check_not_after, require_customer
from winback.data.schema import OFFER_STATUSES, Offer, OfferEvent, Order
from winback.data.sqlfuncs import epoch_days

OfferStatus = Literal["draft", "approved", "sent", "rejected", "redeemed"]
REORDER_DAYS = 30


class OfferHistoryArgs(BaseModel):
    customer_id: str | None = Field(None, description="only offers to this customer")
    status: OfferStatus | None = Field(None, description="only offers in this state")
    offer_type: str | None = Field(None, description="only this kind of offer, e.g. discount_percent")
    since: datetime | None = Field(None, description="only offers created on or after this date")
    limit: int = Field(20, ge=1, description="how many offers to list, newest first")


class OfferRow(BaseModel):
    offer_id: str
    customer_id: str
    created_at: datetime
    created_by: str
    offer_type: str
    value: float
    channel: str
    status: str
    subject: str
    decided_by: str | None
    decided_at: datetime | None
    churn_probability_at_creation: float | None
    events: int
    ordered_within_30d: bool  # the customer placed an order within 30 days after the offer was created


class OfferOutcomes(BaseModel):
    offers: int
    by_status: dict[str, int]
    by_type: dict[str, int]
    redemption_rate: float | None  # redeemed / (sent + redeemed)
    reorder_rate: float | None  # share of offers followed by an order within 30 days
    total_value: float


class OfferHistory(BaseModel):
    rows: list[OfferRow]
    outcomes: OfferOutcomes
    as_of: datetime | None
    filters: OfferHistoryArgs
    notes: list[str]


def offer_history(engine: Engine, args: OfferHistoryArgs) -> OfferHistory:
    """Newest offers first, with outcome figures over every offer matching the filters."""
    notes: list[str] = []
    limit = capped(args.limit, notes)
    with Session(engine) as connection:
        as_of = as_datetime(connection.execute(select(func.max(Order.ordered_at))).scalar_one())
        if args.since is not None and as_of is not None:
            check_not_after(as_datetime(args.since), max(as_of, datetime.now()), "the start date")
        conditions = []
        if args.customer_id:
            conditions.append(Offer.customer_id == require_customer(connection, args.customer_id).customer_id)
        if args.status:
            conditions.append(Offer.status == args.status)
        if args.offer_type:
            conditions.append(Offer.offer_type == args.offer_type)
        if args.since:
            conditions.append(Offer.created_at >= args.since)
        reordered = exists().where(
            Order.customer_id == Offer.customer_id,
            Order.ordered_at > Offer.created_at,
            epoch_days(Order.ordered_at) <= epoch_days(Offer.created_at) + REORDER_DAYS,
        )
        events = select(func.count()).where(OfferEvent.offer_id == Offer.offer_id).scalar_subquery()
        listing = connection.execute(
            select(Offer, events.label("events"), reordered.label("reordered"))
            .where(*conditions)
            .order_by(Offer.created_at.desc(), Offer.offer_id)
            .limit(limit)
        ).all()
        summary = connection.execute(
            select(
                Offer.status,
                Offer.offer_type,
                func.count(),
                func.sum(Offer.value),
                func.sum(case((reordered, 1), else_=0)),
            )
            .where(*conditions)
            .group_by(Offer.status, Offer.offer_type)
        ).all()
    by_status = {status: 0 for status in OFFER_STATUSES}
    by_type: dict[str, int] = {}
    total_value = 0.0
    reorders = 0
    for status, offer_type, count, value, reordered_count in summary:
        by_status[status] = by_status.get(status, 0) + count
        by_type[offer_type] = by_type.get(offer_type, 0) + count
        total_value += float(value or 0)
        reorders += int(reordered_count or 0)
    n = sum(by_status.values())
    reached = by_status["sent"] + by_status["redeemed"]
    if n == 0:
        notes.append("no offers match these filters")
    return OfferHistory(
        rows=[
            OfferRow(
                offer_id=o.offer_id,
                customer_id=o.customer_id,
                created_at=o.created_at,
                created_by=o.created_by,
                offer_type=o.offer_type,
                value=float(o.value),
                channel=o.channel,
                status=o.status,
                subject=o.subject,
                decided_by=o.decided_by,
                decided_at=o.decided_at,
                churn_probability_at_creation=o.churn_probability_at_creation,
                events=int(ev),
                ordered_within_30d=bool(re),
            )
            for o, ev, re in listing
        ],
        outcomes=OfferOutcomes(
            offers=n,
            by_status=by_status,
            by_type=dict(sorted(by_type.items())),
            redemption_rate=round(by_status["redeemed"] / reached, 4) if reached else None,
            reorder_rate=round(reorders / n, 4) if n else None,
            total_value=round(total_value, 2),
        ),
        as_of=as_of,
        filters=args,
        notes=notes,
    )
