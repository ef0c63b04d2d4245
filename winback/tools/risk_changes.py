"""Tool: who crossed into high risk since the previous scoring run, grouped by what drives them."""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, Field

from winback.data.lookups.risk_changes import HIGH_RISK_START, risk_crossings, runs_compared
from winback.tools.base import Tool, ToolContext, ToolResult
from winback.tools.markdown import pct, table, table_data
from winback.tools.names import ToolName

COLUMNS = ["customer", "segment", "country", "churn before", "churn now", "band", "revenue at risk", "top driver"]
DRIVER_COLUMNS = ["top driver", "customers", "revenue at risk"]
NO_DRIVER = "not explained yet"


class RiskChangesArgs(BaseModel):
    threshold: float = Field(HIGH_RISK_START, gt=0, lt=1, description="churn probability crossed (0.5: high risk)")
    min_value: float | None = Field(None, ge=0, description="only customers whose 12-month value is above this")
    limit: int = Field(20, ge=1, le=500, description="how many customers to list (riskiest first)")


def run(args: RiskChangesArgs, ctx: ToolContext) -> ToolResult:
    with ctx.engine.connect() as connection:
        changes = risk_crossings(connection, args.threshold, args.min_value)
    crossings = changes.crossings
    newly_at_risk = round(sum(c.revenue_at_risk for c in crossings), 2)
    by_driver: dict[str, list[float]] = defaultdict(list)
    for c in crossings:  # grouped by what the driver is about, not its figures ("last order 151 days ago")
        by_driver[c.driver_feature.replace("_", " ") if c.driver_feature else NO_DRIVER].append(c.revenue_at_risk)
    groups = sorted(by_driver.items(), key=lambda item: (-len(item[1]), item[0]))
    driver_rows = [[driver, len(values), round(sum(values), 2)] for driver, values in groups]
    rows = [
        [
            c.customer_id,
            c.segment,
            c.country,
            pct(c.probability_before),
            pct(c.probability),
            c.risk_band,
            c.revenue_at_risk,
            c.top_driver or "",
        ]
        for c in crossings[: args.limit]
    ]
    value = f" and a 12-month value above {args.min_value:,.2f}" if args.min_value is not None else ""
    head = (
        f"{len(crossings):,} customers crossed {pct(args.threshold, 0)} churn risk{value} ({runs_compared(changes)}); "
        f"revenue newly at risk: {newly_at_risk:,.2f}."
    )
    if not crossings:
        text = head
    else:
        shown = f"the {len(rows)} riskiest" if len(rows) < len(crossings) else "all of them"
        text = (
            f"{head}\n\nBy top driver:\n\n{table(DRIVER_COLUMNS, driver_rows)}\n\n{shown.capitalize()}:\n\n"
            f"{table(COLUMNS, rows)}"
        )
    chart = {
        "type": "bar",
        "title": "Crossed into high risk, by top driver",
        "x": [row[1] for row in driver_rows],
        "y": [row[0] for row in driver_rows],
        "x_title": "customers",
    }
    return ToolResult(
        True,
        f"{len(crossings):,} customers crossed {pct(args.threshold, 0)}",
        text,
        {
            "table": table_data(COLUMNS, rows),
            "drivers": table_data(DRIVER_COLUMNS, driver_rows),
            "chart": chart if crossings else None,
            "crossed": len(crossings),
            "revenue_newly_at_risk": newly_at_risk,
            "compared": runs_compared(changes),
        },
        customer_ids=[c.customer_id for c in crossings[: args.limit]],
    )


TOOL = Tool(
    name=ToolName.RISK_CHANGES,
    description="Who crossed into high churn risk since the previous scoring run, grouped by top driver.",
    args_schema=RiskChangesArgs,
    run=run,
)
