"""Tool: the recurring complaints in reviews or tickets, with size, trend, churn after writing and quotes."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from winback.data.risk_bands import RiskBand
from winback.search.theme_cache import cached_themes
from winback.tools.base import Tool, ToolContext, ToolResult
from winback.tools.markdown import pct, quoted, table, table_data
from winback.tools.names import ToolName

MAX_TEXTS = 10_000  # texts clustered at most; beyond this the report says it is a sample


class ComplaintThemesArgs(BaseModel):
    kind: Literal["review", "ticket"] = Field("review", description="reviews (rated at most max_rating) or tickets")
    max_rating: int = Field(2, ge=1, le=5, description="reviews rated at most this count as complaints")
    since: date | None = Field(None, description="only texts written on or after this date")
    segment: str | None = Field(None, description="only customers of this segment")
    risk_band: RiskBand | None = Field(None, description="only customers in this band")
    themes: int | None = Field(None, ge=2, le=12, description="number of themes (default: chosen from the data)")


def run(args: ComplaintThemesArgs, ctx: ToolContext) -> ToolResult:
    filters = args.model_dump(exclude_none=True, exclude={"themes", "max_rating"})
    if args.kind == "review":
        filters["max_rating"] = args.max_rating
    collection, embedder = ctx.services.feedback()
    # clustering thousands of sentences takes tens of seconds on a CPU: each report is computed once per
    # filter set and index state, kept on disk, and the answer says when it was computed
    key = f"themes:{sorted(filters.items())}:{args.themes}:{collection.count()}"
    computed_at, report = ctx.services.cached(
        key,
        lambda: cached_themes(ctx.settings.data_dir, ctx.engine, collection, embedder, filters, args.themes, MAX_TEXTS),
    )
    columns = ["theme", "texts", "share", "churn after writing", "latest months"]
    rows, lines = [], []
    for t in report.themes:
        months = ", ".join(f"{m}: {n}" for m, n in list(t.monthly.items())[-3:])
        rows.append([t.label, t.size, pct(t.share, 0), pct(t.churn_rate, 0), months])
        lines += [f"- {t.label}: {quoted(e.kind + ' ' + e.source_id, e.short)}" for e in t.examples[:2]]
    what = f"complaints in reviews rated ≤ {args.max_rating}" if args.kind == "review" else "support tickets"
    scope = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in filters.items() if k not in ("kind", "max_rating"))
    sampled = " (a sample: more texts match)" if report.total >= MAX_TEXTS else ""
    header = (
        f"{len(report.themes)} themes in {report.total:,} {what}{sampled}{' (' + scope + ')' if scope else ''}; "
        f"churn after writing, all of them: {pct(report.overall_churn_rate, 0)} (computed {computed_at:%Y-%m-%d %H:%M})."
    )
    text = header + "\n\n" + table(columns, rows) + "\n\nExample quotes:\n" + "\n".join(lines)
    chart = {
        "type": "bar",
        "title": "Complaint themes",
        "x": [t.label for t in report.themes],
        "y": [t.size for t in report.themes],
        "y_title": "texts",
    }
    data = {"table": table_data(columns, rows), "chart": chart, "monthly": {t.label: t.monthly for t in report.themes}}
    return ToolResult(True, f"{len(report.themes)} themes in {report.total:,} texts", text, data)


TOOL = Tool(
    name=ToolName.COMPLAINT_THEMES,
    description="Group complaints from reviews or support tickets into themes with size, trend, churn and quotes.",
    args_schema=ComplaintThemesArgs,
    run=run,
    kind="analysis",
)
