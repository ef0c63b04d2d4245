"""Who is most likely to leave, with filters a customer-success team asks for, ranked and explained."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Connection, Engine, Select, func, select

from winback.data.lookups.common import as_datetime, capped, reference_date, require_run, resolve_value
from winback.data.risk_bands import RiskBand
from winback.data.schema import ChurnScore, Customer
from winback.roles import Role, mask_name, may_see_pii

Population = Literal["active", "lapsed", "all"]
COUNT_CAP = 10_000
AtRiskSort = Literal["probability", "revenue_at_risk", "lifetime_value", "predicted_value", "days_inactive"]


class AtRiskArgs(BaseModel):
    segment: str | list[str] | None = Field(None, description="customer segment(s), e.g. gold or [gold, silver]")
    country: str | list[str] | None = Field(None, description="country name(s), e.g. France or [Spain, Italy]")
    city: str | list[str] | None = Field(None, description="city name(s), e.g. Lyon or [Lyon, Paris]")
    not_segment: list[str] | None = Field(None, description="leave out these segments")
    not_country: list[str] | None = Field(None, description="leave out these countries")
    not_city: list[str] | None = Field(None, description="leave out these cities")
    risk_bands: list[RiskBand] | None = Field(None, description="only these risk bands")
    min_lifetime_value: float | None = Field(None, ge=0, description="only customers who paid at least this much")
    marketing_opt_in: bool | None = Field(None, description="only customers who accepted (true) or refused marketing")
    customer_ids: list[str] | None = Field(
        None, max_length=200, description="only these customers (the rows of an earlier list: 'how many of them ...')"
    )
    inactive_days: int | None = Field(None, ge=0, le=36500, description="only customers with no order for N days")
    limit: int = Field(10, ge=1, description="how many customers")
    sort: AtRiskSort = Field(
        "probability",
        description="ranking: probability, revenue_at_risk, lifetime_value, predicted_value (next 12 months), "
        "days_inactive",
    )
    population: Population = Field(
        "active",
        description="active: ordered or joined within a year (default); lapsed: no order for a year; all",
    )


class AtRiskRow(BaseModel):
    rank: int
    customer_id: str
    name: str
    segment: str
    country: str
    probability: float
    risk_band: str
    lifetime_value: float
    spend_365d: float
    revenue_at_risk: float  # probability x spend of the last 365 days: the yearly revenue expected to be lost
    days_since_last_order: int | None
    top_driver: str | None
    # the model's heads (None when the scoring model has none): next 90 days, next order, next 12 months
    order_probability_90d: float | None = None
    expected_next_order_at: datetime | None = None
    predicted_value_12m: float | None = None


class AtRiskList(BaseModel):
    rows: list[AtRiskRow]
    matching: int  # customers matching the filters in the latest scoring run (COUNT_CAP + 1 means more)
    as_of: datetime
    scored_at: datetime
    model_version: str
    filters: AtRiskArgs
    notes: list[str]


def _resolved(connection: Connection, column: Any, value: str | list[str] | None, what: str) -> list[str]:
    """The values as stored (one or several), each checked to exist."""
    named = [value] if isinstance(value, str) else list(value or [])
    return [resolve_value(connection, column, v, what) for v in named]


def _ranked(connection: Connection, args: AtRiskArgs) -> tuple[Select[Any], ColumnElement[Any], datetime]:
    """Customers of the latest run matching the filters (customer ids), the ranking, and the data's now."""
    run = require_run(connection)
    as_of = reference_date(connection)
    segments = _resolved(connection, Customer.segment, args.segment, "segment")
    countries = _resolved(connection, Customer.country, args.country, "country")
    cities = _resolved(connection, Customer.city, args.city, "city")
    ltv = func.coalesce(ChurnScore.lifetime_value, 0)
    spend = func.coalesce(ChurnScore.spend_365d, 0)
    last_seen = func.coalesce(ChurnScore.last_order_at, Customer.signup_at)
    conditions = [ChurnScore.scored_at == run.scored_at, ChurnScore.model_version == run.model_version]
    if segments:
        conditions.append(Customer.segment.in_(segments))
    if countries:
        conditions.append(Customer.country.in_(countries))
    if cities:
        conditions.append(Customer.city.in_(cities))
    if args.not_segment:
        conditions.append(Customer.segment.not_in(_resolved(connection, Customer.segment, args.not_segment, "segment")))
    if args.not_country:
        conditions.append(Customer.country.not_in(_resolved(connection, Customer.country, args.not_country, "country")))
    if args.not_city:
        conditions.append(Customer.city.not_in(_resolved(connection, Customer.city, args.not_city, "city")))
    if args.risk_bands:
        conditions.append(ChurnScore.risk_band.in_(args.risk_bands))
    if args.marketing_opt_in is not None:
        conditions.append(Customer.marketing_opt_in.is_(args.marketing_opt_in))
    if args.customer_ids:
        conditions.append(ChurnScore.customer_id.in_(args.customer_ids))
    if args.population != "all":
        # the flag `winback score` stores: ranked by probability, the (scored_at, lapsed, probability) index
        # is read from the top; any other order sorts every matching row, where a plain scan is faster
        # than the index's random reads, so the flag is wrapped to keep the planner off that index
        flag = ChurnScore.lapsed if args.sort == "probability" else func.coalesce(ChurnScore.lapsed, False)
        conditions.append(flag.is_(args.population == "lapsed"))
    if args.inactive_days is not None:
        conditions.append(last_seen <= as_of - timedelta(days=args.inactive_days))
    if args.min_lifetime_value is not None:
        conditions.append(ltv >= args.min_lifetime_value)
    order: dict[str, ColumnElement[Any]] = {
        "probability": ChurnScore.probability.desc(),
        "revenue_at_risk": (ChurnScore.probability * spend).desc(),
        "lifetime_value": ltv.desc(),
        "predicted_value": func.coalesce(ChurnScore.predicted_value_12m, 0).desc(),
        "days_inactive": last_seen.asc(),
    }
    order_by = order[args.sort]
    base = select(ChurnScore.customer_id).join(Customer, Customer.customer_id == ChurnScore.customer_id)
    base = base.where(*conditions)
    return base, order_by, as_of


