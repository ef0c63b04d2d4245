"""Tool: find what customers wrote (reviews, support tickets) by meaning, or list one customer's texts."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from winback.data.lookups import customer_feedback
from winback.data.risk_bands import RiskBand
from winback.search.search import FeedbackFilter, Stance, feedback_hits
from winback.tools.base import Tool, ToolContext, ToolFailure, ToolResult
from winback.tools.markdown import day, quoted
from winback.tools.names import ToolName


class FeedbackSearchArgs(BaseModel):
    query: str | None = Field(
        None, max_length=500, description="what to look for, in plain words; omit to list everything one customer wrote"
    )
    customer_id: str | None = Field(None, max_length=64, description="only this customer's texts")
    kind: Literal["review", "ticket"] | None = Field(None, description="only reviews or only support tickets")
    max_rating: int | None = Field(None, ge=1, le=5, description="only reviews rated at most this")
    min_rating: int | None = Field(None, ge=1, le=5, description="only reviews rated at least this")
    since: date | None = Field(None, description="only texts written on or after this date")
    segment: str | None = Field(None, description="only customers of this segment")
    risk_band: RiskBand | None = Field(None, description="only customers in this band")
    tone: Stance = Field("auto", description="put complaints or praise first; auto: praise only when asked for")
    limit: int = Field(8, ge=1, le=50, description="how many texts")


def _label(kind: str, source_id: str, customer_id: str, when: str, rating: int | None, topic: str | None) -> str:
    extra = f", {rating} stars" if rating is not None else (f", topic {topic}" if topic else "")
    return f"{kind} {source_id} by {customer_id}, {when}{extra}"


def run(args: FeedbackSearchArgs, ctx: ToolContext) -> ToolResult:
    if not (args.query and args.query.strip()):
        if not args.customer_id:
            raise ToolFailure("say what to look for, or name a customer to list what they wrote")
        items, notes, counts = customer_feedback(ctx.engine, args.customer_id, args.kind, args.limit)
        what = {"review": "reviews", "ticket": "support tickets", None: "reviews and support tickets"}[args.kind]
        if args.kind is None:  # say how many of each: "has she complained?" is answered by the ticket count
            reviews, tickets = counts["review"], counts["ticket"]
            wrote = f"{tickets:,} support ticket{'s' * (tickets != 1)} and {reviews:,} review{'s' * (reviews != 1)}"
            shown = wrote if len(items) == reviews + tickets else f"{wrote} (the newest {len(items)} below)"
        else:
            shown = f"{len(items)} {what}" if len(items) == counts[args.kind] else f"{what} (newest {len(items)})"
        lines = [f"{args.customer_id} wrote {shown}" + (" (newest first):" if items else ".")]
        for i in items:
            status = f", {i.status}" if i.status else ""
            lines.append(
                f"- {_label(i.kind, i.source_id, args.customer_id, day(i.created_at), i.rating, i.topic)}"
                f"{status}: {quoted(i.kind + ' ' + i.source_id, i.text)}"
            )
        lines += [f"Note: {n}." for n in notes]
        return ToolResult(
            True,
            f"{len(items)} {what} by {args.customer_id}",
            "\n".join(lines),
            {"items": [i.model_dump(mode="json") for i in items]},
            [args.customer_id],
        )
    filters = FeedbackFilter.parse(args.model_dump(exclude_none=True, exclude={"query", "limit", "tone"}))
    collection, embedder = ctx.services.feedback()
    found = feedback_hits(
        collection, embedder, args.query, filters, args.limit, keyword=ctx.services.keyword_index(), stance=args.tone
    )
    hits = found.snippets
    lines = [f"{len(hits)} texts closest to {args.query.strip()!r}" + (":" if hits else " (none matched the filters).")]
    if found.matching is not None or found.stance != "any":
        lines.insert(0, found.summary(args.query) + ".")
    for h in hits:
        lines.append(
            f"- {_label(h.kind, h.source_id, h.customer_id, h.created_date, h.rating, h.topic)}: "
            f"{quoted(h.kind + ' ' + h.source_id, h.short)}"
        )
    return ToolResult(
        True,
        f"{len(hits)} matching texts",
        "\n".join(lines),
        {
            "items": [h.to_dict() for h in hits],
            "stance": found.stance,
            "matching": found.matching,
            "matching_low_rated": found.matching_low_rated,
        },
        list(dict.fromkeys(h.customer_id for h in hits)),
    )


TOOL = Tool(
    name=ToolName.SEARCH_FEEDBACK,
    description="Search reviews and support tickets by meaning (e.g. 'late delivery'), or list one customer's texts.",
    args_schema=FeedbackSearchArgs,
    run=run,
)
