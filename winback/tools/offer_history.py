"""Tool: offers made so far and how they turned out (redeemed, reordered within 30 days)."""

from __future__ import annotations

from winback.data.lookups import OfferHistoryArgs, offer_history
from winback.tools.base import Tool, ToolContext, ToolResult
from winback.tools.markdown import day, pct, table, table_data
from winback.tools.names import ToolName

COLUMNS = ["offer", "customer", "created", "type", "value", "status", "by", "reordered in 30 d"]


def run(args: OfferHistoryArgs, ctx: ToolContext) -> ToolResult:
    history = offer_history(ctx.engine, args)
    o = history.outcomes
    rows = [
        [
            r.offer_id,
            r.customer_id,
            day(r.created_at),
            r.offer_type,
            r.value,
            r.status,
            r.created_by,
            r.ordered_within_30d,
        ]
        for r in history.rows
    ]
    statuses = ", ".join(f"{k} {v:,}" for k, v in o.by_status.items()) or "none"
    if not o.offers:
        text = "No offers match these filters yet."
    else:
        text = (
            f"{o.offers:,} offers match ({statuses}); redemption rate {pct(o.redemption_rate)}, reorder within 30 days "
            f"{pct(o.reorder_rate)}, total value {o.total_value:,.2f}. Newest {len(rows)}:\n\n" + table(COLUMNS, rows)
        )
    text += "".join(f"\n\nNote: {n}." for n in history.notes)
    return ToolResult(
        True,
        f"{o.offers:,} offers",
        text,
        {
            "table": table_data(COLUMNS, rows),
            "outcomes": o.model_dump(mode="json"),
            "rows": [r.model_dump(mode="json") for r in history.rows],
        },
        list(dict.fromkeys(r.customer_id for r in history.rows)),
    )


TOOL = Tool(
    name=ToolName.OFFER_HISTORY,
    description="List offers already made (to one customer or all) with their status and outcomes.",
    args_schema=OfferHistoryArgs,
    run=run,
)
