"""Uplift targeting on a scored 3,000-customer demo: a campaign with a holdout closes, `winback campaign
uplift` learns from it, and a campaign ranked by uplift takes only customers with a positive estimated lift
and expected incremental value."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from sqlalchemy import select

from tests.cli_runner import invoke
from winback.config import Settings
from winback.data.clock import shop_now
from winback.data.db import make_engine
from winback.data.demo.advance import advance_demo
from winback.data.schema import CampaignMember
from winback.model.features import compute_features
from winback.model.uplift import UpliftModel
from winback.offers.campaign_store import CampaignError
from winback.offers.campaigns import CohortArgs, approve_campaign, create_campaign
from winback.offers.channels import OutboxChannel
from winback.offers.drafting import OfferDrafter
from winback.offers.policy import load_policy
from winback.offers.sending import send_campaign
from winback.offers.uplift import NoUpliftModel, load_uplift, train_uplift, uplift_rows

ShopFactory = Callable[[], Settings]


def _campaign(settings: Settings, name: str, cohort: CohortArgs, holdout: float, uplift: UpliftModel | None = None):
    engine = make_engine(settings.database_url)
    policy = load_policy(settings.data_dir).model_copy(update={"monthly_budget": 1e9})
    drafter = OfferDrafter(engine, settings, None, policy)
    create_campaign(engine, policy, drafter, name, cohort, holdout, 5, actor="drafter", uplift=uplift)
    approve_campaign(engine, policy, name, "maria", "manager")
    send_campaign(engine, settings, policy, name, OutboxChannel(settings.data_dir / "outbox"))
    return engine, policy


def test_a_closed_campaign_teaches_uplift_and_uplift_ranks_the_next_one(demo_shop_factory: ShopFactory) -> None:
    settings = demo_shop_factory()
    engine, policy = _campaign(settings, "learn", CohortArgs(top=2_000), 0.5)
    with pytest.raises(NoUpliftModel, match="wait for its window"):
        train_uplift(engine, settings.data_dir)  # the window is still open: no outcomes yet
    with pytest.raises(CampaignError, match="winback campaign uplift"):
        create_campaign(
            engine, policy, OfferDrafter(engine, settings, None, policy), "next", CohortArgs(top=50, rank="uplift")
        )
    advance_demo(engine, policy.campaign_window_days)

    rows = uplift_rows(engine)
    assert rows.campaigns == ["learn"] and rows.treated.any() and (~rows.treated).any()
    with engine.connect() as connection:
        arms = dict(connection.execute(select(CampaignMember.customer_id, CampaignMember.arm)).all())
    assert all((arms[c] == "treatment") == t for c, t in zip(rows.features.index, rows.treated, strict=True))

    done = invoke(["campaign", "uplift"], {"WINBACK_DATA_DIR": str(settings.data_dir)})
    assert done.returncode == 0, done.stderr
    assert "X-learner" in done.stdout and "treated" in done.stdout
    model = load_uplift(settings.data_dir)
    assert model.meta["campaigns"] == ["learn"] and model.learner == "x"

    _campaign(settings, "targeted", CohortArgs(top=300, rank="uplift"), 0.2, uplift=model)
    with engine.connect() as connection:
        members = connection.execute(
            select(CampaignMember.customer_id, CampaignMember.planned_offer_type).where(
                CampaignMember.campaign_id == "targeted"
            )
        ).all()
    assert 0 < len(members) <= 300
    chosen = compute_features(engine, shop_now(engine), [c for c, _ in members]).loc[[c for c, _ in members]]
    lift = model.effect(chosen, np.array([t for _, t in members], dtype=object))
    assert (lift > 0).all()  # never someone the model thinks an offer would not move, or would put off
