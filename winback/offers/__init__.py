"""Retention offers: the policy (policy.py, choice.py, save_rates.py), the exact terms (terms.py), drafting
with validation and template fallback (facts.py, drafting.py, validation.py, templates.py) and batches
(batch.py). `draft_offer` is the one-call entry point for the agent and the UI."""

from __future__ import annotations

from winback.config import Settings, get_settings
from winback.offers.drafting import Channel, DraftOutcome, OfferDrafter, Tone


def draft_offer(
    customer_id: str,
    channel: Channel = "email",
    tone: Tone = "warm",
    actor: str = "assistant",
    settings: Settings | None = None,
    start_llm: bool = False,
) -> DraftOutcome:
    """Choose the offer the policy allows, draft the message, validate it and save it as a draft.

    Uses the configured or running LLM (starting the embedded server only if `start_llm`); without one
    the message comes from the templates and the outcome's note says so. Raises CustomerNotFound.
    """
    from winback.data.db import make_engine
    from winback.llm.backend import connect_llm

    settings = settings or get_settings()
    backend = connect_llm(settings, "draft", max_tokens=160, start=start_llm)
    try:
        drafter = OfferDrafter(
            make_engine(settings=settings), settings, backend.llm, structured=backend.structured, model=backend.model
        )
        outcome = drafter.draft(customer_id, channel=channel, tone=tone, actor=actor)
        if backend.note:  # why no model wrote it (or which fallback did) says more than "no LLM configured"
            outcome.note = backend.note
        return outcome
    finally:
        backend.close(settings)


__all__ = ["DraftOutcome", "OfferDrafter", "draft_offer"]
