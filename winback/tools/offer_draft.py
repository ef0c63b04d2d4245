"""Tool: draft a win-back message for one customer with the offer the policy chooses; saved as a draft
that a person approves. The model writes at most the personal opening; code writes the offer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from winback.offers.drafting import Channel, OfferDrafter
from winback.offers.language import Language, language_name
from winback.offers.terms import NO_INCENTIVE
from winback.roles import ROLES_THAT_DRAFT
from winback.tools.base import Tool, ToolContext, ToolResult
from winback.tools.names import ToolName

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
    language: Language | None = Field(
        None, description="write in this language (en, fr, de, es, it, nl); default: the customer's"
    )


def run(args: DraftOfferArgs, ctx: ToolContext) -> ToolResult:
    backend = ctx.services.llm("draft")
    drafter = OfferDrafter(
        ctx.engine, ctx.settings, backend.llm, ctx.services.policy(), structured=backend.structured, model=backend.model
    )
    outcome = drafter.draft(
        args.customer_id, channel=args.channel, tone=args.tone, actor=ctx.actor, language=args.language
    )
    decision = outcome.decision
    if outcome.draft is None:
        why = decision.reason
        if decision.chosen is None and not decision.opted_in:
            why = f"{decision.reason.removeprefix('no offer: ')}; and without marketing consent no win-back message may go out"
        return ToolResult(
            True,
            f"no message for {args.customer_id}",
            f"No win-back message drafted for {args.customer_id}: {why}.",
            {"offer": None},
            [args.customer_id],
        )
    if outcome.note and "unavailable" in outcome.note:
        ctx.services.forget_llm()
    chosen = decision.chosen
    source = SOURCE_WORDS.get(outcome.source or "", outcome.source or "")
    if chosen is None:
        headline = (
            f"Drafted a message **without an incentive** ({NO_INCENTIVE}) for {args.customer_id}: "
            f"{decision.reason.removeprefix('no offer: ')}, so it offers nothing and invites a reply"
        )
        summary = f"draft {outcome.offer_id}: {NO_INCENTIVE}"
    else:
        headline = (
            f"Drafted offer {outcome.offer_id} for {args.customer_id}: {chosen.offer_type} {chosen.value:g} "
            f"({decision.reason})"
        )
        summary = f"draft {outcome.offer_id}: {chosen.offer_type} {chosen.value:g}"
    text = (
        f"{headline}. Saved as a draft ({outcome.offer_id}, in {language_name(outcome.language)}) for approval; "
        f"message {source}{' — ' + outcome.note if outcome.note else ''}.\n\n**Subject:** "
        f"{outcome.draft.subject}\n\n{outcome.draft.body}"
    )
    data = {
        "offer": {
            "offer_id": outcome.offer_id,
            "customer_id": args.customer_id,
            "offer_type": chosen.offer_type if chosen else NO_INCENTIVE,
            "value": chosen.value if chosen else 0.0,
            "channel": args.channel,
            "language": outcome.language,
            "subject": outcome.draft.subject,
            "message": outcome.draft.body,
            "source": outcome.source,
            "status": "draft",
            "without_incentive": chosen is None,
            "reason": decision.reason,
        }
    }
    return ToolResult(True, summary, text, data, [args.customer_id])


TOOL = Tool(
    name=ToolName.DRAFT_OFFER,
    description="Draft a personalised win-back message for one customer with the offer the policy allows.",
    args_schema=DraftOfferArgs,
    run=run,
    roles=DRAFTING_ROLES,
    kind="action",
)
