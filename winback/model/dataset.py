"""Labelled training frames: features at a cutoff, and whether the customer churned in the H days after it.

Label (non-contractual churn): no order in (cutoff, cutoff + H], or the account closed in that window.
Population at a cutoff: customers signed up and not closed by the cutoff who ordered in the year before
it or joined within that year (long-lapsed customers are trivially "churned" and would flatter the model).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from winback.data.schema import Customer, Order
from winback.data.scores import ACTIVE_WITHIN_DAYS
from winback.errors import UserError
from winback.model.features import compute_features
from winback.model.outcomes import next_order, spend_between


class NotEnoughHistory(UserError, ValueError):
    """The database does not span enough time (or customers) to train and test a model."""


@dataclass(frozen=True)
class CutoffPlan:
    train: tuple[datetime, ...]  # oldest first
    test: datetime  # out-of-time evaluation cutoff; its label window ends at the data's last day
    horizon_days: int
    data_end: datetime


def latest_activity(engine: Engine) -> datetime | None:
    """The data's own "now": the latest order date."""
    with engine.connect() as connection:
        value = connection.execute(select(func.max(Order.ordered_at))).scalar_one()
    return value


def plan_cutoffs(engine: Engine, horizon_days: int = 90, train_cutoffs: int = 3) -> CutoffPlan:
    end = latest_activity(engine)
    if end is None:
        raise NotEnoughHistory("the database has no orders; load data (winback import csv) or seed the demo first")
    with engine.connect() as connection:
        first = connection.execute(select(func.min(Order.ordered_at))).scalar_one()
    test = end - timedelta(days=horizon_days)
    train = tuple(test - timedelta(days=horizon_days * k) for k in range(train_cutoffs, 0, -1))
    if train[0] - timedelta(days=90) < first:
        span = (end - first).days
        raise NotEnoughHistory(
            f"orders span {span} days; {train_cutoffs} training cutoffs with a {horizon_days}-day horizon need about "
            f"{horizon_days * (train_cutoffs + 1) + 90} days (use fewer --cutoffs or a shorter --horizon)"
        )
    return CutoffPlan(train=train, test=test, horizon_days=horizon_days, data_end=end)


def churn_labels(engine: Engine, cutoff: datetime, horizon_days: int, customer_ids: pd.Index) -> np.ndarray:
    end = cutoff + timedelta(days=horizon_days)
    with engine.connect() as connection:
        bought = set(
            connection.scalars(
                select(Order.customer_id).where(Order.ordered_at > cutoff, Order.ordered_at <= end).distinct()
            )
        )
        closed = set(
            connection.scalars(
                select(Customer.customer_id).where(Customer.closed_at > cutoff, Customer.closed_at <= end)
            )
        )
    ids = customer_ids.to_numpy()
    return np.array([(cid not in bought) or (cid in closed) for cid in ids], dtype=np.int64)


def active_features(engine: Engine, cutoff: datetime) -> pd.DataFrame:
    """Features at `cutoff` of the model's population: customers who ordered or joined within the year."""
    features = compute_features(engine, cutoff)
    active = (features["recency_days"] <= ACTIVE_WITHIN_DAYS) | (features["tenure_days"] <= ACTIVE_WITHIN_DAYS)
    return features[active]


def labelled_frame(engine: Engine, cutoff: datetime, horizon_days: int) -> tuple[pd.DataFrame, np.ndarray]:
    features = active_features(engine, cutoff)
    return features, churn_labels(engine, cutoff, horizon_days, features.index)


def next_order_frames(
    engine: Engine, cutoffs: Sequence[datetime], follow_up_end: datetime
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Features at each cutoff and when each customer ordered next, followed up to `follow_up_end` at most."""
    xs, outcomes = [], []
    for cutoff in cutoffs:
        x = active_features(engine, cutoff)
        xs.append(x)
        outcomes.append(next_order(engine, cutoff, follow_up_end, x.index))
    return pd.concat(xs), pd.concat(outcomes)


def value_frames(engine: Engine, cutoffs: Sequence[datetime], days: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Features at each cutoff and what each customer spent in the `days` after it."""
    xs, spends = [], []
    for cutoff in cutoffs:
        x = active_features(engine, cutoff)
        xs.append(x)
        spends.append(spend_between(engine, cutoff, cutoff + timedelta(days=days), x.index))
    return pd.concat(xs), np.concatenate(spends)


def history_start(engine: Engine) -> datetime | None:
    with engine.connect() as connection:
        return connection.execute(select(func.min(Order.ordered_at))).scalar_one()


def customer_bucket(customer_ids: pd.Index, salt: str = "split") -> np.ndarray:
    """A stable number in [0, 100) per customer, so a customer stays in one split across cutoffs."""
    return np.array(
        [
            int.from_bytes(hashlib.blake2b(f"{salt}:{c}".encode(), digest_size=4).digest(), "big") % 100
            for c in customer_ids
        ]
    )


def customer_split(customer_ids: pd.Index, salt: str = "split") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Masks of the stable split every model here uses: 80 % fit, 10 % early stopping, 10 % held out."""
    bucket = customer_bucket(customer_ids, salt)
    return bucket < 80, (bucket >= 80) & (bucket < 90), bucket >= 90
