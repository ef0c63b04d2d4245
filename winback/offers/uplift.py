"""The uplift model's data and use: members of closed campaigns with a holdout -> a model of each
customer's incremental response per offer type (winback/model/uplift.py), and the cohort ranking by
expected incremental value that uses it.

Training rows are the members who could have been sent an offer (marketing consent, an open account at
the start: `MemberOutcome.reachable`), by arm — intention to treat — with their features at the
campaign's start, so nothing after the offer leaks in. The outcome is the campaign's own: an order in
its window.

Expected incremental value of an offer = estimated lift in P(order in the window) x the customer's value
to the shop (the policy's margin rate x the predicted 12-month spend, or the policy's expected margin when
the scoring model has no value head) - the offer's expected cost. A customer whose estimated lift is zero
or negative is never targeted, however valuable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from winback.data.clock import shop_now
from winback.data.lookups.at_risk import CohortRow
from winback.data.schema import ChurnScore
from winback.errors import UserError
from winback.model.artifact import models_dir
from winback.model.encoding import FeatureEncoder
from winback.model.features import CATEGORICAL, NUMERIC, compute_features
from winback.model.uplift import Learner, UpliftModel, fit_uplift
from winback.offers.campaign_store import list_campaigns
from winback.offers.choice import OfferDecision
from winback.offers.outcomes import member_outcomes
from winback.offers.policy import OfferPolicy

UPLIFT_DIR = "uplift"
LATEST_UPLIFT = "LATEST"
MIN_MEMBERS_PER_ARM = 100  # below this an estimate per customer is mostly noise


class NoUpliftModel(UserError, FileNotFoundError):
    pass


@dataclass
class UpliftRows:
    features: pd.DataFrame  # one row per member (a customer may appear once per campaign)
    treated: np.ndarray
    saved: np.ndarray
    offer_type: np.ndarray
    campaigns: list[str]


def uplift_rows(engine: Engine, now: datetime | None = None) -> UpliftRows:
    """Reachable members of every campaign whose window has closed, with features at its start."""
    now = now or shop_now(engine)
    frames, treated, saved, types, names = [], [], [], [], []
    for campaign in list_campaigns(engine):
        if campaign.started_at is None or not campaign.holdout_share:
            continue
        if (now - campaign.started_at).days < campaign.window_days:
            continue  # still open: outcomes are not in yet
        members = [m for m in member_outcomes(engine, campaign, now) if m.reachable and m.offer_type]
        if not members:
            continue
        x = compute_features(engine, campaign.started_at, [m.customer_id for m in members])
        kept = [m for m in members if m.customer_id in x.index]
        frames.append(x.loc[[m.customer_id for m in kept]])
        treated += [m.arm == "treatment" for m in kept]
        saved += [m.saved for m in kept]
        types += [m.offer_type for m in kept]
        names.append(campaign.campaign_id)
    if not frames:
        return UpliftRows(pd.DataFrame(), np.empty(0, bool), np.empty(0), np.empty(0, object), [])
    return UpliftRows(pd.concat(frames), np.array(treated), np.array(saved), np.array(types, dtype=object), names)


def uplift_folder(data_dir: Path) -> Path:
    return models_dir(data_dir) / UPLIFT_DIR


def train_uplift(engine: Engine, data_dir: Path, learner: Learner = "x", seed: int = 7) -> tuple[UpliftModel, Path]:
    """Fit on every closed campaign with a holdout and save as the latest uplift model."""
    rows = uplift_rows(engine)
    arms = (int(rows.treated.sum()), int((~rows.treated).sum()))
    if min(arms) < MIN_MEMBERS_PER_ARM:
        raise NoUpliftModel(
            f"an uplift model needs closed campaigns with at least {MIN_MEMBERS_PER_ARM} reachable members in each "
            f"arm (have {arms[0]} treated, {arms[1]} holdout); run a campaign with a holdout and wait for its window"
        )
    encoder = FeatureEncoder.fit(rows.features, NUMERIC, CATEGORICAL)
    model = fit_uplift(encoder, rows.features, rows.treated, rows.saved, rows.offer_type, learner, seed)
    created = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    model.meta = {
        "created_at": created.isoformat(),
        "campaigns": rows.campaigns,
        "members": {"treated": arms[0], "holdout": arms[1]},
        "saved_rate": {
            "treated": float(rows.saved[rows.treated].mean()),
            "holdout": float(rows.saved[~rows.treated].mean()),
        },
    }
    root = uplift_folder(data_dir)
    folder = model.save(root / f"{created:%Y%m%d-%H%M%S}-{learner}")
    (root / LATEST_UPLIFT).write_text(folder.name)
    return model, folder


def load_uplift(data_dir: Path) -> UpliftModel:
    latest = uplift_folder(data_dir) / LATEST_UPLIFT
    if not latest.is_file():
        raise NoUpliftModel(
            "no uplift model yet: after a campaign with a holdout has closed, run `winback campaign uplift`"
        )
    return UpliftModel.load(uplift_folder(data_dir) / latest.read_text().strip())


def rank_by_incremental_value(
    engine: Engine,
    model: UpliftModel,
    policy: OfferPolicy,
    rows: list[CohortRow],
    decision: Callable[[str], OfferDecision],
    now: datetime,
) -> list[CohortRow]:
    """`rows` with a positive estimated lift and expected incremental value, highest value first."""
    decisions = {r.customer_id: decision(r.customer_id) for r in rows}
    chosen = {c: d.chosen for c, d in decisions.items()}
    offered = [r for r in rows if chosen[r.customer_id] is not None]
    if not offered:
        return []
    ids = [r.customer_id for r in offered]
    features = compute_features(engine, now, ids)
    with engine.connect() as connection:
        values = dict(
            connection.execute(
                select(ChurnScore.customer_id, ChurnScore.predicted_value_12m)
                .where(ChurnScore.customer_id.in_(ids))
                .order_by(ChurnScore.scored_at)
            ).all()
        )  # the latest run's value wins (ordered by time)
    known = [c for c in ids if c in features.index]
    lift = dict(zip(known, model.effect(features.loc[known], [chosen[c].offer_type for c in known]), strict=True))  # type: ignore[union-attr]
    value_of: dict[str, float] = {}
    for c in known:
        offer = chosen[c]
        assert offer is not None
        predicted = values.get(c)
        worth = policy.margin_rate * float(predicted) if predicted is not None else decisions[c].expected_margin
        if np.isfinite(lift[c]) and lift[c] > 0:
            value_of[c] = float(lift[c]) * worth - offer.cost
    ranked = [r for r in offered if value_of.get(r.customer_id, 0.0) > 0]
    return sorted(ranked, key=lambda r: -value_of[r.customer_id])
