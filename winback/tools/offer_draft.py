"""Tool: draft a win-back message for one customer with the offer the policy chooses; saved as a draft
that a person approves. The model writes at most the personal opening; code writes the offer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from winback.roles import ROLES_THAT_DRAFT
from winback.tools.base import Tool, ToolContext, ToolResult
from winback.tools.names import ToolName
from winback.tools.offers.drafting import Channel, OfferDrafter

DRAFTING_ROLES = ROLES_THAT_DRAFT
SOURCE_WORDS = {
    "llm": "written by the LLM, validated",
    "llm_repaired": "written by the LLM after a repair, validated",
    "template": "from the checked templates",
}


class DraftOfferArgs(BaseModel):
    customer_id: str = Field(min_length=1, max_length=64, description="customer id, e.g. C-1042")
    channel: Channel = Field("email", description="email or sms")
    tone: Literal["warm", "formal", "brief"] = Field("warm", description="tone of the message")


def run(args: DraftOfferArgs, ctx: ToolContext) -> ToolResult:
    backend = ctx.services.llm()
    drafter = OfferDrafter(ctx.engine, ctx.settings, backend.llm, ctx.services.policy(), structured=backend.structured)
    outcome = drafter.draft(args.customer_id, channel=args.channel, tone=args.tone, actor=ctx.actor)
    decision = outcome.decision
    if outcome.draft is None or decision.chosen is None:
        return ToolResult(
            True,
            f"no offer for {args.customer_id}",
            f"No offer drafted for {args.customer_id}: {decision.reason}.",
            {"offer": None},
            [args.customer_id],
        )
    if outcome.note and "unavailable" in outcome.note:
        ctx.services.forget_llm()
    chosen = decision.chosen
    source = SOURCE_WORDS.get(outcome.source or "", outcome.source or "")
    text = (
        f"Drafted offer {outcome.offer_id} for {args.customer_id}: {chosen.offer_type} {chosen.value:g} "
        f"({decision.reason}). Saved as a draft for approval; message {source}"
        f"{' — ' + outcome.note if outcome.note else ''}.\n\n**Subject:** {outcome.draft.subject}\n\n"
        f"{outcome.draft.body}"
    )
    data = {
        "offer": {
            "offer_id": outcome.offer_id,
            "customer_id": args.customer_id,
            "offer_type": chosen.offer_type,
            "value": chosen.value,
            "channel": args.channel,
            "subject": outcome.draft.subject,
            "message": outcome.draft.body,
            "source": outcome.source,
            "status": "draft",
            "reason": decision.reason,
        }
    }
    return ToolResult(
        True, f"draft {outcome.offer_id}: {chosen.offer_type} {chosen.value:g}", text, data, [args.customer_id]
    )


TOOL = Tool(
    name=ToolName.DRAFT_OFFER,
    description="Draft a personalised win-back message for one customer with the offer the policy allows.",
    args_schema=DraftOfferArgs,
    run=run,
    roles=DRAFTING_ROLES,
    kind="action",
)
