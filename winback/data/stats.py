"""What is in the database: row counts, date ranges and how many customers have gone quiet."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, exists, func, select

from winback.data.db import require_contract
from winback.data.risk_bands import RISK_BANDS
from winback.data.schema import CONTRACT_TABLES, Base, ChurnScore, Customer, Order, Review, SupportTicket
from winback.data.sqlfuncs import as_datetime

DATE_COLUMNS = {
    "customers": Customer.signup_at,
    "orders": Order.ordered_at,
    "reviews": Review.created_at,
    "support_tickets": SupportTicket.opened_at,
}


@dataclass
class TableStats:
    name: str
    rows: int
    first: datetime | None = None
    last: datetime | None = None


@dataclass
class DatabaseStats:
    tables: list[TableStats]
    reference_date: datetime | None
    quiet_days: int
    customers: int
    quiet_customers: int
    segments: dict[str, int]
    risk_bands: dict[str, int] = field(default_factory=dict)  # from the latest scoring run
    scored_at: datetime | None = None
    model_version: str | None = None

    @property
    def quiet_share(self) -> float:
        return self.quiet_customers / self.customers if self.customers else 0.0


def collect_stats(engine: Engine, as_of: datetime | None = None, quiet_days: int = 90) -> DatabaseStats:
    """Stats of the contract tables; "quiet" = no order in the `quiet_days` before `as_of`.

    `as_of` defaults to the latest order date, the data's own "now" (a demo shop ends at its as-of date).
    """
    require_contract(engine)
    tables: list[TableStats] = []
    with engine.connect() as connection:
        for name in CONTRACT_TABLES:
            table = Base.metadata.tables[name]
            rows = connection.execute(select(func.count()).select_from(table)).scalar_one()
            stats = TableStats(name, rows)
            column = DATE_COLUMNS.get(name)
            if column is not None and rows:
                first, last = connection.execute(select(func.min(column), func.max(column))).one()
                stats.first, stats.last = as_datetime(first), as_datetime(last)
            tables.append(stats)
        reference = as_of or next(t.last for t in tables if t.name == "orders")
        customers = tables[0].rows
        quiet = customers
        if reference is not None:
            since = reference - timedelta(days=quiet_days)
            recent = exists().where(
                and_(Order.customer_id == Customer.customer_id, Order.ordered_at > since, Order.ordered_at <= reference)
            )
            quiet = connection.execute(select(func.count()).select_from(Customer).where(~recent)).scalar_one()
        segments = dict(
            connection.execute(
                select(Customer.segment, func.count()).group_by(Customer.segment).order_by(Customer.segment)
            ).all()
        )
        latest_run = connection.execute(
            select(ChurnScore.scored_at, ChurnScore.model_version).order_by(ChurnScore.scored_at.desc()).limit(1)
        ).first()
        bands: dict[str, int] = {}
        if latest_run is not None:
            counts = dict(
                connection.execute(
                    select(ChurnScore.risk_band, func.count())
                    .where(
                        ChurnScore.scored_at == latest_run.scored_at,
                        ChurnScore.model_version == latest_run.model_version,
                    )
                    .group_by(ChurnScore.risk_band)
                ).all()
            )
            bands = {band: counts.get(band, 0) for band in RISK_BANDS}
    return DatabaseStats(
        tables,
        reference,
        quiet_days,
        customers,
        quiet,
        segments,
        bands,
        as_datetime(latest_run.scored_at) if latest_run else None,
        latest_run.model_version if latest_run else None,
    )
