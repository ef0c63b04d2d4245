"""The planted expected lift of a campaign (demo databases only): what the simulator's response model says
the offers actually sent should change, for checking the estimate in `winback campaign report`; the
estimator never reads it.

expected lift = mean over treatment members of P(saved | the offer they were sent, if any) - P(saved |
no offer), each over the member's part of the window (response.saved_probability). Holdout members are a
random sample of the same cohort, so their expected rate is the treatment members' no-offer rate.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, and_, select

from winback.data.clock import is_demo
from winback.data.demo.response import saved_probability
from winback.data.schema import Campaign, CampaignMember, DemoTruth, Offer, OfferSend
from winback.errors import UserError


class TruthError(UserError, ValueError):
    pass


def expected_lift(engine: Engine, campaign_id: str) -> dict[str, Any]:
    with engine.connect() as connection:
        if not is_demo(connection):
            raise TruthError("not a demo database: only the demo shop has a planted truth")
        campaign = connection.execute(select(Campaign).where(Campaign.campaign_id == campaign_id)).first()
        if campaign is None:
            raise TruthError(f"no such campaign {campaign_id!r}")
        rows = connection.execute(
            select(
                DemoTruth.response_type,
                DemoTruth.reorder_rate,
                DemoTruth.offer_response,
                Offer.offer_type,
                Offer.valid_until,
                OfferSend.sent_at,
            )
            .select_from(CampaignMember)
            .join(DemoTruth, DemoTruth.customer_id == CampaignMember.customer_id)
            .outerjoin(Offer, Offer.offer_id == CampaignMember.offer_id)
            .outerjoin(OfferSend, and_(OfferSend.offer_id == Offer.offer_id, OfferSend.status == "sent"))
            .where(CampaignMember.campaign_id == campaign_id, CampaignMember.arm == "treatment")
        ).all()
    if campaign.started_at is None:
        return {"campaign": campaign_id, "expected_lift": 0.0, "members": len(rows), "sent": 0}
    start, window = campaign.started_at, float(campaign.window_days)
    end = start + timedelta(days=campaign.window_days)
    total, sent = 0.0, 0
    for r in rows:
        if r.sent_at is None or r.sent_at >= end:
            continue  # nothing received in the window: no effect
        sent += 1
        after = (r.sent_at - start).total_seconds() / 86400.0
        valid = (r.valid_until - r.sent_at).total_seconds() / 86400.0 if r.valid_until else 30.0
        rate, response = float(r.reorder_rate), float(r.offer_response)
        treated = saved_probability(r.response_type, rate, response, window, r.offer_type, valid, after)
        total += treated - saved_probability(r.response_type, rate, response, window)
    return {
        "campaign": campaign_id,
        "expected_lift": round(total / len(rows), 6) if rows else 0.0,
        "members": len(rows),
        "sent": sent,
    }
