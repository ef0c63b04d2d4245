"""Tool: what the offer policy allows, overall or for one customer (the choice and why), from code."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from winback.offers.choice import choose_offer, month_to_date
from winback.offers.save_rates import SaveRate, estimate_save_rates
from winback.tools.base import Tool, ToolContext, ToolResult
from winback.tools.markdown import pct, table, table_data
from winback.tools.names import ToolName


class OfferPolicyArgs(BaseModel):
    customer_id: str | None = Field(
        None, max_length=64, description="the customer to check; omit for the policy itself"
    )


def _policy(ctx: ToolContext) -> ToolResult:
    policy = ctx.services.policy()
    month = month_to_date(ctx.engine, datetime.now())
    columns = [
        "offer",
        "value",
        "bands",
        "segments",
        "min lifetime value",
        "needs opt-in",
        "monthly limit",
        "made this month",
        "save rate",
    ]
    rates = estimate_save_rates(ctx.engine, policy)
    rows = [
        [
            r.type,
            r.value,
            "/".join(r.bands),
            "/".join(r.segments) or "all",
            r.min_lifetime_value,
            r.requires_opt_in,
            r.monthly_limit if r.monthly_limit is not None else "none",
            month.made.get(r.type, 0),
            _rate_words(rates[r.type]),
        ]
        for r in policy.offers
    ]
    caps = "; ".join(f"{t}: " + ", ".join(f"{s} ≤ {v:g}" for s, v in c.items()) for t, c in policy.caps.items())
    text = (
        f"Offer policy ({policy.currency}): monthly budget {policy.monthly_budget:,.2f}, spent this month "
        f"{month.spent:,.2f}; at most one offer per customer every {policy.cooldown_days} days; offers valid "
        f"{policy.validity_days} days.\n\n" + table(columns, rows) + (f"\n\nCaps per segment: {caps}." if caps else "")
    )
    return ToolResult(
        True,
        f"{len(rows)} offer types, budget left {policy.monthly_budget - month.spent:,.2f}",
        text,
        {"table": table_data(columns, rows)},
    )


def _rate_words(rate: SaveRate) -> str:
    """The save rate in use and where it comes from: the prior, or the lift campaigns measured."""
    if rate.lift is None:
        return f"{pct(rate.rate)} (prior)"
    m = rate.measured
    return f"{pct(rate.rate)} (measured lift {rate.lift:+.1%}: {m.treated} treated, {m.holdout} held out)"


def run(args: OfferPolicyArgs, ctx: ToolContext) -> ToolResult:
    if not args.customer_id:
        return _policy(ctx)
    decision = choose_offer(ctx.engine, args.customer_id, ctx.services.policy())
    columns = ["offer", "value", "expected cost", "save rate", "expected value", "eligible", "why not"]
    rows = [
        [
            c.offer_type,
            c.value,
            round(c.cost, 2),
            pct(c.save_rate),
            round(c.expected_value, 2),
            c.eligible,
            "; ".join(c.reasons),
        ]
        for c in decision.candidates
    ]
    churn = pct(decision.churn_probability) if decision.churn_probability is not None else "not scored"
    chosen = (
        f"The policy's choice for {decision.customer_id}: **{decision.chosen.offer_type} {decision.chosen.value:g}**"
        if decision.chosen
        else f"No offer for {decision.customer_id}"
    )
    text = (
        f"{chosen} — {decision.reason}. Churn probability {churn}; budget left this month "
        f"{decision.budget_left:,.2f}.\n\n" + table(columns, rows)
    )
    return ToolResult(
        True, chosen.replace("**", ""), text, {"table": table_data(columns, rows)}, [decision.customer_id]
    )


TOOL = Tool(
    name=ToolName.OFFER_POLICY,
    description="Show the retention offer policy, or which offer the policy allows for one customer and why.",
    args_schema=OfferPolicyArgs,
    run=run,
)
