"""Tool: did a campaign work? Treatment against holdout: saves, lift with its 95 % interval, revenue, cost."""

from __future__ import annotations

from pydantic import BaseModel, Field

from winback.offers.campaign_store import find_campaign, list_campaigns
from winback.offers.outcomes import campaign_report
from winback.tools.base import Tool, ToolContext, ToolResult
from winback.tools.markdown import pct, table, table_data
from winback.tools.names import ToolName

COLUMNS = ["group", "treatment saved", "holdout saved", "lift", "95 % interval"]


class CampaignReportArgs(BaseModel):
    campaign: str | None = Field(
        None, max_length=64, description="campaign name or the month it started (e.g. October); default the newest"
    )


def _row(c: dict, closed: bool) -> list[object]:
    t, h = c["treatment"], c["holdout"]
    shown = closed and c["lift"] is not None
    return [
        c["group"],
        f"{t['saved']}/{t['members']} ({pct(t['rate'])})",
        f"{h['saved']}/{h['members']} ({pct(h['rate'])})",
        f"{c['lift']:+.1%}" if shown else "-",
        f"{c['ci'][0]:+.1%} to {c['ci'][1]:+.1%}" if shown and c["ci"] else "-",
    ]


def run(args: CampaignReportArgs, ctx: ToolContext) -> ToolResult:
    if not list_campaigns(ctx.engine):  # an answer, not a failure: nothing has been measured yet
        text = 'No campaign has been started yet, so there is no result to report. A manager can start one ("start a win-back campaign for critical gold customers", or `winback campaign create`).'
        return ToolResult(True, "no campaigns yet", text, {})
    campaign = find_campaign(ctx.engine, args.campaign)
    report = campaign_report(ctx.engine, campaign.campaign_id)
    data = report.as_dict()
    closed = data["window_closed"]
    overall = report.overall.as_dict()
    rows = [_row(overall, closed)] + [_row(c, closed) for c in data["by_band"] + data["by_offer_type"]]
    money = ""
    if closed and overall["incremental_revenue"] is not None:
        money = (
            f" Incremental revenue {overall['incremental_revenue']:,.2f}, offer cost {overall['offer_cost']:,.2f}"
            + (
                f", {overall['cost_per_incremental_save']:,.2f} per incremental save."
                if overall["cost_per_incremental_save"]
                else "."
            )
        )
    window = (
        f"{data['window_days']}-day window from {data['started_at'][:10]}" if data["started_at"] else "not sent yet"
    )
    text = (
        f"Campaign **{campaign.campaign_id}** ({window}; saved = ordered again in the window; lift = treatment "
        f"save rate minus holdout save rate): {data['note']}.{money}\n\n{table(COLUMNS, rows)}"
    )
    chart = None
    if data["curve"]:
        chart = {
            "type": "line",
            "title": f"{campaign.campaign_id}: share of members who ordered again",
            "x": data["curve"]["day"],
            "series": {"treatment": data["curve"]["treatment"], "holdout": data["curve"]["holdout"]},
            "x_title": "days after the send",
            "y_title": "ordered again (share)",
            "series_title": "arm",
        }
    return ToolResult(
        True,
        f"campaign {campaign.campaign_id}: "
        + (f"lift {overall['lift']:+.1%}" if closed and overall["lift"] is not None else "window open"),
        text,
        {"report": data, "table": table_data(COLUMNS, rows), "chart": chart},
    )


TOOL = Tool(
    name=ToolName.CAMPAIGN_REPORT,
    description="Did a campaign work: treatment vs holdout reorders, lift with a 95% interval, revenue and cost.",
    args_schema=CampaignReportArgs,
    run=run,
)
