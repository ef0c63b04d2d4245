"""Per-customer figures from the order history at a reference date: lifetime value, spend, orders,
deliveries and late deliveries of the last 365 days, last order. One definition, used by the customer
card (live) and by scoring (stored as a snapshot beside each churn score)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection, and_, case, func, select
from sqlalchemy.orm import Session

from winback.data.schema import Order
from winback.data.sqlfuncs import as_datetime

YEAR = timedelta(days=365)


@dataclass(frozen=True)
class CustomerFacts:
    orders: int = 0  # all orders up to the reference date, cancelled ones included
    delivered: int = 0
    late: int = 0
    returned: int = 0
    cancelled: int = 0
    lifetime_value: Decimal = Decimal(0)  # non-cancelled orders
    spend_365d: Decimal = Decimal(0)
    orders_365d: int = 0  # non-cancelled
    deliveries_365d: int = 0  # delivered with a promised date
    late_deliveries_365d: int = 0
    last_order_at: datetime | None = None


def _count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def customer_facts(
    connection: Connection | Session, as_of: datetime, customer_ids: Sequence[str]
) -> dict[str, CustomerFacts]:
    """Facts for the given customers (those without orders get zeros)."""
    if not customer_ids:
        return {}
    paid = Order.status != "cancelled"
    recent = Order.ordered_at > as_of - YEAR
    delivered = Order.delivered_at.is_not(None)
    promised = and_(delivered, Order.promised_delivery_at.is_not(None))
    late = and_(promised, Order.delivered_at > Order.promised_delivery_at)
    rows = connection.execute(
        select(
            Order.customer_id,
            func.count(),
            _count_if(delivered),
            _count_if(late),
            _count_if(Order.status == "returned"),
            _count_if(~paid),
            func.coalesce(func.sum(case((paid, Order.total_amount), else_=0)), 0),
            func.coalesce(func.sum(case((and_(paid, recent), Order.total_amount), else_=0)), 0),
            _count_if(and_(paid, recent)),
            _count_if(and_(promised, recent)),
            _count_if(and_(late, recent)),
            func.max(Order.ordered_at),
        )
        .where(Order.customer_id.in_(list(customer_ids)), Order.ordered_at <= as_of)
        .group_by(Order.customer_id)
    ).all()
    facts = {}
    for cid, *values in rows:
        last = values[-1]
        n_orders, n_delivered, n_late, n_returned, n_cancelled = (int(v) for v in values[:5])
        orders_365d, deliveries_365d, late_365d = (int(v) for v in values[7:10])
        facts[cid] = CustomerFacts(
            orders=n_orders,
            delivered=n_delivered,
            late=n_late,
            returned=n_returned,
            cancelled=n_cancelled,
            lifetime_value=Decimal(values[5]).quantize(Decimal("0.01")),
            spend_365d=Decimal(values[6]).quantize(Decimal("0.01")),
            orders_365d=orders_365d,
            deliveries_365d=deliveries_365d,
            late_deliveries_365d=late_365d,
            last_order_at=as_datetime(last),
        )
    return {cid: facts.get(cid, CustomerFacts()) for cid in customer_ids}
