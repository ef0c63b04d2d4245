"""Tool: score one customer now with the churn model and say why (integrated-gradients drivers)."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from winback.data.lookups.common import CustomerNotFound
from winback.model.scoring import UnknownCustomer, score_customers
from winback.tools.base import Tool, ToolContext, ToolResult
from winback.tools.customer_profile import drivers_chart
from winback.tools.markdown import day, outlook, pct
from winback.tools.names import ToolName

DRIVER_WEIGHT = re.compile(r"\s*\([+-][\d.]+\)$")  # the driver text's own '(+0.19)'


class ChurnScoreArgs(BaseModel):
    customer_id: str = Field(min_length=1, max_length=64, description="customer id, e.g. C-1042")


def run(args: ChurnScoreArgs, ctx: ToolContext) -> ToolResult:
    try:
        [score] = score_customers(ctx.engine, ctx.services.scorer(), [args.customer_id])
    except UnknownCustomer:
        raise CustomerNotFound(f"no customer with id {args.customer_id!r}") from None
    drivers = [d.to_dict() for d in score.drivers]
    lines = [
        f"**{score.customer_id}**: churn probability {pct(score.probability)} ({score.risk_band}) as of "
        f"{day(score.as_of)}, model {score.model_version}, scored just now. What moves it:"
    ]
    for d in score.drivers:
        direction = "raises" if d.contribution > 0 else "lowers"
        lines.append(
            f"- {DRIVER_WEIGHT.sub('', d.text)} ({direction} the risk by {abs(d.contribution) * 100:.1f} points)"
        )
    if line := outlook(
        score.outlook.order_probability_90d, score.outlook.next_order_at(score.as_of), score.outlook.predicted_value_12m
    ):
        lines.append(f"Outlook: {line}.")
    return ToolResult(
        ok=True,
        summary=f"{score.customer_id}: {pct(score.probability)} ({score.risk_band})",
        text="\n".join(lines),
        data={"score": score.to_dict(), "chart": drivers_chart(drivers, f"Why {score.customer_id} may leave")},
        customer_ids=[score.customer_id],
    )


TOOL = Tool(
    name=ToolName.EXPLAIN_RISK,
    description="Score one customer's churn risk now with the model and explain the drivers behind it.",
    args_schema=ChurnScoreArgs,
    run=run,
)
