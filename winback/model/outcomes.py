"""What happened after a cutoff, for the survival and value heads: when each customer ordered next, and what
they spent over the following year.

Both read only orders in (cutoff, follow-up end]: a training cutoff's outcomes never look past the date the
model is evaluated at. Spend is counted as everywhere else in winback (customer_facts): the totals of
non-cancelled orders.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from winback.data.schema import Order

ID_CHUNK = 5_000  # customer ids per IN (...) list


def _chunks(ids: Sequence[str]) -> list[list[str]]:
    return [list(ids[i : i + ID_CHUNK]) for i in range(0, len(ids), ID_CHUNK)]


def _per_customer(engine: Engine, ids: list[str], value: Any, *conditions: Any) -> dict[str, Any]:
    """`value` (an aggregate over each customer's orders matching `conditions`), for the customers in `ids`."""
    out: dict[str, Any] = {}
    with engine.connect() as connection:
        for chunk in _chunks(ids):
            rows = connection.execute(
                select(Order.customer_id, value)
                .where(Order.customer_id.in_(chunk), *conditions)
                .group_by(Order.customer_id)
            ).all()
            out.update({r[0]: r[1] for r in rows})
    return out


def next_order(engine: Engine, cutoff: datetime, follow_up_end: datetime, customer_ids: pd.Index) -> pd.DataFrame:
    """Per customer (in the order of `customer_ids`): `days` to the first order after `cutoff` and `event`
    (True) — or, without one by `follow_up_end`, the days followed up and False.

    A closed account places no more orders, so it counts as followed up, orderless, to the end.
    """
    ids = [str(c) for c in customer_ids]
    first = _per_customer(
        engine, ids, func.min(Order.ordered_at), Order.ordered_at > cutoff, Order.ordered_at <= follow_up_end
    )
    follow_days = (follow_up_end - cutoff).total_seconds() / 86400.0
    days = np.full(len(ids), follow_days)
    event = np.zeros(len(ids), dtype=bool)
    for i, customer_id in enumerate(ids):
        when = first.get(customer_id)
        if when is not None:
            days[i] = max((when - cutoff).total_seconds() / 86400.0, 1e-3)
            event[i] = True
    return pd.DataFrame({"days": days, "event": event}, index=customer_ids)


def spend_between(engine: Engine, start: datetime, end: datetime, customer_ids: pd.Index) -> np.ndarray:
    """What each customer (in the order of `customer_ids`) paid for orders placed in (start, end]."""
    ids = [str(c) for c in customer_ids]
    spent = _per_customer(
        engine,
        ids,
        func.sum(Order.total_amount),
        Order.ordered_at > start,
        Order.ordered_at <= end,
        Order.status != "cancelled",
    )
    return np.array([float(spent.get(c) or 0) for c in ids])
