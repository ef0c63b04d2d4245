"""Tool: what the offer policy allows, overall or for one customer (the choice and why), from code."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from winback.data.lookups.common import resolve_value
from winback.data.schema import Customer
from winback.offers.choice import Candidate, choose_offer, month_to_date
from winback.offers.policy import PolicyError
from winback.offers.save_rates import SaveRate, estimate_save_rates
from winback.tools.base import Tool, ToolContext, ToolResult
from winback.tools.markdown import pct, table, table_data
from winback.tools.names import ToolName


class OfferPolicyArgs(BaseModel):
    customer_id: str | None = Field(
        None, max_length=64, description="the customer to check; omit for the policy itself"
    )
    segment: str | None = Field(
        None, max_length=64, description="the policy for customers of this segment (its caps applied); omit for all"
    )
    requested_percent: float | None = Field(
        None,
        gt=0,
        le=100,
        description='a discount someone asks about ("can we give 40 % off?"): allowed or not, and why',
    )


PERCENT = "percent_discount"


def _requested(args: OfferPolicyArgs, ctx: ToolContext, candidates: list[Candidate] | None) -> str:
    """Whether the discount asked about is allowed, the most that is, and why: first, in one line."""
    requested = args.requested_percent or 0.0
    asked = f"{requested:g} % off"
    policy = ctx.services.policy()
    try:
        rule = policy.rule(PERCENT)
    except PolicyError:
        return f"**{asked} is not allowed**: the offer policy has no percent discount."
    if candidates is None:  # the policy itself: the most any segment (or the one asked about) may get
        caps = policy.caps.get(PERCENT, {})
        allowed = {segment: policy.capped_value(rule, segment) for segment in caps} or {"every segment": rule.value}
        if args.segment:
            allowed = {args.segment: policy.capped_value(rule, args.segment)}
        ceiling = max(allowed.values())
        per = ", ".join(f"{segment} {value:g} %" for segment, value in allowed.items())
        verdict = "is within the policy" if requested <= ceiling else "is not allowed"
        return f"**{asked} {verdict}**: the percent discount is {rule.value:g} % at most, capped per segment ({per})."
    mine = next((c for c in candidates if c.offer_type == PERCENT), None)
    if mine is None:
        return f"**{asked} is not allowed** for {args.customer_id}: the policy has no percent discount for them."
    if not mine.eligible:
        why = "; ".join(mine.reasons)
        return f"**{asked} is not allowed** for {args.customer_id}: no percent discount applies to them ({why})."
    if requested <= mine.value:
        return f"**{asked} is within the policy** for {args.customer_id}: up to {mine.value:g} % is allowed."
    return (
        f"**{asked} is not allowed** for {args.customer_id}: the most the policy allows them is {mine.value:g} % "
        f"(the percent discount is {rule.value:g} %, lowered to their segment's cap). A draft stays within it."
    )


def _policy(ctx: ToolContext, segment: str | None = None) -> ToolResult:
    """The whole policy, or what it allows customers of one segment (offers open to it, at its caps)."""
    policy = ctx.services.policy()
    offers = [r for r in policy.offers if not segment or not r.segments or segment in r.segments]
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
            policy.capped_value(r, segment) if segment else r.value,
            "/".join(r.bands),
            "/".join(r.segments) or "all",
            r.min_lifetime_value,
            r.requires_opt_in,
            r.monthly_limit if r.monthly_limit is not None else "none",
            month.made.get(r.type, 0),
            _rate_words(rates[r.type]),
        ]
        for r in offers
    ]
    caps = "; ".join(f"{t}: " + ", ".join(f"{s} ≤ {v:g}" for s, v in c.items()) for t, c in policy.caps.items())
    scope = f" for {segment} customers (values after the {segment} caps)" if segment else ""
    text = (
        f"Offer policy{scope} ({policy.currency}): monthly budget {policy.monthly_budget:,.2f}, spent this month "
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
        if args.segment:  # as the shop stores it; an unknown one is an error, not the uncapped policy
            with ctx.engine.connect() as connection:
                args = args.model_copy(
                    update={"segment": resolve_value(connection, Customer.segment, args.segment, "segment")}
                )
        result = _policy(ctx, args.segment)
        if args.requested_percent is not None:
            first = _requested(args, ctx, None)
            result.text, result.summary = f"{first}\n\n{result.text}", first.replace("**", "")
        return result
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
    if args.requested_percent is not None:
        first = _requested(args, ctx, decision.candidates)
        text, chosen = f"{first}\n\n{text}", first
    return ToolResult(
        True, chosen.replace("**", ""), text, {"table": table_data(columns, rows)}, [decision.customer_id]
    )


TOOL = Tool(
    name=ToolName.OFFER_POLICY,
    description="Show the retention offer policy, or which offer the policy allows for one customer and why.",
    args_schema=OfferPolicyArgs,
    run=run,
)
