"""Reading campaigns by name, and where one stands: what the campaign, sending and outcome modules share."""

from __future__ import annotations

import calendar
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from winback.data.schema import CAMPAIGN_ARMS, OFFER_STATUSES, Campaign, CampaignMember, Offer
from winback.errors import UserError


class CampaignError(UserError, ValueError):
    pass


def load_campaign(engine: Engine, name: str) -> Campaign:
    with Session(engine) as session:
        row = session.scalars(select(Campaign).where(Campaign.campaign_id == name.strip())).first()
    if row is None:
        raise CampaignError(f"no such campaign {name!r} (see `winback campaign list`)")
    return row


def list_campaigns(engine: Engine) -> list[Campaign]:
    with Session(engine) as session:
        return list(session.scalars(select(Campaign).order_by(Campaign.created_at.desc())))


def campaign_status(engine: Engine, name: str) -> dict[str, Any]:
    """The campaign's settings, and per arm its members and their offers by status (sends included)."""
    campaign = load_campaign(engine, name)
    with engine.connect() as connection:
        rows = connection.execute(
            select(CampaignMember.arm, Offer.status, func.count())
            .outerjoin(Offer, Offer.offer_id == CampaignMember.offer_id)
            .where(CampaignMember.campaign_id == campaign.campaign_id)
            .group_by(CampaignMember.arm, Offer.status)
        ).all()
    arms: dict[str, dict[str, Any]] = {arm: {"members": 0, "offers": {}} for arm in CAMPAIGN_ARMS}
    for arm, status, count in rows:
        arms[arm]["members"] += int(count)
        arms[arm]["offers"][status or "no offer"] = int(count)
    return {
        "campaign": campaign.campaign_id,
        "created_at": campaign.created_at.isoformat(),
        "created_by": campaign.created_by,
        "cohort": campaign.cohort,
        "holdout_share": campaign.holdout_share,
        "seed": campaign.seed,
        "window_days": campaign.window_days,
        "started_at": campaign.started_at.isoformat() if campaign.started_at else None,
        "members": sum(a["members"] for a in arms.values()),
        "arms": arms,
        "offer_statuses": [*OFFER_STATUSES, "no offer"],
    }


def find_campaign(engine: Engine, words: str | None) -> Campaign:
    """A campaign by its name, a word of it, or the month it started ("October", "2026-10"); else the newest."""
    campaigns = list_campaigns(engine)
    if not campaigns:
        raise CampaignError("there are no campaigns yet (start one: `winback campaign create` or ask for one)")
    if not words or not words.strip():
        return campaigns[0]
    wanted = words.strip().lower()
    for match in (
        lambda c: c.campaign_id.lower() == wanted,
        lambda c: wanted in c.campaign_id.lower(),
        lambda c: wanted in _month_of(c),
    ):
        found = [c for c in campaigns if match(c)]
        if found:
            return found[0]
    names = ", ".join(c.campaign_id for c in campaigns[:8])
    raise CampaignError(f"no campaign matches {words.strip()!r}; campaigns: {names}")


def _month_of(campaign: Campaign) -> tuple[str, str]:
    """The month it started (or was created): as "2026-10" and as "october"."""
    when = campaign.started_at or campaign.created_at
    return f"{when:%Y-%m}", calendar.month_name[when.month].lower()