def at_risk_customers(engine: Engine, args: AtRiskArgs, role: str | Role) -> AtRiskList:
    """Ranked list from the latest scoring run. Raises InvalidLookup for unknown segments or countries.

    Money and activity figures come from the snapshot `winback score` stores beside each score, so the
    whole list reads one table (indexed by run) joined to customers.
    """
    show_pii = may_see_pii(role)
    notes: list[str] = []
    limit = capped(args.limit, notes)
    with engine.connect() as connection:
        run = require_run(connection)
        base, order_by, as_of = _ranked(connection, args)
        ltv = func.coalesce(ChurnScore.lifetime_value, 0)
        spend = func.coalesce(ChurnScore.spend_365d, 0)
        rows = connection.execute(
            base.add_columns(
                Customer.name,
                Customer.segment,
                Customer.country,
                ChurnScore.probability,
                ChurnScore.risk_band,
                ChurnScore.drivers,
                ltv.label("ltv"),
                spend.label("spend"),
                ChurnScore.last_order_at,
                ChurnScore.order_probability_90d,
                ChurnScore.expected_next_order_at,
                ChurnScore.predicted_value_12m,
            )
            .order_by(order_by, ChurnScore.customer_id)
            .limit(limit)
        ).all()
        # counting stops at COUNT_CAP: on a million customers an exact count costs more than the list
        matching = connection.execute(
            select(func.count()).select_from(base.limit(COUNT_CAP + 1).subquery())
        ).scalar_one()
        if matching > COUNT_CAP:
            notes.append(f"more than {COUNT_CAP:,} customers match")
    if matching == 0:
        notes.append("no customer in the latest scoring run matches these filters")
    out = []
    for rank, r in enumerate(rows, start=1):
        last = as_datetime(r.last_order_at)
        drivers = r.drivers or []
        out.append(
            AtRiskRow(
                rank=rank,
                customer_id=r.customer_id,
                name=r.name if show_pii else mask_name(r.name),
                segment=r.segment,
                country=r.country,
                probability=float(r.probability),
                risk_band=r.risk_band,
                lifetime_value=round(float(r.ltv), 2),
                spend_365d=round(float(r.spend), 2),
                revenue_at_risk=round(float(r.probability) * float(r.spend), 2),
                days_since_last_order=(as_of - last).days if last else None,
                top_driver=drivers[0].get("text") if drivers else None,
                order_probability_90d=r.order_probability_90d,
                expected_next_order_at=as_datetime(r.expected_next_order_at),
                predicted_value_12m=None if r.predicted_value_12m is None else float(r.predicted_value_12m),
            )
        )
    return AtRiskList(
        rows=out,
        matching=matching,
        as_of=as_of,
        scored_at=run.scored_at,
        model_version=run.model_version,
        filters=args,
        notes=notes,
    )


class CohortRow(BaseModel):
    customer_id: str
    probability: float
    risk_band: str


def at_risk_cohort(engine: Engine, args: AtRiskArgs, size: int) -> list[CohortRow]:
    """The first `size` customers of the at-risk ranking, without the screen lookups' row cap (campaigns)."""
    with engine.connect() as connection:
        base, order_by, _ = _ranked(connection, args)
        rows = connection.execute(
            base.add_columns(ChurnScore.probability, ChurnScore.risk_band)
            .order_by(order_by, ChurnScore.customer_id)
            .limit(size)
        ).all()
    return [CohortRow(customer_id=r.customer_id, probability=float(r.probability), risk_band=r.risk_band) for r in rows]
