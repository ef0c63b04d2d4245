"""Writing a scoring run into churn_scores: probabilities, bands and drivers from the model, plus the
snapshot of each customer's figures that lists and segment reports read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, select, update

from winback.data.bulk import bulk_insert
from winback.data.customer_facts import customer_facts
from winback.data.schema import Base, Customer

ACTIVE_WITHIN_DAYS = 365  # the churn model's population: ordered or signed up within a year of the reference


@dataclass(frozen=True)
class ScoreRecord:
    customer_id: str
    probability: float
    risk_band: str
    drivers: list[dict[str, Any]] | None = field(default_factory=list)  # None: not computed (explained on demand)
    order_probability_90d: float | None = None  # the heads' predictions (None: the model has no such head)
    days_to_next_order: float | None = None  # median; None when no order is expected within the horizon
    predicted_value_12m: float | None = None


def store_drivers(
    engine: Engine, drivers: dict[str, list[dict[str, Any]]], model_version: str, scored_at: datetime
) -> None:
    """Fill the drivers of one run's rows, one transaction per call."""
    table = Base.metadata.tables["churn_scores"]
    statement = (
        update(table)
        .where(
            table.c.customer_id == bindparam("cid"),
            table.c.model_version == model_version,
            table.c.scored_at == scored_at,
        )
        .values(drivers=bindparam("explained"))
    )
    with engine.begin() as connection:
        connection.execute(statement, [{"cid": c, "explained": d} for c, d in drivers.items()])


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def write_scores(
    engine: Engine, records: Sequence[ScoreRecord], model_version: str, scored_at: datetime, reference: datetime
) -> int:
    """Append one chunk of a run (one transaction); the snapshot is taken at `reference`."""
    ids = [r.customer_id for r in records]
    with engine.connect() as connection:
        facts = customer_facts(connection, reference, ids)
        signups = dict(
            connection.execute(
                select(Customer.customer_id, Customer.signup_at).where(Customer.customer_id.in_(ids))
            ).all()
        )
    year_ago = reference - timedelta(days=ACTIVE_WITHIN_DAYS)
    rows = []
    for r in records:
        f = facts[r.customer_id]
        last_seen = f.last_order_at or signups.get(r.customer_id)
        rows.append(
            {
                "customer_id": r.customer_id,
                "model_version": model_version,
                "scored_at": scored_at,
                "probability": round(r.probability, 5),
                "risk_band": r.risk_band,
                "drivers": r.drivers,
                "lifetime_value": f.lifetime_value,
                "spend_365d": f.spend_365d,
                "orders_365d": f.orders_365d,
                "deliveries_365d": f.deliveries_365d,
                "late_deliveries_365d": f.late_deliveries_365d,
                "last_order_at": f.last_order_at,
                "lapsed": last_seen is not None and last_seen <= year_ago,
                "order_probability_90d": _rounded(r.order_probability_90d, 5),
                "expected_next_order_at": reference + timedelta(days=round(r.days_to_next_order))
                if r.days_to_next_order is not None
                else None,
                "predicted_value_12m": _rounded(r.predicted_value_12m, 2),
            }
        )
    with engine.begin() as connection:
        return bulk_insert(connection, Base.metadata.tables["churn_scores"], rows)
