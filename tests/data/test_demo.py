"""The demo shop: deterministic, documented causes, and data that behaves like a real shop's."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from winback.data.db import make_engine
from winback.data.demo.phrases import PRICE_COMPARISONS
from winback.data.demo.seed import SeedError, seed_demo
from winback.data.demo.simulate import DRIVERS
from winback.data.fingerprint import database_fingerprint
from winback.data.migrate import upgrade
from winback.data.schema import Customer, DemoTruth, Order, Review, SupportTicket


def _seeded(url: str, **kwargs) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    seed_demo(engine, **kwargs)
    return engine


def test_same_seed_gives_identical_content_whatever_the_worker_count(tmp_path: Path) -> None:
    a = _seeded(f"sqlite:///{tmp_path / 'a.db'}", customers=2_500, seed=11, workers=1)
    b = _seeded(f"sqlite:///{tmp_path / 'b.db'}", customers=2_500, seed=11, workers=2)
    c = _seeded(f"sqlite:///{tmp_path / 'c.db'}", customers=2_500, seed=12, workers=1)
    assert database_fingerprint(a) == database_fingerprint(b)
    assert database_fingerprint(a)["orders"] != database_fingerprint(c)["orders"]


@pytest.mark.postgres
def test_postgres_and_sqlite_hold_the_same_demo(tmp_path: Path, postgres_url: str) -> None:
    lite = _seeded(f"sqlite:///{tmp_path / 'a.db'}", customers=600, seed=3)
    pg = _seeded(postgres_url, customers=600, seed=3)
    assert database_fingerprint(lite) == database_fingerprint(pg)
    pg.dispose()


def test_seeding_refuses_to_mix_with_existing_data_unless_replacing(engine: Engine) -> None:
    seed_demo(engine, customers=50, seed=1)
    with pytest.raises(SeedError, match="already holds 50 customers"):
        seed_demo(engine, customers=50, seed=2)
    seed_demo(engine, customers=80, seed=2, replace=True)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Customer)).scalar_one() == 80


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return _seeded(f"sqlite:///{tmp_path_factory.mktemp('shop') / 'shop.db'}", customers=4_000, seed=7)


def test_every_planted_driver_causes_churn(shop: Engine) -> None:
    with shop.connect() as c:
        causes = dict(
            c.execute(
                select(DemoTruth.primary_cause, func.count()).where(DemoTruth.churned).group_by(DemoTruth.primary_cause)
            ).all()
        )
        churned = c.execute(select(func.count()).where(DemoTruth.churned)).scalar_one()
    assert 0.25 < churned / 4_000 < 0.65
    for driver in DRIVERS:
        assert causes.get(driver, 0) / churned > 0.05, (driver, causes)


def test_shopping_around_shows_only_in_what_customers_write(shop: Engine) -> None:
    """The text-only cause: price comparisons appear in texts of customers who shop around, and nowhere
    else; their ratings are not lowered for it (docs/demo-shop.md)."""
    stems = [phrase.split("{")[0] for phrase in PRICE_COMPARISONS]
    with shop.connect() as c:
        shopping = {
            cid for cid, causes in c.execute(select(DemoTruth.customer_id, DemoTruth.causes)) if causes["found_cheaper"]
        }
        reviews = c.execute(select(Review.customer_id, Review.body, Review.rating)).all()
        tickets = c.execute(select(SupportTicket.customer_id, SupportTicket.body)).all()
    mentions = [r for r in [*reviews, *tickets] if any(stem in r.body for stem in stems)]
    assert len(mentions) > 100 and {r.customer_id for r in mentions} <= shopping
    mentioned = [r.rating for r in reviews if any(stem in r.body for stem in stems)]
    overall = sum(r.rating for r in reviews) / len(reviews)
    assert abs(sum(mentioned) / len(mentioned) - overall) < 0.3


def test_late_deliveries_raise_churn_and_lower_ratings(shop: Engine) -> None:
    with shop.connect() as c:
        late = dict(
            c.execute(
                select(Order.customer_id, func.avg((Order.delivered_at > Order.promised_delivery_at).cast(int_type())))
                .where(Order.delivered_at.is_not(None))
                .group_by(Order.customer_id)
                .having(func.count() >= 3)
            ).all()
        )
        churned = dict(c.execute(select(DemoTruth.customer_id, DemoTruth.churned)).all())
        ratings = c.execute(
            select(Review.rating, (Order.delivered_at > Order.promised_delivery_at)).join(
                Order, Order.order_id == Review.order_id
            )
        ).all()
    often_late = [churned[cid] for cid, share in late.items() if share >= 0.3]
    never_late = [churned[cid] for cid, share in late.items() if share == 0]
    assert sum(often_late) / len(often_late) > sum(never_late) / len(never_late) + 0.1
    by_late: dict[bool, list[int]] = defaultdict(list)
    for rating, was_late in ratings:
        by_late[bool(was_late)].append(rating)
    mean = {k: sum(v) / len(v) for k, v in by_late.items()}
    assert mean[True] < mean[False] - 0.8


def int_type():
    from sqlalchemy import Integer

    return Integer


def test_review_texts_follow_the_experience_and_vary(shop: Engine) -> None:
    with shop.connect() as c:
        rows = c.execute(
            select(Review.body, Review.rating, Order.delivered_at, Order.promised_delivery_at).join(
                Order, Order.order_id == Review.order_id
            )
        ).all()
    bodies = [r.body for r in rows]
    assert len(set(bodies)) > 0.6 * len(bodies)  # composed, not a handful of canned texts
    late_words = (
        "late",
        "delay",
        "wait",
        "slow",
        "forever",
        "stuck",
        "express",
        "deliver",
        "parcel",
        "dispatch",
        "tracking",
    )
    late_reviews = [r.body.lower() for r in rows if r.delivered_at > r.promised_delivery_at]
    mentions = sum(any(w in b for w in late_words) for b in late_reviews)
    assert mentions / len(late_reviews) > 0.9
    low = [r.body for r in rows if r.rating == 1]
    assert low and not any("Would recommend." in b for b in low)


def test_tickets_and_time_line_are_consistent(shop: Engine) -> None:
    with shop.connect() as c:
        as_of = datetime(2026, 11, 1)
        assert c.execute(select(func.max(Order.ordered_at))).scalar_one() < as_of
        assert (
            c.execute(select(func.count()).where(SupportTicket.closed_at < SupportTicket.opened_at)).scalar_one() == 0
        )
        assert c.execute(select(func.count()).where(Order.delivered_at < Order.ordered_at)).scalar_one() == 0
        open_with_close = c.execute(
            select(func.count()).where(SupportTicket.status != "resolved", SupportTicket.closed_at.is_not(None))
        ).scalar_one()
        assert open_with_close == 0
        before_signup = c.execute(
            select(func.count()).select_from(Order).join(Customer).where(Order.ordered_at < Customer.signup_at)
        ).scalar_one()
        assert before_signup == 0
        churned_then_ordered = c.execute(
            select(func.count())
            .select_from(Order)
            .join(DemoTruth, DemoTruth.customer_id == Order.customer_id)
            .where(DemoTruth.churned, Order.ordered_at > DemoTruth.churned_at)
        ).scalar_one()
        assert churned_then_ordered == 0
        quiet = c.execute(
            text(
                "SELECT COUNT(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o "
                "WHERE o.customer_id = c.customer_id AND o.ordered_at > :since)"
            ),
            {"since": as_of - timedelta(days=90)},
        ).scalar_one()
        assert 0.3 < quiet / 4_000 < 0.8


@pytest.mark.slow
def test_default_demo_is_deterministic_and_fast(tmp_path: Path) -> None:
    """Acceptance: `winback seed --customers 20000 --seed 7` twice gives identical content (time printed;
    bench/seed_scale.py --customers 20000 measures it properly)."""
    hashes = []
    for name in ("first", "second"):
        engine = make_engine(f"sqlite:///{tmp_path / name}.db")
        upgrade(engine)
        started = time.perf_counter()
        report = seed_demo(engine, customers=20_000, seed=7)
        seconds = time.perf_counter() - started
        print(f"\nseed 20,000 customers ({name}): {seconds:.1f} s, {report.total_rows:,} rows")
        hashes.append(database_fingerprint(engine))
    assert hashes[0] == hashes[1]
