"""Tool: save a person's edited text of a drafted offer, checked again against the policy's exact terms."""

from __future__ import annotations

from pydantic import BaseModel, Field

from winback.offers.editing import save_edited_draft
from winback.tools.base import Tool, ToolContext, ToolResult
from winback.tools.names import ToolName
from winback.tools.offer_draft import DRAFTING_ROLES


class SaveOfferDraftArgs(BaseModel):
    offer_id: str = Field(min_length=1, max_length=64, description="the drafted offer, e.g. OF-20261124-1A2B3C4D")
    subject: str = Field(min_length=1, max_length=300, description="the subject line")
    message: str = Field(min_length=1, max_length=5_000, description="the full message")


def run(args: SaveOfferDraftArgs, ctx: ToolContext) -> ToolResult:
    offer = save_edited_draft(ctx.engine, ctx.services.policy(), args.offer_id, args.subject, args.message, ctx.actor)
    return ToolResult(
        True,
        f"saved edited draft {offer.offer_id}",
        f"Saved the edited draft {offer.offer_id} for {offer.customer_id}; it still holds exactly the "
        f"policy's offer and waits for approval.",
        {
            "offer": {
                "offer_id": offer.offer_id,
                "customer_id": offer.customer_id,
                "subject": offer.subject,
                "message": offer.message,
                "status": offer.status,
            }
        },
        [offer.customer_id],
    )


TOOL = Tool(
    name=ToolName.SAVE_OFFER,
    description="Save an edited subject and message for a drafted offer after checking it against the policy.",
    args_schema=SaveOfferDraftArgs,
    run=run,
    roles=DRAFTING_ROLES,
    kind="action",
)
