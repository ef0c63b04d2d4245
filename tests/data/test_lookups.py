"""Named lookups checked against figures recomputed independently from the raw tables (pandas),
on SQLite and PostgreSQL, plus the bad inputs people type."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import Engine, insert, select

from tests.database_templates import CloneDatabase
from winback.data.db import make_engine
from winback.data.demo.seed import seed_demo
from winback.data.lookups import (
    MAX_ROWS,
    AtRiskArgs,
    CustomerNotFound,
    InvalidLookup,
    OfferHistoryArgs,
    SegmentArgs,
    at_risk_customers,
    customer_profile,
    offer_history,
    segment_aggregates,
)
from winback.data.lookups.common import reference_date
from winback.data.migrate import upgrade
from winback.data.schema import Customer, Offer, OfferEvent, Order
from winback.data.scores import ScoreRecord, write_scores

SCORED_AT = datetime(2026, 11, 2, 6, 0)


def _probability(customer_id: str) -> float:
    return int(hashlib.sha256(customer_id.encode()).hexdigest()[:6], 16) / 0xFFFFFF


def _band(p: float) -> str:
    return "low" if p < 0.3 else "medium" if p < 0.5 else "high" if p < 0.7 else "critical"


@pytest.fixture
def shop(clone_database: CloneDatabase) -> Iterator[Engine]:
    """A demo shop with a scoring run whose probabilities are a hash of the id (no model needed), cloned from a
    template built once per run."""
    engine = make_engine(clone_database("lookups-shop", build_shop))
    yield engine
    engine.dispose()


def build_shop(engine: Engine) -> None:
    upgrade(engine)
    seed_demo(engine, customers=300, seed=5)
    with engine.connect() as connection:
        ids = list(connection.scalars(select(Customer.customer_id).where(Customer.closed_at.is_(None))))
        as_of = reference_date(connection)
    records = [
        ScoreRecord(
            c,
            _probability(c),
            _band(_probability(c)),
            [{"feature": "recency_days", "value": 1, "contribution": 0.1, "text": f"driver of {c}"}],
        )
        for c in ids
    ]
    write_scores(engine, records, "test-model", SCORED_AT, as_of)


def _tables(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    with engine.connect() as connection:
        customers = pd.read_sql(select(Customer.__table__), connection).set_index("customer_id")
        orders = pd.read_sql(
            select(Order.__table__), connection, parse_dates=["ordered_at", "delivered_at", "promised_delivery_at"]
        )
    orders["total_amount"] = orders["total_amount"].astype(float)
    return customers, orders


def test_at_risk_matches_an_independent_ranking(shop: Engine) -> None:
    customers, orders = _tables(shop)
    as_of = orders["ordered_at"].max()
    open_ids = customers.index[customers["closed_at"].isna()]
    last = orders.groupby("customer_id")["ordered_at"].max().reindex(open_ids)
    seen = last.fillna(customers.loc[open_ids, "signup_at"].astype("datetime64[ns]"))
    active = seen[seen > as_of - timedelta(days=365)].index
    expected = sorted(active, key=lambda c: (-round(_probability(c), 5), c))[:10]
    result = at_risk_customers(shop, AtRiskArgs(limit=10), role="cs_staff")
    assert [r.customer_id for r in result.rows] == expected
    assert result.matching == len(active)
    assert all("•" not in r.name for r in at_risk_customers(shop, AtRiskArgs(limit=3), "admin").rows)
    assert all(r.name.endswith(".") for r in result.rows)  # initials only for cs_staff

    paid = orders[orders["status"] != "cancelled"]
    ltv = paid.groupby("customer_id")["total_amount"].sum()
    gold = at_risk_customers(
        shop,
        AtRiskArgs(segment="GOLD", min_lifetime_value=200, sort="lifetime_value", population="all", limit=500),
        "manager",
    )
    want = [c for c in open_ids if customers.loc[c, "segment"] == "gold" and ltv.get(c, 0) >= 200]
    assert sorted(r.customer_id for r in gold.rows) == sorted(want)
    values = [r.lifetime_value for r in gold.rows]
    assert values == sorted(values, reverse=True)
    assert values[0] == pytest.approx(max(ltv[c] for c in want), abs=0.01)

    quiet = at_risk_customers(shop, AtRiskArgs(inactive_days=120, population="all", limit=500), "manager")
    assert {r.customer_id for r in quiet.rows} == {c for c in open_ids if seen[c] <= as_of - timedelta(days=120)}
    critical = at_risk_customers(shop, AtRiskArgs(risk_bands=["critical"], limit=500), "manager")
    assert critical.rows and all(r.probability >= 0.7 for r in critical.rows)

    city = str(customers.loc[open_ids[0], "city"])
    in_city = at_risk_customers(shop, AtRiskArgs(city=city.upper(), population="all", limit=500), "manager")
    assert {r.customer_id for r in in_city.rows} == {c for c in open_ids if customers.loc[c, "city"] == city}
    some = list(open_ids[:12])
    opted = at_risk_customers(
        shop, AtRiskArgs(customer_ids=some, marketing_opt_in=True, population="all", limit=12), "manager"
    )
    assert {r.customer_id for r in opted.rows} == {c for c in some if customers.loc[c, "marketing_opt_in"]}
    assert opted.matching == len(opted.rows)


def test_profile_figures_and_personal_data(shop: Engine) -> None:
    customers, orders = _tables(shop)
    cid = orders["customer_id"].value_counts().index[0]
    mine = orders[orders["customer_id"] == cid]
    card = customer_profile(shop, cid, role="support_agent")
    assert card.email == customers.loc[cid, "email"] and card.personal_data_visible
    assert card.orders == len(mine)
    assert card.lifetime_value == pytest.approx(mine[mine["status"] != "cancelled"]["total_amount"].sum(), abs=0.01)
    assert card.last_order_at == mine["ordered_at"].max().to_pydatetime()
    assert card.recent_orders[0].order_id == mine.sort_values("ordered_at").iloc[-1]["order_id"]
    assert card.churn is not None and card.churn.probability == pytest.approx(_probability(cid), abs=1e-5)
    assert card.churn.drivers[0]["text"] == f"driver of {cid}" and card.churn.from_latest_run
    masked = customer_profile(shop, cid, role="cs_staff")
    assert "•" in masked.email and masked.email != card.email and not masked.personal_data_visible
    assert customers.loc[cid, "name"] not in masked.model_dump_json()


def test_segment_report_snapshot_equals_a_live_pass_over_orders(shop: Engine) -> None:
    snapshot = segment_aggregates(shop, SegmentArgs(by="segment"))
    live = segment_aggregates(shop, SegmentArgs(by="segment", since=snapshot.window_start))
    assert [r.group for r in snapshot.rows] == [r.group for r in live.rows]
    for a, b in zip(snapshot.rows, live.rows, strict=True):
        assert a.customers == b.customers and a.bands == b.bands and a.orders == b.orders
        assert a.revenue == pytest.approx(b.revenue, abs=0.05)
        assert a.revenue_at_risk == pytest.approx(b.revenue_at_risk, abs=0.05)
        assert a.late_delivery_share == pytest.approx(b.late_delivery_share)
    total = segment_aggregates(shop, SegmentArgs(by="all")).rows[0]
    assert total.customers == sum(r.customers for r in snapshot.rows)
    assert total.revenue_at_risk == pytest.approx(sum(r.revenue_at_risk for r in snapshot.rows), abs=0.05)
    bands = segment_aggregates(shop, SegmentArgs(by="risk_band"))
    assert [r.group for r in bands.rows] == [
        b for b in ("low", "medium", "high", "critical") if any(r.group == b for r in bands.rows)
    ]
    for by in ("country", "city", "acquisition_channel", "marketing_opt_in", "signup_year"):
        report = segment_aggregates(shop, SegmentArgs(by=by, segment="gold"))
        assert sum(r.customers for r in report.rows) == next(r.customers for r in snapshot.rows if r.group == "gold")


def test_offer_history_and_outcomes(shop: Engine) -> None:
    with shop.connect() as connection:
        cid, ordered_at = connection.execute(
            select(Order.customer_id, Order.ordered_at).order_by(Order.ordered_at).limit(1)
        ).one()
        other = connection.scalars(select(Customer.customer_id).where(Customer.customer_id != cid).limit(1)).one()
    with shop.begin() as connection:
        for i, (customer, status, created) in enumerate(
            [
                (cid, "redeemed", ordered_at - timedelta(days=3)),  # an order followed within 30 days
                (other, "sent", datetime(2020, 1, 1)),
                (other, "rejected", datetime(2020, 2, 1)),
            ]
        ):
            connection.execute(
                insert(Offer).values(
                    offer_id=f"OF-{i}",
                    customer_id=customer,
                    created_at=created,
                    created_by="tester",
                    offer_type="discount_percent",
                    value=10,
                    channel="email",
                    subject="s",
                    message="m",
                    status=status,
                )
            )
            connection.execute(
                insert(OfferEvent).values(offer_id=f"OF-{i}", at=created, actor="tester", action="created")
            )
    history = offer_history(shop, OfferHistoryArgs())
    created = [r.created_at for r in history.rows]
    assert created == sorted(created, reverse=True)
    assert history.outcomes.offers == 3 and history.outcomes.by_status["redeemed"] == 1
    assert history.outcomes.redemption_rate == pytest.approx(0.5)
    first = next(r for r in history.rows if r.offer_id == "OF-0")
    assert first.ordered_within_30d and first.events == 1
    assert offer_history(shop, OfferHistoryArgs(customer_id=other)).outcomes.offers == 2
    assert offer_history(shop, OfferHistoryArgs(status="rejected")).rows[0].offer_id == "OF-2"


def test_bad_input_gets_a_clear_answer(shop: Engine) -> None:
    with pytest.raises(CustomerNotFound, match="no customer with id 'C-does-not-exist'"):
        customer_profile(shop, "C-does-not-exist", role="admin")
    with pytest.raises(InvalidLookup, match="no customers with segment 'diamond'. Known values: bronze"):
        at_risk_customers(shop, AtRiskArgs(segment="diamond"), role="manager")
    with pytest.raises(InvalidLookup, match="did you mean 'silver'"):
        segment_aggregates(shop, SegmentArgs(segment="silvr"))
    with pytest.raises(InvalidLookup, match="after the latest data"):
        segment_aggregates(shop, SegmentArgs(since=datetime(2099, 1, 1)))
    with pytest.raises(InvalidLookup, match="after the latest data"):
        offer_history(shop, OfferHistoryArgs(since=datetime(2099, 1, 1)))
    with pytest.raises(CustomerNotFound):
        offer_history(shop, OfferHistoryArgs(customer_id="nobody"))
    huge = at_risk_customers(shop, AtRiskArgs(limit=10**9, population="all"), role="manager")
    assert len(huge.rows) <= MAX_ROWS and "at most 500 rows" in huge.notes[0]
    with pytest.raises(ValueError):
        AtRiskArgs(limit=0)
    empty = at_risk_customers(shop, AtRiskArgs(min_lifetime_value=10**9), role="manager")
    assert empty.rows == [] and empty.matching == 0 and "no customer" in empty.notes[-1]
