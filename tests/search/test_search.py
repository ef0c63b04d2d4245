"""Search behaviour through the public API: filters, exact ids, untrusted text, bad input."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import insert, select

from winback.data.db import make_engine
from winback.data.demo.seed import seed_demo
from winback.data.migrate import upgrade
from winback.data.schema import Customer, Review, SupportTicket
from winback.search.indexer import index_feedback
from winback.search.search import SearchError, feedback_hits, search_feedback
from winback.search.store import open_collection, open_keyword_index

from .conftest import store_settings


@pytest.fixture(scope="module", params=["embedded", "server"])
def indexed(request, tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("search")
    engine = make_engine(f"sqlite:///{folder / 'shop.db'}")
    upgrade(engine)
    seed_demo(engine, customers=200, seed=33)
    with engine.begin() as c:
        customer = c.execute(select(Customer.customer_id).limit(1)).scalar_one()
        c.execute(
            insert(Review).values(
                review_id="R-RARE",
                customer_id=customer,
                rating=4,
                title="Zorblax",
                body="The Zorblax attachment works with the old model too.",
                created_at=datetime(2026, 9, 1),
            )
        )
    settings = store_settings(request.param, request, folder)
    collection = open_collection(settings, embedder)
    keyword = open_keyword_index(settings)
    index_feedback(engine, collection, embedder, keyword=keyword)
    return engine, collection, keyword


def test_semantic_search_finds_meaning_and_respects_filters(indexed, embedder) -> None:
    engine, collection, _ = indexed
    results = search_feedback(
        collection,
        embedder,
        "my parcel came much later than promised",
        {"kind": "review", "max_rating": 2},
        k=8,
        mode="semantic",
    )
    assert len(results) == 8
    assert all(r.kind == "review" and r.rating <= 2 for r in results)
    assert sum(any(w in r.text.lower() for w in ("late", "deliver", "parcel", "wait", "slow")) for r in results) >= 6
    assert results == sorted(results, key=lambda r: -r.score)
    since = search_feedback(collection, embedder, "refund", {"since": "2026-06-01", "until": date(2026, 9, 30)}, k=5)
    assert all("2026-06-01" <= r.created_date <= "2026-09-30" for r in since)
    mine = search_feedback(collection, embedder, "anything", {"customer_id": "C-1005"}, k=50)
    assert mine and {r.customer_id for r in mine} == {"C-1005"}


def test_exact_ids_come_first_in_hybrid_search(indexed, embedder) -> None:
    engine, collection, _ = indexed
    with engine.connect() as c:
        ticket_id, order_id = c.execute(
            select(SupportTicket.ticket_id, SupportTicket.order_id).where(SupportTicket.order_id.is_not(None)).limit(1)
        ).one()
    results = search_feedback(collection, embedder, f"what happened with {order_id}", k=5)
    assert results[0].order_id == order_id and order_id in results[0].text
    keyword = search_feedback(collection, embedder, order_id, k=5, mode="keyword")
    assert keyword and all(order_id in r.text for r in keyword)


def test_snippets_are_quoted_as_untrusted(indexed, embedder) -> None:
    _, collection, _ = indexed
    (first,) = search_feedback(collection, embedder, "lovely quality", k=1)
    quoted = first.quoted()
    assert "customer-written, untrusted" in quoted and quoted.endswith(f'"{first.short}"')


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"colour": "red"}, "unknown filter field 'colour'"),
        ({"min_rating": 7}, "min_rating"),
        ({"min_rating": 4, "max_rating": 2}, "min_rating is above max_rating"),
        ({"risk_band": "purple"}, "risk_band"),
        ({"since": "last tuesday"}, "since"),
    ],
)
def test_bad_filters_are_refused_clearly(indexed, embedder, filters, message) -> None:
    _, collection, _ = indexed
    with pytest.raises(SearchError, match=message):
        search_feedback(collection, embedder, "late", filters)


def test_empty_query_and_no_results(indexed, embedder) -> None:
    _, collection, _ = indexed
    with pytest.raises(SearchError, match="empty search query"):
        search_feedback(collection, embedder, "   ")
    assert search_feedback(collection, embedder, "late", {"customer_id": "C-nobody"}) == []


def test_overfetch_and_chroma_filtering_agree(indexed, embedder) -> None:
    from winback.search.search import FeedbackFilter, nearest

    _, collection, _ = indexed
    for query, filters in [
        ("late parcel", {"kind": "review", "max_rating": 2}),
        ("refund please", {"kind": "ticket", "since": "2025-01-01"}),
        ("great fit", {"min_rating": 4, "until": "2026-06-30"}),
    ]:
        spec = FeedbackFilter.parse(filters)
        vector = embedder.encode([query])
        ours = nearest(collection, vector, 10, spec, [])["ids"]
        chroma = collection.query(query_embeddings=vector, n_results=10, where=spec.where(), include=[])["ids"][0]
        assert ours == chroma, query


def test_selective_filters_are_ranked_exactly(indexed, embedder) -> None:
    from winback.search.search import FeedbackFilter, nearest

    _, collection, _ = indexed
    spec = FeedbackFilter(customer_id="C-1010")
    vector = embedder.encode(["anything wrong with my order"])
    ours = nearest(collection, vector, 5, spec, ["distances"])
    chroma = collection.query(query_embeddings=vector, n_results=5, where=spec.where(), include=["distances"])
    assert ours["ids"] == chroma["ids"][0]
    assert ours["distances"] == pytest.approx(chroma["distances"][0], abs=1e-4)


def test_hybrid_finds_rare_words_the_embedding_misses(indexed, embedder) -> None:
    _, collection, keyword = indexed
    question = "problem with my zorblax order"
    semantic = [r.source_id for r in search_feedback(collection, embedder, question, k=5, mode="semantic")]
    keyword_only = search_feedback(collection, embedder, question, k=5, mode="keyword", keyword=keyword)
    fused = search_feedback(collection, embedder, question, k=5, keyword=keyword, stance="any")
    assert keyword_only[0].source_id == "R-RARE"  # BM25 weighs the one rare word
    assert semantic.index("R-RARE") > 0  # the embedding prefers texts about problems with orders
    assert [r.source_id for r in fused].index("R-RARE") < semantic.index("R-RARE")


def test_problem_questions_put_complaints_first_and_say_how_many_match(indexed, embedder) -> None:
    _, collection, keyword = indexed
    question = "what are people saying about sizing"
    plain = feedback_hits(collection, embedder, question, {"kind": "review"}, 8, keyword=keyword, stance="any")
    hits = feedback_hits(collection, embedder, question, {"kind": "review"}, 8, keyword=keyword)
    assert hits.stance == "complaints"
    ratings = [r.rating for r in hits.snippets]
    plain_ratings = [r.rating for r in plain.snippets]
    assert sum(ratings) < sum(plain_ratings) and sum(r <= 2 for r in ratings) > sum(r <= 2 for r in plain_ratings)
    with_word = [r for r in hits.snippets if "siz" in r.text.lower()]
    assert with_word and hits.matching is not None and hits.matching >= len(with_word)
    assert 0 < (hits.matching_low_rated or 0) < hits.matching
    assert f"{hits.matching:,} texts contain every word of: sizing" in hits.summary(question)
    praise = feedback_hits(collection, embedder, "what do customers love", {"kind": "review"}, 8, keyword=keyword)
    assert praise.stance == "praise" and min(r.rating for r in praise.snippets) >= 4
