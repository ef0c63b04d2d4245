"""Text-to-SQL execution accuracy on the demo shop: 45 questions with gold SQL, scored by whether the
model's query (after at most two repairs) returns the same result set as the gold query. Reference answers
are computed by running the gold SQL on the database at bench time, never typed in.

    python -m bench.text_to_sql                         # both embedded models, both question sets
    python -m bench.text_to_sql --models 1.5b --set sealed
    python -m bench.text_to_sql --base-url http://gpu-host:8000/v1 --model Qwen/Qwen2.5-7B-Instruct
    python -m bench.text_to_sql --data-dir .winback --limit 10 --json

Two sets: "dev", the 45 questions below (prompts and worked examples were tuned while they were known),
and "sealed", 32 questions of bench/text_to_sql_sealed.py written for issue 15 before any tuning, sharing
no template with the worked examples. Report both, labelled.

Needs a seeded and scored demo database (scripts/demo, or `winback seed && winback train && winback score`).
Comparison rules: rows are compared as multisets after normalising values (numbers rounded to 2 decimals,
timestamps as ISO text). "strict": same columns (in any order). "extra columns allowed": the gold
columns are found among the predicted ones (a model that returns the category *and* its units for
"which category sold most" is right). Both are reported. Every query runs through the guard as role
`manager`. The writer shows the model the 4 worked examples closest to the question (none is a question
of this set); --static-examples shows the first 4 instead, to measure what retrieval adds.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LATEST = "scored_at = (SELECT MAX(scored_at) FROM churn_scores)"
PAID = "status != 'cancelled'"

# (question, gold SQL for the SQLite demo database)
QUESTIONS: list[tuple[str, str]] = [
    ("How many customers are there?", "SELECT COUNT(*) FROM customers"),
    ("How many customers are in each segment?", "SELECT segment, COUNT(*) FROM customers GROUP BY segment"),
    ("How many customers are there per country?", "SELECT country, COUNT(*) FROM customers GROUP BY country"),
    ("How many orders have been placed in total?", "SELECT COUNT(*) FROM orders"),
    ("How many orders were cancelled?", "SELECT COUNT(*) FROM orders WHERE status = 'cancelled'"),
    (
        "What is the total revenue of orders that were not cancelled?",
        f"SELECT SUM(total_amount) FROM orders WHERE {PAID}",
    ),
    (
        "What is the average order value of orders that were not cancelled?",
        f"SELECT AVG(total_amount) FROM orders WHERE {PAID}",
    ),
    ("How many orders are there in each status?", "SELECT status, COUNT(*) FROM orders GROUP BY status"),
    ("How many orders were placed through each channel?", "SELECT channel, COUNT(*) FROM orders GROUP BY channel"),
    (
        "Which country has the most customers?",
        "SELECT country FROM customers GROUP BY country ORDER BY COUNT(*) DESC LIMIT 1",
    ),
    (
        "How many customers signed up in 2025?",
        "SELECT COUNT(*) FROM customers WHERE signup_at >= '2025-01-01' AND signup_at < '2026-01-01'",
    ),
    ("How many customers have closed their account?", "SELECT COUNT(*) FROM customers WHERE closed_at IS NOT NULL"),
    ("How many customers opted in to marketing?", "SELECT COUNT(*) FROM customers WHERE marketing_opt_in = 1"),
    ("How many reviews have a rating of 1 star?", "SELECT COUNT(*) FROM reviews WHERE rating = 1"),
    ("What is the average review rating?", "SELECT AVG(rating) FROM reviews"),
    (
        "What is the average review rating per customer segment?",
        "SELECT c.segment, AVG(r.rating) FROM reviews r JOIN customers c ON c.customer_id = r.customer_id "
        "GROUP BY c.segment",
    ),
    ("How many support tickets are open?", "SELECT COUNT(*) FROM support_tickets WHERE status = 'open'"),
    ("How many support tickets are there per topic?", "SELECT topic, COUNT(*) FROM support_tickets GROUP BY topic"),
    (
        "Which support ticket topic is the most common?",
        "SELECT topic FROM support_tickets GROUP BY topic ORDER BY COUNT(*) DESC LIMIT 1",
    ),
    (
        "What is the average satisfaction of resolved support tickets?",
        "SELECT AVG(satisfaction) FROM support_tickets WHERE status = 'resolved'",
    ),
    (
        "How many orders were delivered after the promised delivery date?",
        "SELECT COUNT(*) FROM orders WHERE delivered_at > promised_delivery_at",
    ),
    (
        "How many late deliveries were there per country?",
        "SELECT c.country, COUNT(*) FROM orders o JOIN customers c ON c.customer_id = o.customer_id "
        "WHERE o.delivered_at > o.promised_delivery_at GROUP BY c.country",
    ),
    ("What is the total discount amount given on all orders?", "SELECT SUM(discount_amount) FROM orders"),
    (
        "Which 5 customers spent the most on orders that were not cancelled? Give their ids and totals.",
        f"SELECT customer_id, SUM(total_amount) AS spent FROM orders WHERE {PAID} GROUP BY customer_id "
        "ORDER BY spent DESC LIMIT 5",
    ),
    (
        "How many customers have never placed an order?",
        "SELECT COUNT(*) FROM customers WHERE customer_id NOT IN (SELECT customer_id FROM orders)",
    ),
    (
        "How many customers are in the critical risk band in the latest churn scores?",
        f"SELECT COUNT(*) FROM churn_scores WHERE {LATEST} AND risk_band = 'critical'",
    ),
    (
        "How many customers are in each risk band in the latest churn scores?",
        f"SELECT risk_band, COUNT(*) FROM churn_scores WHERE {LATEST} GROUP BY risk_band",
    ),
    (
        "What is the average churn probability per segment in the latest scores?",
        f"SELECT c.segment, AVG(s.probability) FROM churn_scores s JOIN customers c ON c.customer_id = s.customer_id "
        f"WHERE s.{LATEST} GROUP BY c.segment",
    ),
    (
        "Which 10 customers have the highest churn probability in the latest scores? Give their ids.",
        f"SELECT customer_id FROM churn_scores WHERE {LATEST} ORDER BY probability DESC, customer_id LIMIT 10",
    ),
    (
        "How many gold customers are there in France?",
        "SELECT COUNT(*) FROM customers WHERE segment = 'gold' AND country = 'France'",
    ),
    ("How many customers live in the city of Lyon?", "SELECT COUNT(*) FROM customers WHERE city = 'Lyon'"),
    (
        "What was the revenue of non-cancelled orders per month in 2026?",
        f"SELECT strftime('%Y-%m', ordered_at) AS month, SUM(total_amount) FROM orders WHERE {PAID} "
        "AND ordered_at >= '2026-01-01' GROUP BY month",
    ),
    (
        "How many orders were placed each year?",
        "SELECT strftime('%Y', ordered_at) AS year, COUNT(*) FROM orders GROUP BY year",
    ),
    (
        "Which product category sold the most units?",
        "SELECT category FROM order_items GROUP BY category ORDER BY SUM(quantity) DESC LIMIT 1",
    ),
    (
        "What is the revenue per product category, computed as quantity times unit price over all order items?",
        "SELECT category, SUM(quantity * unit_price) FROM order_items GROUP BY category",
    ),
    ("How many distinct products have been ordered?", "SELECT COUNT(DISTINCT product_id) FROM order_items"),
    ("How many orders were returned?", "SELECT COUNT(*) FROM orders WHERE status = 'returned'"),
    (
        "Which acquisition channel brought the most customers?",
        "SELECT acquisition_channel FROM customers GROUP BY acquisition_channel ORDER BY COUNT(*) DESC LIMIT 1",
    ),
    (
        "How many reviews were written in 2026?",
        "SELECT COUNT(*) FROM reviews WHERE created_at >= '2026-01-01' AND created_at < '2027-01-01'",
    ),
    (
        "What is the average value of non-cancelled orders per customer segment?",
        f"SELECT c.segment, AVG(o.total_amount) FROM orders o JOIN customers c ON c.customer_id = o.customer_id "
        f"WHERE o.{PAID} GROUP BY c.segment",
    ),
    (
        "How many customers have placed more than 10 orders?",
        "SELECT COUNT(*) FROM (SELECT customer_id FROM orders GROUP BY customer_id HAVING COUNT(*) > 10)",
    ),
    ("How many support tickets were opened by phone?", "SELECT COUNT(*) FROM support_tickets WHERE channel = 'phone'"),
    (
        "What is the total revenue at risk in the latest scores, i.e. the sum of churn probability times spend over "
        "the last 365 days?",
        f"SELECT SUM(probability * spend_365d) FROM churn_scores WHERE {LATEST}",
    ),
    (
        "How many reviews mention an order, i.e. have an order id?",
        "SELECT COUNT(*) FROM reviews WHERE order_id IS NOT NULL",
    ),
    ("What is the average quantity per order line?", "SELECT AVG(quantity) FROM order_items"),
]


def normalise(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float, Decimal)):
        return round(float(value), 2)
    if isinstance(value, (datetime, date)):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value)


def same_result(gold: list[tuple[Any, ...]], predicted: list[tuple[Any, ...]]) -> bool:
    g = [tuple(normalise(v) for v in row) for row in gold]
    p = [tuple(normalise(v) for v in row) for row in predicted]
    if Counter(g) == Counter(p):
        return True
    key = lambda row: tuple(sorted(row, key=repr))  # noqa: E731 - column order does not matter
    return Counter(map(key, g)) == Counter(map(key, p))


def contains_result(gold: list[tuple[Any, ...]], predicted: list[tuple[Any, ...]]) -> bool:
    """The gold columns appear among the predicted columns, row for row."""
    if len(gold) != len(predicted) or not gold:
        return same_result(gold, predicted)
    width = len(gold[0])
    g = Counter(tuple(normalise(v) for v in row) for row in gold)
    for columns in itertools.islice(itertools.permutations(range(len(predicted[0])), width), 5_000):
        if Counter(tuple(normalise(row[c]) for c in columns) for row in predicted) == g:
            return True
    return False


def run_set(settings: Any, model: str | None, questions: list[tuple[str, str]], args: Any) -> tuple[dict, list]:
    """Execution accuracy of one model on one question set."""
    from winback.data.db import make_engine
    from winback.data.safesql.guarded import run_guarded
    from winback.llm.client import chat_model, llm_endpoint
    from winback.llm.sql_writer import SqlWriter

    engine = make_engine(settings.database_url)
    llm = chat_model(settings, "sql", model=model)
    writer = SqlWriter(settings, llm, engine, retrieve_examples=not args.static_examples)
    gold = [run_guarded(settings, sql, "manager") for _, sql in questions]  # the reference answers

    def one(i: int) -> dict[str, Any]:
        question = questions[i][0]
        answer = writer.answer(question, "manager")
        predicted = [tuple(r) for r in answer.result.result.frame.itertuples(index=False)] if answer.ok else None
        reference = [tuple(r) for r in gold[i].result.frame.itertuples(index=False)]
        first_ok = answer.attempts and answer.attempts[0].error is None
        return {
            "question": question,
            "ok": answer.ok,
            "correct": bool(predicted is not None and same_result(reference, predicted)),
            "correct_lenient": bool(predicted is not None and contains_result(reference, predicted)),
            "correct_first_try": bool(
                first_ok and len(answer.attempts) == 1 and predicted is not None and same_result(reference, predicted)
            ),
            "attempts": len(answer.attempts),
            "seconds": round(answer.seconds, 2),
            "sql": answer.attempts[-1].sql if answer.attempts else "",
            "error": answer.error,
        }

    wall = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        results = list(pool.map(one, range(len(questions))))
    wall = time.perf_counter() - wall
    n = len(results)
    seconds = sorted(r["seconds"] for r in results)
    summary = {
        "endpoint": "{} ({})".format(*llm_endpoint(settings, "sql", model)),
        "model": llm_endpoint(settings, "sql", model)[1],
        "questions": n,
        "execution_accuracy": round(sum(r["correct"] for r in results) / n, 4),
        "execution_accuracy_extra_columns_allowed": round(sum(r["correct_lenient"] for r in results) / n, 4),
        "examples": "static" if args.static_examples else "retrieved",
        "accuracy_first_try": round(sum(r["correct_first_try"] for r in results) / n, 4),
        "ran_ok": round(sum(r["ok"] for r in results) / n, 4),
        "repaired": sum(r["attempts"] > 1 and r["ok"] for r in results),
        "p50_s": round(statistics.median(seconds), 2),
        "p95_s": round(seconds[max(int(0.95 * n) - 1, 0)], 2),
        "wall_s": round(wall, 1),
        "concurrency": args.concurrency,
    }
    return summary, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="winback data dir with a scored demo (default: settings)")
    parser.add_argument("--base-url", default=None, help="OpenAI-compatible server; default: the embedded ones")
    parser.add_argument("--model", default=None, help="model name on --base-url")
    parser.add_argument("--models", default="all", help="embedded models: 0.5b, 1.5b or all (each served alone)")
    parser.add_argument(
        "--set", default="all", choices=["dev", "sealed", "all"], help="dev: the 45 questions; sealed: the 32 new"
    )
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions of each set")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--static-examples", action="store_true", help="no example retrieval")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from bench.text_to_sql_sealed import SEALED_QUESTIONS
    from winback.config import Settings
    from winback.llm.model_files import MODELS, prepare_model, shipped_model
    from winback.llm.server import running_models, start_server, stop_server

    # a measurement, not a user: the per-user rate limit on free SQL would only stall it
    overrides: dict[str, Any] = {"sql_calls_per_minute": 10_000}
    if args.data_dir:
        overrides["data_dir"] = Path(args.data_dir)
    if args.base_url:
        overrides.update(llm_base_url=args.base_url, llm_model=args.model)
    settings = Settings(**overrides)
    sets = {"dev": QUESTIONS, "sealed": SEALED_QUESTIONS}
    chosen_sets = list(sets) if args.set == "all" else [args.set]
    models: list[str | None] = [None]
    if not settings.llm_base_url:
        models = list(MODELS) if args.models == "all" else [shipped_model(m).name for m in args.models.split(",")]
    runs = []
    for model in models:
        handle = None
        if model is not None:
            prepare_model(settings.data_dir, model)
            for other in running_models(settings):  # each model measured alone on these cores
                if other != model:
                    stop_server(settings, other)
            handle = start_server(settings, model)
            print(f"{model} ready in {handle.seconds_to_ready:.0f} s", file=sys.stderr)
        try:
            for name in chosen_sets:
                questions = sets[name][: args.limit] if args.limit else sets[name]
                summary, results = run_set(settings, model, questions, args)
                summary["set"] = name
                runs.append((summary, results))
        finally:
            if handle is not None and handle.seconds_to_ready > 0:  # leave a server we found running
                stop_server(settings, model)
    if args.json:
        print(json.dumps([{"summary": s, "results": r} for s, r in runs], indent=2, default=str))
        return
    for summary, results in runs:
        print(f"## {summary['model']}, {summary['set']} set")
        for r in results:
            mark = "✓" if r["correct"] else "+" if r["correct_lenient"] else ("~" if r["ok"] else "✗")
            print(f"{mark} [{r['attempts']}] {r['seconds']:5.1f}s  {r['question']}")
            if not r["correct"]:
                print(f"      {r['sql'][:160]!r}" + (f"  -> {r['error'][:120]}" if r["error"] else ""))
        print()
    print(
        "| model | set | examples | questions | execution accuracy | extra columns allowed | first try | ran "
        "| repaired | p50 s | p95 s | wall s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for s, _ in runs:
        print(
            f"| {s['model']} | {s['set']} | {s['examples']} | {s['questions']} | {s['execution_accuracy']:.1%} "
            f"| {s['execution_accuracy_extra_columns_allowed']:.1%} | {s['accuracy_first_try']:.1%} "
            f"| {s['ran_ok']:.1%} | {s['repaired']} | {s['p50_s']} | {s['p95_s']} | {s['wall_s']} |"
        )


if __name__ == "__main__":
    main()
