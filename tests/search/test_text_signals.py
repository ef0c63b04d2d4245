"""What each text says, read from the stored search embeddings: in step with the index, topic scores that
tell a price comparison from a late parcel, and risk bands that follow re-scoring without re-embedding."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine, delete, func, insert, select, update

from winback.data.demo.seed import seed_demo
from winback.data.schema import ChurnScore, Review, SupportTicket, TextSignal
from winback.search.indexer import index_feedback
from winback.search.store import open_collection


@pytest.fixture
def shop(engine: Engine) -> Engine:
    seed_demo(engine, customers=120, seed=5)
    return engine


def signal_rows(engine: Engine) -> dict[str, TextSignal]:
    with engine.connect() as c:
        return {f"{r.source_kind}:{r.source_id}": r for r in c.execute(select(TextSignal)).all()}


def source_count(engine: Engine) -> int:
    with engine.connect() as c:
        reviews = c.execute(select(func.count()).select_from(Review)).scalar_one()
        return reviews + c.execute(select(func.count()).select_from(SupportTicket)).scalar_one()


def test_signals_follow_the_index_and_tell_topics_apart(shop: Engine, search_settings, embedder) -> None:
    collection = open_collection(search_settings, embedder)
    first = index_feedback(shop, collection, embedder)
    assert first.signals_written == source_count(shop) == len(signal_rows(shop))
    assert index_feedback(shop, collection, embedder).signals_written == 0  # nothing new: nothing read

    with shop.begin() as c:
        some = c.execute(select(Review.review_id, Review.customer_id).order_by(Review.review_id).limit(2)).all()
        customer = some[0].customer_id
        for review_id, body in [
            ("SIG-PRICE", "Nice enough, but I found exactly the same jacket cheaper on another website."),
            ("SIG-LATE", "The parcel came a week after the promised date and tracking was useless."),
        ]:
            c.execute(
                insert(Review).values(
                    review_id=review_id,
                    customer_id=customer,
                    rating=3,
                    title="",
                    body=body,
                    created_at=datetime(2026, 10, 2),
                )
            )
        c.execute(
            update(Review).where(Review.review_id == some[0].review_id).values(body="Too small, the sizes run tiny.")
        )
        c.execute(delete(Review).where(Review.review_id == some[1].review_id))
    report = index_feedback(shop, collection, embedder)
    assert report.signals_written == 3  # two new texts and one changed; the deleted one's row is gone
    rows = signal_rows(shop)
    assert len(rows) == source_count(shop) and f"review:{some[1].review_id}" not in rows
    price, late, small = rows["review:SIG-PRICE"], rows["review:SIG-LATE"], rows[f"review:{some[0].review_id}"]
    assert price.price_elsewhere > late.price_elsewhere + 0.15 and price.price_elsewhere > small.price_elsewhere + 0.15
    assert late.delivery > price.delivery + 0.15 and small.sizing > late.sizing + 0.15
    assert price.customer_id == customer and price.written_at == datetime(2026, 10, 2)


def test_a_rescored_customer_s_texts_get_the_new_band_without_re_embedding(
    shop: Engine, search_settings, embedder
) -> None:
    collection = open_collection(search_settings, embedder)
    index_feedback(shop, collection, embedder)
    with shop.begin() as c:
        customer = c.execute(select(Review.customer_id).order_by(Review.review_id).limit(1)).scalar_one()
        c.execute(
            insert(ChurnScore).values(
                customer_id=customer,
                model_version="v-test",
                scored_at=datetime(2026, 11, 1),
                probability=0.91,
                risk_band="critical",
            )
        )
        texts = c.execute(select(func.count()).select_from(Review).where(Review.customer_id == customer)).scalar_one()
        texts += c.execute(
            select(func.count()).select_from(SupportTicket).where(SupportTicket.customer_id == customer)
        ).scalar_one()
    report = index_feedback(shop, collection, embedder)
    assert report.chunks_written == 0 and report.signals_written == 0
    assert report.bands_updated == texts  # everyone else is still unscored
    got = collection.get(where={"customer_id": customer}, include=["metadatas"])
    assert len(got["ids"]) >= texts and {m["risk_band"] for m in got["metadatas"]} == {"critical"}
    assert index_feedback(shop, collection, embedder).bands_updated == 0
