"""The metrics layer against hand-written SQL: every measure, in total and by segment, over a 90-day window
where it has time, on SQLite and on PostgreSQL; filters, inactivity, superlatives and refusals."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, text

from tests.database_templates import CloneDatabase
from winback.config import Settings
from winback.data.db import make_engine
from winback.data.demo.seed import seed_demo
from winback.data.lookups.common import InvalidLookup
from winback.data.metrics import MetricQuery, load_catalog, run_metric
from winback.data.migrate import upgrade
from winback.data.schema import ChurnScore, Customer, Offer

# reference SQL for every measure, written by hand (not from catalog.toml): {where} is the window and the
# segment condition, {group} the grouping column or a constant
LATEST = "(SELECT MAX(scored_at) FROM churn_scores)"
REFERENCE: dict[str, tuple[str, str | None]] = {
    "customers": ("SELECT {group}, COUNT(c.customer_id) FROM customers c WHERE 1=1 {where} GROUP BY 1", "c.signup_at"),
    "opt_in_share": (
        "SELECT {group}, SUM(CASE WHEN c.marketing_opt_in THEN 1 ELSE 0 END) * 1.0 / COUNT(*) FROM customers c "
        "WHERE 1=1 {where} GROUP BY 1",
        "c.signup_at",
    ),
    "orders": (
        "SELECT {group}, COUNT(*) FROM orders o JOIN customers c USING (customer_id) WHERE 1=1 {where} GROUP BY 1",
        "o.ordered_at",
    ),
    "revenue": (
        "SELECT {group}, SUM(o.total_amount) FROM orders o JOIN customers c USING (customer_id) "
        "WHERE o.status != 'cancelled' {where} GROUP BY 1",
        "o.ordered_at",
    ),
    "average_order_value": (
        "SELECT {group}, SUM(o.total_amount) / COUNT(*) FROM orders o JOIN customers c USING (customer_id) "
        "WHERE o.status != 'cancelled' {where} GROUP BY 1",
        "o.ordered_at",
    ),
    "discounts": (
        "SELECT {group}, SUM(o.discount_amount) FROM orders o JOIN customers c USING (customer_id) "
        "WHERE o.status != 'cancelled' {where} GROUP BY 1",
        "o.ordered_at",
    ),
    "ordering_customers": (
        "SELECT {group}, COUNT(DISTINCT c.customer_id) FROM orders o JOIN customers c USING (customer_id) "
        "WHERE 1=1 {where} GROUP BY 1",
        "o.ordered_at",
    ),
    "return_rate": (
        "SELECT {group}, SUM(CASE WHEN o.status = 'returned' THEN 1 ELSE 0 END) * 1.0 / COUNT(*) FROM orders o "
        "JOIN customers c USING (customer_id) WHERE o.status IN ('returned', 'delivered') {where} GROUP BY 1",
        "o.ordered_at",
    ),
    "returned_orders": (
        "SELECT {group}, COUNT(*) FROM orders o JOIN customers c USING (customer_id) "
        "WHERE o.status = 'returned' AND o.returned_at IS NOT NULL {where} GROUP BY 1",
        "o.returned_at",
    ),
    "late_delivery_share": (
        "SELECT {group}, SUM(CASE WHEN o.delivered_at > o.promised_delivery_at THEN 1 ELSE 0 END) * 1.0 / COUNT(*) "
        "FROM orders o JOIN customers c USING (customer_id) WHERE o.delivered_at IS NOT NULL "
        "AND o.promised_delivery_at IS NOT NULL {where} GROUP BY 1",
        "o.delivered_at",
    ),
    "late_deliveries": (
        "SELECT {group}, COUNT(*) FROM orders o JOIN customers c USING (customer_id) "
        "WHERE o.delivered_at > o.promised_delivery_at {where} GROUP BY 1",
        "o.delivered_at",
    ),
    "items_per_order": (
        "SELECT {group}, SUM(i.quantity) * 1.0 / COUNT(DISTINCT o.order_id) FROM order_items i "
        "JOIN orders o USING (order_id) JOIN customers c ON c.customer_id = o.customer_id "
        "WHERE o.status != 'cancelled' {where} GROUP BY 1",
        "o.ordered_at",
    ),
    "units_sold": (
        "SELECT {group}, SUM(i.quantity) FROM order_items i JOIN orders o USING (order_id) "
        "JOIN customers c ON c.customer_id = o.customer_id WHERE o.status != 'cancelled' {where} GROUP BY 1",
        "o.ordered_at",
    ),
    "item_sales": (
        "SELECT {group}, SUM(i.unit_price * i.quantity) FROM order_items i JOIN orders o USING (order_id) "
        "JOIN customers c ON c.customer_id = o.customer_id WHERE o.status != 'cancelled' {where} GROUP BY 1",
        "o.ordered_at",
    ),
    "tickets": (
        "SELECT {group}, COUNT(*) FROM support_tickets t JOIN customers c USING (customer_id) WHERE 1=1 {where} "
        "GROUP BY 1",
        "t.opened_at",
    ),
    "ticket_satisfaction": (
        "SELECT {group}, SUM(t.satisfaction) * 1.0 / COUNT(t.satisfaction) FROM support_tickets t "
        "JOIN customers c USING (customer_id) WHERE 1=1 {where} GROUP BY 1",
        "t.opened_at",
    ),
    "unresolved_tickets": (
        "SELECT {group}, COUNT(*) FROM support_tickets t JOIN customers c USING (customer_id) "
        "WHERE t.status IN ('open', 'pending') {where} GROUP BY 1",
        "t.opened_at",
    ),
    "reviews": (
        "SELECT {group}, COUNT(*) FROM reviews r JOIN customers c USING (customer_id) WHERE 1=1 {where} GROUP BY 1",
        "r.created_at",
    ),
    "average_rating": (
        "SELECT {group}, SUM(r.rating) * 1.0 / COUNT(*) FROM reviews r JOIN customers c USING (customer_id) "
        "WHERE 1=1 {where} GROUP BY 1",
        "r.created_at",
    ),
    "negative_review_share": (
        "SELECT {group}, SUM(CASE WHEN r.rating IN (1, 2) THEN 1 ELSE 0 END) * 1.0 / COUNT(*) FROM reviews r "
        "JOIN customers c USING (customer_id) WHERE 1=1 {where} GROUP BY 1",
        "r.created_at",
    ),
    "churn_probability": (
        "SELECT {group}, SUM(s.probability) / COUNT(*) FROM churn_scores s JOIN customers c USING (customer_id) "
        f"WHERE s.scored_at = {LATEST} AND (s.lapsed IS NULL OR NOT s.lapsed) {{where}} GROUP BY 1",
        None,
    ),
    "revenue_at_risk": (
        "SELECT {group}, SUM(s.probability * CASE WHEN s.spend_365d IS NULL THEN 0 ELSE s.spend_365d END) "
        f"FROM churn_scores s JOIN customers c USING (customer_id) WHERE s.scored_at = {LATEST} "
        "AND (s.lapsed IS NULL OR NOT s.lapsed) {where} GROUP BY 1",
        None,
    ),
    "at_risk_customers": (
        "SELECT {group}, COUNT(*) FROM churn_scores s JOIN customers c USING (customer_id) "
        f"WHERE s.scored_at = {LATEST} AND s.probability >= 0.5 AND (s.lapsed IS NULL OR NOT s.lapsed) "
        "{where} GROUP BY 1",
        None,
    ),
    "predicted_value": (
        "SELECT {group}, SUM(s.predicted_value_12m) FROM churn_scores s JOIN customers c USING (customer_id) "
        f"WHERE s.scored_at = {LATEST} AND (s.lapsed IS NULL OR NOT s.lapsed) {{where}} GROUP BY 1",
        None,
    ),
    "average_predicted_value": (
        "SELECT {group}, SUM(s.predicted_value_12m) / COUNT(s.predicted_value_12m) FROM churn_scores s "
        f"JOIN customers c USING (customer_id) WHERE s.scored_at = {LATEST} AND (s.lapsed IS NULL OR NOT s.lapsed) "
        "{where} GROUP BY 1",
        None,
    ),
    "average_lifetime_value": (
        "SELECT {group}, SUM(CASE WHEN s.lifetime_value IS NULL THEN 0 ELSE s.lifetime_value END) / COUNT(*) "
        f"FROM churn_scores s JOIN customers c USING (customer_id) WHERE s.scored_at = {LATEST} "
        "AND (s.lapsed IS NULL OR NOT s.lapsed) {where} GROUP BY 1",
        None,
    ),
    "offers": (
        "SELECT {group}, COUNT(*) FROM offers f JOIN customers c USING (customer_id) WHERE 1=1 {where} GROUP BY 1",
        "f.created_at",
    ),
    "offer_redemption_rate": (
        "SELECT {group}, SUM(CASE WHEN f.status = 'redeemed' THEN 1 ELSE 0 END) * 1.0 / COUNT(*) FROM offers f "
        "JOIN customers c USING (customer_id) WHERE f.status IN ('redeemed', 'sent') {where} GROUP BY 1",
        "f.created_at",
    ),
    "offer_cost": (
        "SELECT {group}, SUM(CASE WHEN f.expected_cost IS NULL THEN 0 ELSE f.expected_cost END) FROM offers f "
        "JOIN customers c USING (customer_id) WHERE f.status IN ('draft', 'approved', 'sent', 'redeemed') "
        "{where} GROUP BY 1",
        "f.created_at",
    ),
}


def add_scores_and_offers(engine: Engine) -> None:
    """Two scoring runs (only the latest may count), offers in every status, and deliveries exactly on the
    promised time (on time, not late)."""
    rng = random.Random(3)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE orders SET delivered_at = promised_delivery_at WHERE order_id IN (SELECT order_id FROM orders "
                "WHERE delivered_at IS NOT NULL AND promised_delivery_at IS NOT NULL ORDER BY order_id LIMIT 40)"
            )
        )
        ids = list(connection.scalars(select(Customer.customer_id).order_by(Customer.customer_id)))
        for run, at in enumerate((datetime(2026, 9, 1), datetime(2026, 10, 31))):
            rows = []
            for cid in ids:
                p = round(rng.random(), 5)
                band = "critical" if p >= 0.7 else "high" if p >= 0.5 else "medium" if p >= 0.3 else "low"
                rows.append(
                    {
                        "customer_id": cid,
                        "model_version": f"m{run}",
                        "scored_at": at,
                        "probability": p,
                        "risk_band": band,
                        "lifetime_value": None if rng.random() < 0.1 else round(rng.uniform(0, 900), 2),
                        "spend_365d": None if rng.random() < 0.1 else round(rng.uniform(0, 400), 2),
                        "lapsed": rng.random() < 0.2,
                        "drivers": [],
                    }
                )
            connection.execute(insert(ChurnScore), rows)
        statuses = ["draft", "approved", "sent", "rejected", "redeemed"]
        offers = [
            {
                "offer_id": f"OF-T{n:04d}",
                "customer_id": rng.choice(ids),
                "created_at": datetime(2026, 10, 31) - timedelta(days=rng.randint(0, 200)),
                "created_by": "sam",
                "offer_type": rng.choice(["discount", "free_shipping"]),
                "value": 10,
                "channel": "email",
                "subject": "s",
                "message": "m",
                "status": statuses[n % 5],
                "expected_cost": None if n % 7 == 0 else round(rng.uniform(1, 30), 2),
            }
            for n in range(80)
        ]
        connection.execute(insert(Offer), offers)


def build_shop(engine: Engine) -> None:
    upgrade(engine)
    seed_demo(engine, customers=150, seed=11)
    add_scores_and_offers(engine)


@pytest.fixture
def shop(clone_database: CloneDatabase) -> Iterator[tuple[Engine, Settings]]:
    """A seeded shop with scores and offers, cloned from a template built once per run."""
    url = clone_database("metrics-shop", build_shop)
    engine = make_engine(url)
    yield engine, Settings(database_url=url, sql_timeout_s=10)
    engine.dispose()


def reference(engine: Engine, measure: str, grouped: bool, window_days: int | None) -> dict[Any, float | None]:
    sql, time_column = REFERENCE[measure]
    where = ""
    if window_days and time_column:
        with engine.connect() as connection:
            latest = connection.execute(text("SELECT MAX(ordered_at) FROM orders")).scalar_one()
        latest = datetime.fromisoformat(str(latest)) if not isinstance(latest, datetime) else latest
        start = latest.date() - timedelta(days=window_days)
        end = latest.date() + timedelta(days=1)
        where = f"AND {time_column} >= '{start} 00:00:00' AND {time_column} < '{end} 00:00:00'"
    query = sql.format(group="c.segment" if grouped else "'all'", where=where)
    with engine.connect() as connection:
        rows = connection.execute(text(query)).all()
    return {key if grouped else (): None if value is None else float(value) for key, value in rows}


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


def test_every_catalog_measure_has_a_reference() -> None:
    assert set(REFERENCE) == set(load_catalog().measures)


@pytest.mark.parametrize("measure", sorted(REFERENCE))
def test_each_measure_matches_hand_written_sql(shop: tuple[Engine, Settings], measure: str) -> None:
    engine, settings = shop
    timed = REFERENCE[measure][1] is not None
    for grouped, window in ((False, None), (True, None), (True, 90 if timed else None), (False, 90 if timed else None)):
        args: dict[str, Any] = {"measure": measure}
        if grouped:
            args["group_by"] = ["segment"]
        if window:
            args["window"] = {"kind": "last_days", "n": window}
        result = run_metric(settings, engine, MetricQuery.model_validate(args), "manager")
        got = {r.groups: r.value for r in result.rows}
        want = reference(engine, measure, grouped, window)
        if not grouped and not want:
            want = {(): 0.0 if load_catalog().measures[measure].kind in ("count", "money") else None}
        if grouped:
            got = {k[0]: v for k, v in got.items()}
        got = {
            k: (0.0 if v is None and load_catalog().measures[measure].kind == "count" else v) for k, v in got.items()
        }
        assert set(got) == set(want), (measure, args, got, want)
        assert all(close(got[k], want[k]) for k in want), (measure, args, got, want)


def test_filters_inactivity_and_superlatives(shop: tuple[Engine, Settings]) -> None:
    engine, settings = shop
    with engine.connect() as connection:
        latest = connection.execute(text("SELECT MAX(ordered_at) FROM orders")).scalar_one()
        latest = latest if isinstance(latest, datetime) else datetime.fromisoformat(str(latest))
        since = f"{latest.date() - timedelta(days=60)} 00:00:00"
        quiet = connection.execute(
            text(
                "SELECT COUNT(*) FROM customers c WHERE c.segment IN ('gold', 'silver') AND c.customer_id NOT IN "
                f"(SELECT customer_id FROM orders WHERE ordered_at >= '{since}')"
            )
        ).scalar_one()
        by_topic = connection.execute(
            text("SELECT topic, COUNT(*) FROM support_tickets GROUP BY topic ORDER BY COUNT(*) DESC, topic")
        ).all()
    query = MetricQuery(
        measure="customers", filters=[{"dimension": "segment", "values": ["GOLD", "silver"]}], inactive_days=60
    )
    result = run_metric(settings, engine, query, "cs_staff")
    assert result.rows[0].value == quiet and quiet > 0
    top = run_metric(
        settings, engine, MetricQuery(measure="tickets", group_by=["topic"], sort="desc", top_k=1), "cs_staff"
    )
    assert [(r.groups[0], r.value) for r in top.rows] == [(by_topic[0][0], by_topic[0][1])]
    least = run_metric(
        settings, engine, MetricQuery(measure="tickets", group_by=["topic"], sort="asc", top_k=1), "cs_staff"
    )
    assert least.rows[0].value == min(n for _, n in by_topic)


def test_a_share_of_a_count_matches_hand_written_sql(shop: tuple[Engine, Settings]) -> None:
    """ "What share of gold customers' orders were cancelled or returned", by country: the share filter is
    the condition, the other filters the scope."""
    engine, settings = shop
    with engine.connect() as connection:
        hand = dict(
            connection.execute(
                text(
                    "SELECT c.country, AVG(CASE WHEN o.status IN ('cancelled', 'returned') THEN 1.0 ELSE 0.0 END) "
                    "FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE c.segment = 'gold' "
                    "GROUP BY c.country"
                )
            ).all()
        )
    query = MetricQuery(
        measure="orders",
        group_by=["country"],
        filters=[
            {"dimension": "segment", "values": ["gold"]},
            {"dimension": "order_status", "values": ["cancelled", "returned"], "share": True},
        ],
    )
    result = run_metric(settings, engine, query, "manager")
    assert {r.groups[0]: r.value for r in result.rows} == pytest.approx({k: float(v) for k, v in hand.items()})
    assert result.measure.kind == "share" and "order status cancelled or returned" in result.measure.label
    assert [d.label for d, _, _ in result.filters] == ["segment"]  # the scope; the share is in the label
    with pytest.raises(ValueError, match="needs a plain count"):
        MetricQuery(measure="revenue", filters=[{"dimension": "segment", "values": ["gold"], "share": True}])


def test_months_bands_and_review_categories_group(shop: tuple[Engine, Settings]) -> None:
    engine, settings = shop
    months = run_metric(
        settings,
        engine,
        MetricQuery(measure="orders", group_by=["month"], window={"kind": "last_months", "n": 3}),
        "manager",
    )
    labels = [r.groups[0] for r in months.rows]
    assert labels == sorted(labels) and 3 <= len(labels) <= 4 and all(len(str(m)) == 7 for m in labels)
    bands = run_metric(settings, engine, MetricQuery(measure="churn_probability", group_by=["risk_band"]), "manager")
    assert [r.groups[0] for r in bands.rows] == [
        b for b in ("low", "medium", "high", "critical") if b in {r.groups[0] for r in bands.rows}
    ]
    categories = run_metric(settings, engine, MetricQuery(measure="average_rating", group_by=["category"]), "manager")
    assert (
        sum(r.base for r in categories.rows)
        == run_metric(settings, engine, MetricQuery(measure="reviews"), "manager").rows[0].value
    )
    assert len(categories.rows) >= 3
    with engine.begin() as connection:  # a one-star review of no product: no category, never the lowest one
        connection.execute(
            text(
                "INSERT INTO reviews (review_id, customer_id, order_id, product_id, rating, title, body, created_at) "
                "SELECT 'R-NONE', MIN(customer_id), NULL, NULL, 1, 't', 'b', '2026-10-01 00:00:00' FROM customers"
            )
        )
    lowest = run_metric(
        settings, engine, MetricQuery(measure="average_rating", group_by=["category"], sort="asc", top_k=1), "manager"
    )
    assert lowest.rows[0].groups[0] is not None


def test_unknown_values_and_impossible_breakdowns_are_one_line_errors(shop: tuple[Engine, Settings]) -> None:
    engine, settings = shop
    with pytest.raises(InvalidLookup, match=r"no country 'Atlantis'.*Known values"):
        run_metric(
            settings,
            engine,
            MetricQuery(measure="orders", filters=[{"dimension": "country", "values": ["Atlantis"]}]),
            "manager",
        )
    with pytest.raises(ValueError, match="cannot be broken down by ticket topic"):
        MetricQuery(measure="revenue", group_by=["topic"])
    with pytest.raises(ValueError, match="has no time window"):
        MetricQuery(measure="revenue_at_risk", window={"kind": "last_days", "n": 30})
    with pytest.raises(ValueError, match="unknown measure"):
        MetricQuery(measure="happiness")


def test_a_status_the_schema_allows_counts_zero_before_any_row_has_it(shop: tuple[Engine, Settings]) -> None:
    """ "how many offers were redeemed?" before any was: 0, not "no offer status 'redeemed'"."""
    engine, settings = shop
    with engine.begin() as connection:  # this clone's shop: no offer redeemed yet
        connection.execute(text("UPDATE offers SET status = 'sent' WHERE status = 'redeemed'"))
    query = MetricQuery(measure="offers", filters=[{"dimension": "offer_status", "values": ["Redeemed"]}])
    result = run_metric(settings, engine, query, "manager")
    assert [row.value for row in result.rows] == [0.0]
    with pytest.raises(InvalidLookup, match="no offer status 'lost'"):
        run_metric(
            settings,
            engine,
            MetricQuery(measure="offers", filters=[{"dimension": "offer_status", "values": ["lost"]}]),
            "manager",
        )


def test_a_value_with_a_quote_stays_a_value(shop: tuple[Engine, Settings]) -> None:
    """A filter value is checked against the database and quoted by code: a hostile string is only a value
    that does not exist."""
    engine, settings = shop
    hostile = "x') OR 1=1; DROP TABLE orders; --"
    with pytest.raises(InvalidLookup, match="no country"):
        run_metric(
            settings,
            engine,
            MetricQuery(measure="orders", filters=[{"dimension": "country", "values": [hostile]}]),
            "manager",
        )
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM orders")).scalar_one() > 0
    assert json.dumps(MetricQuery(measure="orders").model_dump(mode="json"))  # the query is plain JSON


def test_a_risk_band_holds_no_lapsed_customer(shop: tuple[Engine, Settings]) -> None:
    """ "Customers in the critical band" counts those the at-risk list would show: a lapsed customer has gone."""
    engine, settings = shop
    query = MetricQuery(measure="customers", filters=[{"dimension": "risk_band", "values": ["critical", "high"]}])
    got = run_metric(settings, engine, query, "manager").rows[0].value
    with engine.connect() as connection:
        want = connection.execute(
            text(
                f"SELECT COUNT(*) FROM churn_scores s WHERE s.scored_at = {LATEST} "
                "AND s.risk_band IN ('critical', 'high') AND (s.lapsed IS NULL OR NOT s.lapsed)"
            )
        ).scalar_one()
        lapsed = connection.execute(
            text(f"SELECT COUNT(*) FROM churn_scores s WHERE s.scored_at = {LATEST} AND s.lapsed")
        ).scalar_one()
    assert lapsed > 0 and got == want
