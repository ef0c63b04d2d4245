"""Features: computed in the database, chunkable, identical on SQLite and PostgreSQL, and blind to the future."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import Engine, insert, update

from winback.data.demo.seed import seed_demo
from winback.data.schema import Customer, Order, Review, SupportTicket, TextSignal
from winback.model.features import FEATURES, compute_features, iter_feature_chunks

CUTOFF = datetime(2026, 6, 1)


def text_signal(kind: str, source: str, customer: str, when: datetime, sentiment: float, price: float = 0.2) -> dict:
    return {
        "source_kind": kind,
        "source_id": source,
        "customer_id": customer,
        "written_at": when,
        "content_hash": "h",
        "price_elsewhere": price,
        "delivery": 0.3,
        "quality": 0.1,
        "sizing": 0.1,
        "service": 0.2,
        "sentiment": sentiment,
    }


@pytest.fixture
def shop(engine: Engine) -> Engine:
    seed_demo(engine, customers=400, seed=21)
    return engine


def test_events_after_the_cutoff_change_no_feature(shop: Engine) -> None:
    before = compute_features(shop, CUTOFF)
    later = CUTOFF + timedelta(days=3)
    ids = list(before.index[:50])
    with shop.begin() as c:
        for i, cid in enumerate(ids):
            c.execute(
                insert(Order).values(
                    order_id=f"FUT-{i}",
                    customer_id=cid,
                    ordered_at=later,
                    status="returned",
                    total_amount=Decimal("99.00"),
                    discount_amount=Decimal("50.00"),
                    promised_delivery_at=later,
                    delivered_at=later + timedelta(days=9),
                    returned_at=later + timedelta(days=12),
                    channel="web",
                )
            )
            c.execute(
                insert(Review).values(
                    review_id=f"FUT-{i}",
                    customer_id=cid,
                    order_id=f"FUT-{i}",
                    rating=1,
                    title="x",
                    body="late",
                    created_at=later,
                )
            )
            c.execute(
                insert(SupportTicket).values(
                    ticket_id=f"FUT-{i}",
                    customer_id=cid,
                    opened_at=later,
                    channel="chat",
                    topic="refund",
                    status="open",
                    body="where",
                )
            )
            c.execute(insert(TextSignal).values(text_signal("review", f"FUT-{i}", cid, later, -0.8, price=0.9)))
        # tickets open at the cutoff but resolved after it still count as unresolved at the cutoff
        c.execute(
            update(SupportTicket)
            .where(SupportTicket.opened_at <= CUTOFF, SupportTicket.closed_at.is_(None))
            .values(closed_at=later, status="resolved", satisfaction=5)
        )
        # deliveries that had not happened at the cutoff may happen later without changing anything
        c.execute(
            update(Order).where(Order.ordered_at <= CUTOFF, Order.delivered_at > CUTOFF).values(delivered_at=later)
        )
    after = compute_features(shop, CUTOFF)
    pd.testing.assert_frame_equal(before, after)


def test_chunks_add_up_to_the_whole(shop: Engine) -> None:
    whole = compute_features(shop, CUTOFF)
    chunked = pd.concat(list(iter_feature_chunks(shop, CUTOFF, chunk_size=70)))
    pd.testing.assert_frame_equal(whole, chunked)
    listed = pd.concat(list(iter_feature_chunks(shop, CUTOFF, chunk_size=33, customer_ids=list(whole.index[::3]))))
    pd.testing.assert_frame_equal(whole.iloc[::3], listed)


def test_hand_built_customer(engine: Engine) -> None:
    t0 = datetime(2026, 1, 1)
    with engine.begin() as c:
        c.execute(
            insert(Customer).values(
                customer_id="H-1",
                name="H",
                email="h@x",
                country="France",
                city="Lyon",
                signup_at=t0,
                segment="gold",
                acquisition_channel="email",
                marketing_opt_in=True,
            )
        )
        c.execute(
            insert(Customer).values(
                customer_id="H-2",
                name="N",
                email="n@x",
                country="Spain",
                city="Madrid",
                signup_at=t0,
                segment="bronze",
                acquisition_channel="social",
                marketing_opt_in=False,
            )
        )
        for k, late in enumerate([0, 2, 0, 3, 4]):  # five deliveries, the last four: late, on time, late, late
            when = t0 + timedelta(days=20 * k)
            c.execute(
                insert(Order).values(
                    order_id=f"H-{k}",
                    customer_id="H-1",
                    ordered_at=when,
                    status="delivered",
                    total_amount=Decimal("80"),
                    discount_amount=Decimal("20") if k == 4 else Decimal("0"),
                    promised_delivery_at=when + timedelta(days=3),
                    delivered_at=when + timedelta(days=3 + late),
                    channel="web",
                )
            )
        c.execute(
            insert(SupportTicket).values(
                ticket_id="T-1",
                customer_id="H-1",
                opened_at=t0 + timedelta(days=70),
                channel="chat",
                topic="delivery_delay",
                status="open",
                body="?",
            )
        )
        c.execute(
            insert(Review).values(
                review_id="R-1",
                customer_id="H-1",
                rating=2,
                title="meh",
                body="late",
                created_at=t0 + timedelta(days=90),
            )
        )
        # what the texts said (as `winback index` reads it): two in the window, one after the cutoff
        c.execute(insert(TextSignal).values(text_signal("ticket", "T-1", "H-1", t0 + timedelta(days=70), -0.2)))
        c.execute(
            insert(TextSignal).values(text_signal("review", "R-1", "H-1", t0 + timedelta(days=90), 0.1, price=0.62))
        )
        c.execute(
            insert(TextSignal).values(text_signal("review", "R-9", "H-1", t0 + timedelta(days=101), -0.9, price=0.99))
        )
    f = compute_features(engine, t0 + timedelta(days=100))
    h = f.loc["H-1"]
    assert h.orders_total == 5 and h.recency_days == pytest.approx(20)
    assert h.late_of_last_4 == 3 and h.late_share_365d == pytest.approx(0.6)
    assert h.mean_delay_days_365d == pytest.approx(3.0)
    assert h.unresolved_tickets == 1 and h.tickets_365d == 1
    assert h.min_rating_365d == 2 and h.last_rating == 2 and h.days_since_bad_review == pytest.approx(10)
    assert h.discount_share_365d == pytest.approx(20 / 420)
    assert h.segment == "gold"
    assert h.text_price_elsewhere_365d == pytest.approx(0.62) and h.text_delivery_365d == pytest.approx(0.3)
    assert h.text_sentiment_365d == pytest.approx(-0.05) and h.days_since_negative_text == pytest.approx(30)
    n = f.loc["H-2"]  # never ordered: sensible defaults, not NaN
    assert n.orders_total == 0 and n.recency_days == pytest.approx(100) and n.late_share_365d == 0
    assert n.mean_rating_365d == 4 and n.days_since_bad_review == 730
    assert n.text_price_elsewhere_365d == 0 and n.text_sentiment_365d == 0 and n.days_since_negative_text == 730
    assert not f.isna().any().any()
    assert list(f.columns) == [x.name for x in FEATURES]


@pytest.mark.postgres
def test_sqlite_and_postgres_compute_the_same_features(tmp_path, postgres_url) -> None:
    from winback.data.db import make_engine
    from winback.data.migrate import upgrade

    frames = []
    for url in (f"sqlite:///{tmp_path / 'a.db'}", postgres_url):
        eng = make_engine(url)
        upgrade(eng)
        seed_demo(eng, customers=300, seed=8)
        frames.append(compute_features(eng, CUTOFF))
        eng.dispose()
    pd.testing.assert_frame_equal(frames[0], frames[1], check_exact=False, rtol=1e-6)


def test_every_feature_is_documented() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "churn-model.md").read_text()
    for feature in FEATURES:
        assert f"| `{feature.name}` | {feature.kind} | {feature.unit} | {feature.definition} |" in doc, feature.name
