"""Load test of the web UI on loopback: N simulated users signed in at once, each holding a conversation of
T turns through the same chat endpoint the browser uses (Gradio's queue, streaming, memory in the
database), and reporting errors and turn latency.

    python -m bench.ui_load --data-dir /path/to/scored-demo               # 20 users x 5 turns
    python -m bench.ui_load --data-dir D --users 40 --turns 5 --concurrency 8

Starts `winback serve` on a free port over a copy of the data dir's database (so the conversations it
writes never touch the original), with one account per simulated user, and stops it afterwards. The
embedded default: the router plans; the LLM server is used only if one is running.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONVERSATION = [
    "who is most likely to churn?",
    "why is the second one at risk?",
    "and her tickets?",
    "revenue at risk by segment",
    "what drives churn among gold customers?",
    "top 5 platinum customers at risk in France",
    "tell me about the first one",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_ui(source: Path, users: int, concurrency: int) -> tuple[subprocess.Popen, str, Path, dict[str, str]]:
    from bench.data_copy import copy_data_dir
    from winback.ui.users import UserStore

    work = copy_data_dir(source, "winback-load-", links=("models", "llm", "cache"))
    from winback.data.db import make_engine
    from winback.data.migrate import upgrade

    upgrade(make_engine(f"sqlite:///{work / 'winback.db'}"))  # the copy, never the original
    store = UserStore(work / "users.toml")
    passwords = {f"user{n:02d}": store.add(f"user{n:02d}", "support_agent") for n in range(users)}
    port = _free_port()
    env = {
        **os.environ,
        "WINBACK_DATA_DIR": str(work),
        "WINBACK_CHROMA": str(source / "chroma"),
        "WINBACK_UI_CONCURRENCY": str(concurrency),
    }
    log = (work / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "winback.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return process, url, work, passwords
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the UI did not start: " + (work / "serve.log").read_text()[-2000:]) from None
            time.sleep(0.5)


DRAFT = "draft a win-back email for {customer}"
SIGN_IN = threading.Lock()


def draft_targets(database: Path, n: int) -> list[str]:
    """Distinct active customers without an offer yet, with the most revenue at risk (those the policy makes
    offers to): one per simulated user."""
    import sqlite3

    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT customer_id FROM churn_scores WHERE scored_at = (SELECT MAX(scored_at) FROM churn_scores) "
            "AND lapsed = 0 AND customer_id NOT IN (SELECT customer_id FROM offers) "
            "ORDER BY probability * COALESCE(spend_365d, 0) DESC, customer_id LIMIT ?",
            (n,),
        ).fetchall()
    return [r[0] for r in rows]


def simulate(
    url: str,
    user: str,
    password: str,
    turns: int,
    latencies: list[float],
    errors: list[str],
    start: threading.Barrier,
    draft_for: str | None = None,
    draft_latencies: list[float] | None = None,
    think_s: float = 0.0,
) -> None:
    from gradio_client import Client

    try:
        with SIGN_IN:  # one at a time: the server hashes passwords slowly on purpose and throttles bursts
            client = Client(url, auth=(user, password), verbose=False, download_files=False)
    except Exception as exc:
        errors.append(f"{user}: sign-in failed: {exc}")
        start.abort()  # the others must not wait for this user forever
        return
    try:
        start.wait(timeout=300)
    except threading.BrokenBarrierError:
        errors.append(f"{user}: not started (another user's sign-in failed)")
        return
    history: list = []  # the conversation id lives in the server-side session state, as in a browser
    pause = random.Random(user)  # reproducible think times, different per user
    for turn in range(turns):
        if think_s and turn:
            time.sleep(pause.uniform(0.5 * think_s, 1.5 * think_s))  # a person reads the answer before asking on
        elif think_s:
            time.sleep(pause.uniform(0, think_s))  # people do not all press Enter in the same instant
        drafting = draft_for is not None and turn == 3
        question = DRAFT.format(customer=draft_for) if drafting else CONVERSATION[turn % len(CONVERSATION)]
        began = time.perf_counter()
        try:
            history = client.predict(question, history, api_name="/chat")[0]
        except Exception as exc:
            errors.append(f"{user} turn {turn + 1}: {type(exc).__name__}: {exc}")
            continue
        (draft_latencies if drafting and draft_latencies is not None else latencies).append(time.perf_counter() - began)
        if os.environ.get("UI_LOAD_TRACE"):
            print(f"trace {user} {turn} {time.perf_counter() - began:.2f} {time.time():.1f}", file=sys.stderr)
        answer = history[-1]["content"] if history else ""
        text = answer if isinstance(answer, str) else str(answer)
        if "**Problem:**" in text or "Traceback" in text:
            errors.append(f"{user} turn {turn + 1}: {text[:200]}")


def warm_up(url: str, user: str, password: str) -> None:
    """One turn before the clock starts: the server loads its models on the first chat, as it does once after
    every start, not per user."""
    from gradio_client import Client

    Client(url, auth=(user, password), verbose=False, download_files=False).predict(
        CONVERSATION[0], [], api_name="/chat"
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path(".winback"))
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=24, help="requests the server works on at once")
    parser.add_argument(
        "--drafts",
        action="store_true",
        help="make each user's 4th turn an offer draft (uses the "
        "LLM server when one runs): other turns' latency shows whether drafting blocks them",
    )
    parser.add_argument(
        "--think-s",
        type=float,
        default=0.0,
        help="mean seconds a user reads an answer before the next question, and the spread of their first "
        "questions (0: every user asks at once and again at once, a stress test)",
    )
    parser.add_argument(
        "--no-warm-up",
        dest="warm_up",
        action="store_false",
        help="measure the server's first turn too (it loads the embedding model and the planner)",
    )
    args = parser.parse_args(argv)
    process, url, work, passwords = start_ui(args.data_dir.resolve(), args.users, args.concurrency)
    latencies: list[float] = []
    draft_latencies: list[float] = []
    errors: list[str] = []
    try:
        start = threading.Barrier(args.users)
        targets = draft_targets(work / "winback.db", args.users) if args.drafts else []
        threads = [
            threading.Thread(
                target=simulate,
                args=(
                    url,
                    u,
                    p,
                    args.turns,
                    latencies,
                    errors,
                    start,
                    targets[n] if n < len(targets) else None,
                    draft_latencies,
                    args.think_s,
                ),
            )
            for n, (u, p) in enumerate(passwords.items())
        ]
        if args.warm_up:
            warm_up(url, *next(iter(passwords.items())))
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - began
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    for e in errors[:20]:
        print("error:", e, file=sys.stderr)
    print(
        "| users | turns each | think s | concurrency | turns done | errors | p50 s | p95 s | max s | wall s | turns/s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    p50 = statistics.median(latencies) if latencies else float("nan")
    print(
        f"| {args.users} | {args.turns} | {args.think_s:g} | {args.concurrency} | {len(latencies) + len(draft_latencies)} | {len(errors)} | {p50:.2f} | "
        f"{percentile(latencies, 0.95) if latencies else float('nan'):.2f} | "
        f"{max(latencies) if latencies else float('nan'):.2f} | {wall:.1f} | {len(latencies) / wall:.2f} |"
    )
    if draft_latencies:
        print(
            f"\ndrafts: {len(draft_latencies)}, p50 {statistics.median(draft_latencies):.2f} s, "
            f"p95 {percentile(draft_latencies, 0.95):.2f} s (not in the table above)"
        )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
