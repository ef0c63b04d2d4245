"""Tool: one customer's card — activity, open tickets, recent reviews, churn score and drivers, offers."""

from __future__ import annotations

import contextlib

from winback.data.lookups import customer_profile
from winback.data.lookups.profile import ProfileArgs
from winback.data.untrusted import inert_cell
from winback.errors import UserError
from winback.model.scoring import score_customers
from winback.tools.base import Tool, ToolContext, ToolResult
from winback.tools.markdown import cell, day, outlook, pct, quoted, table
from winback.tools.names import ToolName


def run(args: ProfileArgs, ctx: ToolContext) -> ToolResult:
    card = customer_profile(ctx.engine, args.customer_id, ctx.role)
    if card.churn and not card.churn.drivers and not card.closed_at:
        # not stored by `winback score` (beyond WINBACK_SCORE_DRIVERS_TOP): explained now, on opening
        with contextlib.suppress(UserError):
            [score] = score_customers(ctx.engine, ctx.services.scorer(), [card.customer_id])
            card.churn.drivers = [d.to_dict() for d in score.drivers]
    lines = [
        f"**{card.customer_id}** {inert_cell(card.name)} ({inert_cell(card.email)}) · {card.segment} · {inert_cell(card.city)}, "
        f"{inert_cell(card.country)} · "
        f"customer for {card.tenure_days:,} days{' · account closed ' + day(card.closed_at) if card.closed_at else ''}",
        f"{card.orders:,} orders ({card.late_deliveries:,} late, {card.returned:,} returned, {card.cancelled:,} "
        f"cancelled) · lifetime value {cell(card.lifetime_value)} · last 365 days {cell(card.spend_365d)} · last order "
        f"{day(card.last_order_at)}"
        + (
            f" ({card.days_since_last_order:,} days before {day(card.as_of)})"
            if card.days_since_last_order is not None
            else ""
        ),
    ]
    if card.churn:
        lines.append(
            f"Churn probability {pct(card.churn.probability)} ({card.churn.risk_band}), model "
            f"{card.churn.model_version}, scored {day(card.churn.scored_at)}. Drivers:"
        )
        lines += [f"- {d.get('text', d.get('feature'))}" for d in card.churn.drivers]
        c = card.churn
        if line := outlook(c.order_probability_90d, c.expected_next_order_at, c.predicted_value_12m):
            lines.append(f"Outlook: {line}.")
    else:
        lines.append("No churn score yet (run `winback score`).")
    for t in card.open_tickets:
        lines.append(
            f"- open ticket {t.ticket_id} ({t.topic}, {t.status}, open {t.days_open} days): "
            + quoted(f"ticket {t.ticket_id}", t.excerpt)
        )
    for r in card.recent_reviews:
        lines.append(
            f"- review {r.review_id}, {r.rating} stars, {day(r.created_at)}: "
            + quoted(f"review {r.review_id}", f"{r.title}. {r.excerpt}" if r.title else r.excerpt)
        )
    if card.offers:
        lines.append(
            "\nOffers:\n\n"
            + table(
                ["offer", "type", "value", "status", "created"],
                [[o.offer_id, o.offer_type, o.value, o.status, day(o.created_at)] for o in card.offers],
            )
        )
    if card.recent_orders:
        lines.append(
            "\nRecent orders:\n\n"
            + table(
                ["order", "date", "status", "amount", "days late"],
                [[o.order_id, day(o.ordered_at), o.status, o.total_amount, o.late_days] for o in card.recent_orders],
            )
        )
    summary = f"profile of {card.customer_id}" + (f", churn {pct(card.churn.probability)}" if card.churn else "")
    data = {"profile": card.model_dump(mode="json")}
    if card.churn and card.churn.drivers:
        data["chart"] = drivers_chart(card.churn.drivers, f"Why {card.customer_id} may leave")
    return ToolResult(True, summary, "\n".join(lines), data, [card.customer_id])


def drivers_chart(drivers: list[dict], title: str) -> dict:
    """A bar chart spec the UI draws with plotly: contribution to the churn probability per driver."""
    return {
        "type": "bar",
        "title": title,
        "x": [round(float(d.get("contribution", 0.0)), 4) for d in drivers],
        "y": [str(d.get("text", d.get("feature"))) for d in drivers],
        "x_title": "contribution to churn probability",
    }


TOOL = Tool(
    name=ToolName.CUSTOMER_PROFILE,
    description="One customer's profile: orders, open tickets, recent reviews, churn score with drivers, offers.",
    args_schema=ProfileArgs,
    run=run,
)
