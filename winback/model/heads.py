"""`winback train`'s second and third questions: when each customer orders next, and what they will spend
over the next 12 months — fitted on the churn model's features and evaluated out of time like it.

Next order (survival head): the churn model's training rows (its cutoffs, its fit / early-stopping
customers), each followed up only to the test cutoff and censored there, so no training outcome looks into
the test period; tested at the test cutoff with the follow-up to the data's end.

12-month value: fitted on the latest cutoffs whose following year has passed, and backtested out of time
(the same recipe a year earlier, tested on the last year) when the orders span enough; see fit_value_head.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from winback.model.dataset import CutoffPlan, customer_split, history_start, value_frames
from winback.model.encoding import FeatureEncoder
from winback.model.metrics import survival_metrics, value_metrics
from winback.model.outcomes import next_order
from winback.model.survival import BIN_DAYS, SurvivalHead, fit_survival
from winback.model.train import TrainConfig
from winback.model.value import VALUE_DAYS, ValueHead, fit_value

FEATURE_HISTORY_DAYS = 90  # a cutoff needs this much history before it, as the churn model's do
VALUE_CUTOFFS = 3
ORDER_WITHIN_DAYS = 90  # the next-order probability stored with each score


@dataclass
class Heads:
    survival: SurvivalHead | None = None
    value: ValueHead | None = None
    metrics: dict[str, Any] = field(default_factory=dict)  # per head: the evaluation protocol and its figures
    notes: list[str] = field(default_factory=list)  # why a head is missing


def fit_next_order_head(
    engine: Engine,
    plan: CutoffPlan,
    train_x: pd.DataFrame,
    train_cutoff_index: np.ndarray,
    test_x: pd.DataFrame,
    encoder: FeatureEncoder,
    config: TrainConfig,
    on_epoch: Callable[[], None] | None = None,
) -> tuple[SurvivalHead, dict[str, Any]]:
    outcomes = pd.concat(
        [
            next_order(engine, cutoff, plan.test, train_x.index[train_cutoff_index == i])
            for i, cutoff in enumerate(plan.train)
        ]
    )
    fit, stop, _ = customer_split(train_x.index)
    intervals = (plan.test - plan.train[0]).days // BIN_DAYS
    head = fit_survival(
        encoder, train_x[fit], outcomes[fit], train_x[stop], outcomes[stop], intervals, config, on_epoch
    )
    truth = next_order(engine, plan.test, plan.data_end, test_x.index)
    survival = head.survival(encoder, test_x)
    check = min(head.horizon_days, (plan.data_end - plan.test).days // BIN_DAYS * BIN_DAYS)
    within = head.order_within(survival, check)
    metrics = survival_metrics(truth["days"].to_numpy(), truth["event"].to_numpy(), within, {check: within})
    return head, {
        "protocol": f"trained on {len(plan.train)} cutoffs followed up to {plan.test:%Y-%m-%d}, tested at "
        f"{plan.test:%Y-%m-%d} with {(plan.data_end - plan.test).days} days of follow-up (out of time)",
        "intervals": f"{intervals} x {BIN_DAYS} days",
        **metrics,
    }


def value_cutoffs(first: datetime | None, latest: datetime) -> list[datetime]:
    """Up to VALUE_CUTOFFS cutoffs, 90 days apart and ending at `latest`, each with 90 days of history."""
    if first is None:
        return []
    cutoffs = [latest - timedelta(days=90 * k) for k in range(VALUE_CUTOFFS - 1, -1, -1)]
    return [c for c in cutoffs if c - timedelta(days=FEATURE_HISTORY_DAYS) >= first]


@dataclass
class _ValueRows:
    x: pd.DataFrame
    spend: np.ndarray
    latest: np.ndarray  # rows of the latest cutoff

    @classmethod
    def at(cls, frames: dict[datetime, tuple[pd.DataFrame, np.ndarray]], cutoffs: list[datetime]) -> _ValueRows:
        x = pd.concat([frames[c][0] for c in cutoffs])
        latest = np.arange(len(x)) >= len(x) - len(frames[cutoffs[-1]][1])
        return cls(x, np.concatenate([frames[c][1] for c in cutoffs]), latest)


def _fit_value_rows(
    rows: _ValueRows, encoder: FeatureEncoder, config: TrainConfig, on_epoch: Callable[[], None] | None
) -> tuple[ValueHead, np.ndarray]:
    """Fit on 80 % of the customers, early-stopped on 10 %; returns the head and the other 10 % (a mask)."""
    fit, stop, held_out = customer_split(rows.x.index)
    head = fit_value(encoder, rows.x[fit], rows.spend[fit], rows.x[stop], rows.spend[stop], config, on_epoch)
    return head, held_out


def _value_figures(
    head: ValueHead, encoder: FeatureEncoder, x: pd.DataFrame, actual: np.ndarray, protocol: str
) -> dict[str, Any]:
    naive = value_metrics(actual, x["monetary_365d"].to_numpy())
    return {
        "protocol": protocol,
        **value_metrics(actual, head.predict(encoder, x)),
        "last_12_months_spend_mae": naive["mae"],
    }


def fit_value_head(
    engine: Engine,
    plan: CutoffPlan,
    encoder: FeatureEncoder,
    config: TrainConfig,
    progress: Callable[[str], None] | None = None,
    on_epoch: Callable[[], None] | None = None,
) -> tuple[ValueHead | None, dict[str, Any] | None, str | None]:
    """The head scoring uses, its evaluation, and a note when the history is too short for one.

    The shipped head is fitted on the latest cutoffs whose following year has passed (ending at E-365), so
    it has seen the shop's customers as they are now. Its honest estimate is a backtest: the same recipe
    one year earlier (cutoffs ending at E-730), tested at E-365 on the spend to E — out of time, and, for a
    young shop, pessimistic (a year earlier its customers were newer). Without that much history, the
    figures are the shipped head's on held-out customers (10 %) at its latest cutoff, in time.
    """
    first, end = history_start(engine), plan.data_end
    latest = end - timedelta(days=VALUE_DAYS)
    shipped_cutoffs = value_cutoffs(first, latest)
    if not shipped_cutoffs:
        days = VALUE_DAYS + FEATURE_HISTORY_DAYS
        return None, None, f"no 12-month value: the orders span less than {days} days"
    backtest_cutoffs = value_cutoffs(first, latest - timedelta(days=VALUE_DAYS))
    wanted = sorted({*backtest_cutoffs, *shipped_cutoffs})
    if progress:
        progress(f"value features at {', '.join(f'{c:%Y-%m-%d}' for c in wanted)}")
    frames = {c: value_frames(engine, [c], VALUE_DAYS) for c in wanted}

    shipped_rows = _ValueRows.at(frames, shipped_cutoffs)
    head, held_out = _fit_value_rows(shipped_rows, encoder, config, on_epoch)
    held_out &= shipped_rows.latest
    in_time = _value_figures(
        head,
        encoder,
        shipped_rows.x[held_out],
        shipped_rows.spend[held_out],
        f"trained on cutoffs {shipped_cutoffs[0]:%Y-%m-%d}..{latest:%Y-%m-%d}, tested on held-out customers "
        f"(10 %) at {latest:%Y-%m-%d} (in time)",
    )
    if not backtest_cutoffs:
        return head, {**in_time, "shipped": "this head"}, None
    backtest, _ = _fit_value_rows(_ValueRows.at(frames, backtest_cutoffs), encoder, config, on_epoch)
    test_x, actual = frames[latest]
    figures = _value_figures(
        backtest,
        encoder,
        test_x,
        actual,
        f"backtest: trained on cutoffs {backtest_cutoffs[0]:%Y-%m-%d}..{backtest_cutoffs[-1]:%Y-%m-%d}, tested "
        f"at {latest:%Y-%m-%d} on the spend to {end:%Y-%m-%d} (out of time)",
    )
    shipped = f"refitted on cutoffs {shipped_cutoffs[0]:%Y-%m-%d}..{latest:%Y-%m-%d}"
    return head, {**figures, "shipped": shipped, "in_time": in_time}, None
