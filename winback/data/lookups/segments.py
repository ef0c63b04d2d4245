"""Segment aggregates for managers: customers, churn-risk distribution, revenue at risk, mean order value and
late-delivery share, grouped by any customer dimension of the contract (or the risk band)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import Engine, String, and_, case, cast, func, literal, select

from winback.data.lookups.common import (
    ScoringRun,
    as_datetime,
    check_not_after,
    reference_date,
    require_run,
    resolve_value,
)
from winback.data.risk_bands import HIGH_RISK_BANDS, RISK_BANDS
from winback.data.schema import ChurnScore, Customer, Order

Dimension = Literal[
    "segment",
    "country",
    "city",
    "acquisition_channel",
    "marketing_opt_in",
    "signup_year",
    "risk_band",
    "all",
]


class SegmentArgs(BaseModel):
    by: Dimension = Field("segment", description="group customers by this dimension")
    segment: str | None = Field(None, description="only this segment")
    country: str | None = Field(None, description="only this country")
    since: datetime | None = Field(None, description="order metrics from this date (default: the last 365 days)")


class SegmentRow(BaseModel):
    group: str
    customers: int  # open accounts in the latest scoring run
    scored: int
    mean_probability: float | None
    bands: dict[str, int]  # customers per risk band in the latest scoring run
    high_risk_share: float | None  # (high + critical) / scored
    revenue: float  # paid in the window
    revenue_at_risk: float  # sum of probability x revenue in the window, over scored customers
    orders: int
    mean_order_value: float | None
    late_delivery_share: float | None  # late deliveries / deliveries with a promised date, in the window


class SegmentReport(BaseModel):
    by: str
    rows: list[SegmentRow]
    window_start: datetime
    as_of: datetime
    scored_at: datetime
    model_version: str
    filters: SegmentArgs


def _group_column(by: str):
    if by == "signup_year":
        return cast(func.extract("year", Customer.signup_at), String)
    if by == "risk_band":
        # an expression, not the bare column: grouping through the risk_band index costs a random read per row
        return func.coalesce(ChurnScore.risk_band, "")
    if by == "all":
        return literal("all")
    column = getattr(Customer, by)
    return cast(column, String) if by == "marketing_opt_in" else column


def _band_counts() -> list:
    return [func.sum(case((ChurnScore.risk_band == band, 1), else_=0)).label(f"band_{band}") for band in RISK_BANDS]


def _aggregate(run: ScoringRun, group, revenue, orders, promised, late):
    """One row per group over the customers of the run; the money and delivery figures come from the caller."""
    return (
        select(
            group,
            func.count().label("customers"),
            func.avg(ChurnScore.probability).label("mean_probability"),
            *_band_counts(),
            func.sum(revenue).label("revenue"),
            func.sum(ChurnScore.probability * revenue).label("revenue_at_risk"),
            func.sum(orders).label("orders"),
            func.sum(promised).label("promised"),
            func.sum(late).label("late"),
        )
        .select_from(ChurnScore)
        .join(Customer, Customer.customer_id == ChurnScore.customer_id)
        .where(ChurnScore.scored_at == run.scored_at, ChurnScore.model_version == run.model_version)
    )


def _from_snapshot(run: ScoringRun, group):
    """The default window (365 days to the scoring date) reads the snapshot stored with each score."""
    return _aggregate(
        run,
        group,
        func.coalesce(ChurnScore.spend_365d, 0),
        func.coalesce(ChurnScore.orders_365d, 0),
        func.coalesce(ChurnScore.deliveries_365d, 0),
        func.coalesce(ChurnScore.late_deliveries_365d, 0),
    )


def _from_orders(run: ScoringRun, group, start: datetime, as_of: datetime):
    """Any other window aggregates the orders themselves (slower: one pass over the window's orders)."""
    paid = and_(Order.status != "cancelled", Order.ordered_at > start, Order.ordered_at <= as_of)
    in_window = and_(Order.ordered_at > start, Order.ordered_at <= as_of)
    promised = and_(in_window, Order.delivered_at.is_not(None), Order.promised_delivery_at.is_not(None))
    late = and_(promised, Order.delivered_at > Order.promised_delivery_at)
    totals = (
        select(
            Order.customer_id.label("customer_id"),
            func.sum(case((paid, Order.total_amount), else_=0)).label("revenue"),
            func.sum(case((paid, 1), else_=0)).label("orders"),
            func.sum(case((promised, 1), else_=0)).label("promised"),
            func.sum(case((late, 1), else_=0)).label("late"),
        )
        .where(in_window)
        .group_by(Order.customer_id)
        .subquery("totals")
    )
    return _aggregate(
        run,
        group,
        func.coalesce(totals.c.revenue, 0),
        func.coalesce(totals.c.orders, 0),
        func.coalesce(totals.c.promised, 0),
        func.coalesce(totals.c.late, 0),
    ).outerjoin(totals, totals.c.customer_id == ChurnScore.customer_id)


def segment_aggregates(engine: Engine, args: SegmentArgs) -> SegmentReport:
    """Figures over the customers of the latest scoring run (open accounts), grouped by `args.by`.

    Raises InvalidLookup for unknown segments/countries or a start date after the data ends.
    """
    with engine.connect() as connection:
        run = require_run(connection)
        as_of = reference_date(connection)
        since = as_datetime(args.since)
        check_not_after(since, as_of, "the start date")
        start = since or as_of - timedelta(days=365)
        segment = resolve_value(connection, Customer.segment, args.segment, "segment") if args.segment else None
        country = resolve_value(connection, Customer.country, args.country, "country") if args.country else None
        group = _group_column(args.by).label("grp")
        query = _from_snapshot(run, group) if since is None else _from_orders(run, group, start, as_of)
        if segment:
            query = query.where(Customer.segment == segment)
        if country:
            query = query.where(Customer.country == country)
        if args.by != "all":
            query = query.group_by(group).order_by(group)
        rows = connection.execute(query).all()
    out = []
    for r in rows:
        if not r.customers:
            continue  # an aggregate without GROUP BY returns one empty row when nothing matches
        bands = {band: int(getattr(r, f"band_{band}") or 0) for band in RISK_BANDS}
        n_scored = int(r.customers)  # every customer of the run has a score
        orders = int(r.orders or 0)
        revenue_total = float(r.revenue or 0)
        out.append(
            SegmentRow(
                group=str(r.grp),
                customers=int(r.customers),
                scored=n_scored,
                mean_probability=round(float(r.mean_probability), 4) if r.mean_probability is not None else None,
                bands=bands,
                high_risk_share=round(sum(bands[b] for b in HIGH_RISK_BANDS) / n_scored, 4) if n_scored else None,
                revenue=round(revenue_total, 2),
                revenue_at_risk=round(float(r.revenue_at_risk or 0), 2),
                orders=orders,
                mean_order_value=round(revenue_total / orders, 2) if orders else None,
                late_delivery_share=round(int(r.late or 0) / int(r.promised), 4) if r.promised else None,
            )
        )
    if args.by == "risk_band":
        out.sort(key=lambda row: RISK_BANDS.index(row.group) if row.group in RISK_BANDS else len(RISK_BANDS))
    return SegmentReport(
        by=args.by,
        rows=out,
        window_start=start,
        as_of=as_of,
        scored_at=run.scored_at,
        model_version=run.model_version,
        filters=args,
    )
