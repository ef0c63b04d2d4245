"""Who crossed a churn-probability threshold between the two latest scoring runs: the alerts' "crossed
0.7 with a 12-month value above X" and the briefing's "crossed into high risk" read the same lookup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, func, select
from sqlalchemy.orm import aliased

from winback.data.lookups.common import ScoringRun, latest_run
from winback.data.risk_bands import BAND_STARTS
from winback.data.schema import ChurnScore, Customer

HIGH_RISK_START = BAND_STARTS["high"]


@dataclass(frozen=True)
class Crossing:
    customer_id: str
    segment: str
    country: str
    probability_before: float
    probability: float
    risk_band: str
    predicted_value_12m: float | None
    lifetime_value: float
    revenue_at_risk: float  # probability x spend of the 365 days before the run's reference date
    # the strongest risk-raising driver the run stored; None where it explained only the riskiest
    top_driver: str | None
    driver_feature: str | None  # its feature ("recency_days"): what the briefing groups by


@dataclass(frozen=True)
class RiskChanges:
    run: ScoringRun | None  # the latest run
    previous: ScoringRun | None  # the run before it (None: nothing to compare with yet)
    threshold: float
    crossings: list[Crossing]


def risk_crossings(
    connection: Connection, threshold: float = HIGH_RISK_START, min_value: float | None = None
) -> RiskChanges:
    """Active customers at or above `threshold` in the latest run who were below it in the run before (a
    customer scored for the first time did not cross anything). `min_value`: only those whose predicted
    12-month value (their lifetime value where the model has no value head) is above it. Riskiest first."""
    run = latest_run(connection)
    previous = latest_run(connection, before=run.scored_at) if run else None
    if run is None or previous is None:
        return RiskChanges(run, previous, threshold, [])
    now, before = ChurnScore, aliased(ChurnScore)
    value = func.coalesce(now.predicted_value_12m, now.lifetime_value, 0)
    query = (
        select(
            now.customer_id,
            Customer.segment,
            Customer.country,
            before.probability.label("before"),
            now.probability,
            now.risk_band,
            now.predicted_value_12m,
            func.coalesce(now.lifetime_value, 0).label("ltv"),
            (now.probability * func.coalesce(now.spend_365d, 0)).label("at_risk"),
            now.drivers,
        )
        .join(Customer, Customer.customer_id == now.customer_id)
        .join(
            before,
            and_(
                before.customer_id == now.customer_id,
                before.scored_at == previous.scored_at,
                before.model_version == previous.model_version,
            ),
        )
        .where(
            now.scored_at == run.scored_at,
            now.model_version == run.model_version,
            func.coalesce(now.lapsed, False).is_(False),
            now.probability >= threshold,
            before.probability < threshold,
        )
        .order_by(now.probability.desc(), now.customer_id)
    )
    if min_value is not None:
        query = query.where(value > min_value)
    crossings = [
        Crossing(
            r.customer_id,
            r.segment,
            r.country,
            float(r.before),
            float(r.probability),
            r.risk_band,
            float(r.predicted_value_12m) if r.predicted_value_12m is not None else None,
            float(r.ltv),
            round(float(r.at_risk), 2),
            *_raising(r.drivers),
        )
        for r in connection.execute(query)
    ]
    return RiskChanges(run, previous, threshold, crossings)


def _raising(drivers: list[dict[str, object]] | None) -> tuple[str | None, str | None]:
    """The first stored driver that raises the risk: (its text, its feature)."""
    for driver in drivers or []:
        if float(driver.get("contribution") or 0) > 0:  # type: ignore[arg-type]  # JSON numbers
            return str(driver.get("text")), str(driver.get("feature"))
    return None, None


def runs_compared(changes: RiskChanges) -> str:
    """ "the run of 2026-11-01 05:00 against the one of 2026-10-31 05:00" (or why nothing was compared)."""
    if changes.run is None:
        return "no scoring run yet"
    if changes.previous is None:
        return f"only one scoring run so far ({_when(changes.run.scored_at)}): nothing to compare with"
    return f"the scoring run of {_when(changes.run.scored_at)} against the one of {_when(changes.previous.scored_at)}"


def _when(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M}"
