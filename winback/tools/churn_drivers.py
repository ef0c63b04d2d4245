"""Tool: what drives churn risk across all customers, a segment or a country (model attributions)."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import func, select

from winback.data.lookups.common import latest_run, resolve_value
from winback.data.schema import Customer, Order
from winback.model.scoring import group_drivers
from winback.tools.base import Tool, ToolContext, ToolResult
from winback.tools.markdown import table, table_data
from winback.tools.names import ToolName

SAMPLE = 2_000  # customers explained, evenly spread over the group: a stable ranking in a few seconds


class ChurnDriversArgs(BaseModel):
    segment: str | None = Field(None, description="only this segment, e.g. gold")
    country: str | None = Field(None, description="only this country")
    top: int = Field(8, ge=1, le=30, description="how many drivers")


def run(args: ChurnDriversArgs, ctx: ToolContext) -> ToolResult:
    with ctx.engine.connect() as connection:
        segment = resolve_value(connection, Customer.segment, args.segment, "segment") if args.segment else None
        country = resolve_value(connection, Customer.country, args.country, "country") if args.country else None
        last_order = connection.scalar(select(func.max(Order.ordered_at)))  # what the attributions read:
        run = latest_run(connection)  # new orders or a new scoring run, a new key
    scorer = ctx.services.scorer()
    key = f"drivers:{scorer.version}:{last_order}:{run.scored_at if run else None}:{segment}:{country}"
    summary, size = ctx.services.cached(  # once per group: many users asking at once share one computation
        key, lambda: group_drivers(ctx.engine, scorer, segment=segment, country=country, sample=SAMPLE)
    )
    top = summary.head(args.top)
    who = " ".join(x for x in (segment, country) if x) or "all"
    rows = [
        [r.feature.replace("_", " "), round(float(r.importance), 4), f"{float(r.mean_contribution) * 100:+.1f} pts"]
        for r in top.itertuples()
    ]
    columns = ["driver", "importance", "mean effect on churn probability"]
    explained = min(size, SAMPLE)
    text = (
        f"What drives churn risk among {who} customers ({size:,} customers; {explained:,} explained by the model, "
        f"mean absolute contribution):\n\n" + table(columns, rows)
    )
    chart = {
        "type": "bar",
        "title": f"Churn drivers: {who} customers",
        "x": [row[1] for row in rows],
        "y": [row[0] for row in rows],
        "x_title": "mean |contribution| to churn probability",
    }
    return ToolResult(
        True,
        f"top {len(rows)} drivers for {who} customers",
        text,
        {"table": table_data(columns, rows), "chart": chart, "group_size": size},
    )


TOOL = Tool(
    name=ToolName.CHURN_DRIVERS,
    description="What drives churn risk overall or within one segment or country, ranked by the model's attributions.",
    args_schema=ChurnDriversArgs,
    run=run,
    kind="analysis",
)
