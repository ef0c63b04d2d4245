"""The keyword (BM25) index on its own: ranking, stemming, filters, counts, updates, and hostile queries."""

from __future__ import annotations

from pathlib import Path

import pytest

from winback.search.filters import FeedbackFilter
from winback.search.keyword import KeywordIndex, match_expression, query_words

TEXTS = {
    "review:R-1#0": ("The sizes run small, I had to send it back.", {"kind": "review", "rating": 1}),
    "review:R-2#0": ("Sizing was perfect, true to size.", {"kind": "review", "rating": 5}),
    "review:R-3#0": ("Lovely colour and soft fabric.", {"kind": "review", "rating": 5}),
    "ticket:T-1#0": ("My parcel is late, where is order O-1042-007?", {"kind": "ticket", "rating": None}),
    "ticket:T-1#1": ("Still late. Please refund the order.", {"kind": "ticket", "rating": None}),
}


def make_index(path: Path) -> KeywordIndex:
    index = KeywordIndex(path)
    ids = list(TEXTS)
    metas = [
        {**meta, "customer_id": "C-1" if "R-1" in i else "C-2", "created_at": 100, "content_hash": "h"}
        for i, (_, meta) in zip(ids, TEXTS.values(), strict=True)
    ]
    index.upsert(ids, [text for text, _ in TEXTS.values()], metas)
    return index


def test_ranks_by_bm25_with_stemming_and_filters(tmp_path: Path) -> None:
    index = make_index(tmp_path / "k.sqlite3")
    found = [i for i, _ in index.search("what are people saying about sizing", FeedbackFilter(), 5)]
    assert set(found) == {"review:R-1#0", "review:R-2#0"}  # "sizing" finds "sizes" and "size" (Porter stems)
    assert [i for i, _ in index.search("sizing", FeedbackFilter(max_rating=2), 5)] == ["review:R-1#0"]
    assert [i for i, _ in index.search("late parcel", FeedbackFilter(), 5)][0] == "ticket:T-1#0"  # both words
    assert index.search("late", FeedbackFilter(customer_id="C-nobody"), 5) == []
    assert index.count("late", FeedbackFilter()) == (1, 0)  # two chunks, one text
    assert index.count("sizing", FeedbackFilter()) == (2, 1)  # one of them rated 1-2 stars


def test_upsert_replaces_delete_removes_and_state_tracks_hashes(tmp_path: Path) -> None:
    index = make_index(tmp_path / "k.sqlite3")
    index.upsert(["review:R-3#0"], ["Itchy wool, returned it."], [{"kind": "review", "rating": 2, "content_hash": "n"}])
    assert index.search("lovely", FeedbackFilter(), 5) == []
    assert [i for i, _ in index.search("itchy", FeedbackFilter(), 5)] == ["review:R-3#0"]
    index.delete(["review:R-3#0", "missing#0"])
    state = index.state()
    assert "review:R-3#0" not in state and state["review:R-1#0"] == "h" and len(state) == 4
    index.close()
    assert len(KeywordIndex(tmp_path / "k.sqlite3").state()) == 4  # on disk, not in memory


@pytest.mark.parametrize(
    "hostile",
    [
        'sizing" OR "*',
        "NEAR(late refund)",
        "late) OR (x",
        "chunk_words MATCH 'x'; DROP TABLE chunks",
        "-",
        '"late\x00 parcel"',  # a NUL inside a quoted phrase (issue 36)
        '"\x00"',
        'late "parcel\x1b[31m"',
    ],
)
def test_query_text_never_becomes_fts_syntax(tmp_path: Path, hostile: str) -> None:
    index = make_index(tmp_path / "k.sqlite3")
    index.search(hostile, FeedbackFilter(), 5)  # no sqlite3.OperationalError, whatever the words
    index.count(hostile, FeedbackFilter())
    assert len(index.state()) == 5


def test_query_words_and_match_expression() -> None:
    assert query_words("What are people saying about SIZING?") == ["sizing"]
    assert match_expression('late "O-1042-007" parcels') == '"O-1042-007" OR "late" OR "parcels"'
    assert match_expression("late parcels", require_all=True) == '"late" AND "parcels"'
    assert match_expression("?!") is None
    assert match_expression('"late\x00 parcel" box') == '"late parcel" OR "box"'  # control characters: spaces


def test_services_find_a_keyword_index_built_after_they_started(tmp_path: Path) -> None:
    from winback.config import Settings
    from winback.search.store import open_keyword_index
    from winback.tools.base import Services

    services = Services(Settings(data_dir=tmp_path))
    assert services.keyword_index() is None  # `winback index` has not run: search falls back to semantic
    open_keyword_index(services.settings)  # now it has
    assert isinstance(services.keyword_index(), KeywordIndex)
    assert services.keyword_index() is services.keyword_index()  # and it is kept
