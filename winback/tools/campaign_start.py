"""Tool: start a win-back campaign: a cohort from the at-risk filters, a random holdout per risk band, and
drafts for the treatment arm (from the checked templates, so a chat turn stays fast) awaiting approval."""

from __future__ import annotations

from pydantic import BaseModel, Field

from winback.data.clock import shop_now
from winback.data.risk_bands import RiskBand
from winback.offers.campaigns import CampaignRank, CohortArgs, create_campaign
from winback.offers.drafting import OfferDrafter
from winback.offers.uplift import load_uplift
from winback.roles import ROLES_THAT_RUN_CAMPAIGNS
from winback.tools.base import Tool, ToolContext, ToolResult
from winback.tools.markdown import table, table_data
from winback.tools.names import ToolName

DEFAULT_TOP = 200


class StartCampaignArgs(BaseModel):
    name: str | None = Field(None, max_length=64, description="campaign name; default from the filters and date")
    top: int = Field(DEFAULT_TOP, ge=10, le=5000, description="how many customers")
    segment: str | None = Field(None, description="customer segment, e.g. gold")
    country: str | None = Field(None, description="country name")
    risk_bands: list[RiskBand] | None = Field(None, description="only these risk bands")
    rank: CampaignRank = Field("probability", description="probability, revenue_at_risk, incremental_value or uplift")
    holdout: float | None = Field(None, ge=0.05, le=0.5, description="share kept out as holdout; default 0.2")


def _name(args: StartCampaignArgs, ctx: ToolContext) -> str:
    if args.name:
        return args.name
    parts = [*(args.risk_bands or []), args.segment or "", args.country or "", f"{shop_now(ctx.engine):%Y-%m-%d}"]
    return "-".join(p.lower().replace(" ", "-") for p in parts if p)[:64]


def run(args: StartCampaignArgs, ctx: ToolContext) -> ToolResult:
    policy = ctx.services.policy()
    cohort = CohortArgs(top=args.top, rank=args.rank, segment=args.segment, country=args.country, bands=args.risk_bands)
    drafter = OfferDrafter(ctx.engine, ctx.settings, None, policy)
    uplift = load_uplift(ctx.settings.data_dir) if args.rank == "uplift" else None
    created = create_campaign(
        ctx.engine, policy, drafter, _name(args, ctx), cohort, args.holdout, actor=ctx.actor, uplift=uplift
    )
    columns = ["risk band", "treatment", "holdout"]
    rows = [[band, n["treatment"], n["holdout"]] for band, n in sorted(created.by_band.items())]
    reasons = "; ".join(f"{reason}: {n}" for reason, n in created.drafts.no_offer.most_common())
    text = (
        f"Started campaign **{created.campaign_id}**: {created.members:,} customers, "
        f"{created.arms['treatment']:,} in the treatment arm and {created.arms['holdout']:,} held out at random "
        f"(per risk band) to measure the effect.\n\n{table(columns, rows)}\n\n"
        f"{created.drafts.drafted:,} offers drafted for the treatment arm from the checked templates"
        + (f" (no offer where the policy says so — {reasons})" if reasons else "")
        + ". Nothing is sent yet: another manager approves the drafts "
        f"(`winback campaign approve {created.campaign_id}`), then `winback campaign send` sends them."
    )
    return ToolResult(
        True,
        f"campaign {created.campaign_id}: {created.members} members",
        text,
        {
            "campaign": created.campaign_id,
            "arms": created.arms,
            "drafted": created.drafts.drafted,
            "table": table_data(columns, rows),
        },
    )


TOOL = Tool(
    name=ToolName.START_CAMPAIGN,
    description="Start a win-back campaign for at-risk customers, with a random holdout group to measure its lift.",
    args_schema=StartCampaignArgs,
    run=run,
    roles=ROLES_THAT_RUN_CAMPAIGNS,
    kind="action",
)
