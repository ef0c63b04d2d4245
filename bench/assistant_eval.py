"""The assistant measured on evaluation sets kept as data (bench/sets/*.yaml, format in bench/eval_sets.py):
every turn is asked as its persona, in its conversation, and judged against its reference (SQL run on the
database at evaluation time) as users see it: correct, asked back, refused, or wrong.

    python -m bench.assistant_eval --data-dir D                       # every set, router+llm planner
    python -m bench.assistant_eval --data-dir D --sets sealed5 --planner router --out turns.json

Needs a seeded, scored and indexed demo (scripts/demo) and, for free SQL and drafting, the LLM server
(`winback llm serve`). The demo is copied first, so drafts and campaigns never touch it. Each run appends
one dated line per set to bench/results/assistant_eval.jsonl; README figures quote that file.

What counts (a wrong answer is worse than a question):
- correct: the check of the turn's kind passes (and, for `refuses`/`asks_back`, it refused / asked);
- asked back: the assistant asked a question instead of answering (for a turn that needed an answer);
- refused: it did not answer something it should have (a role refusal, "I only read your data", or every
  tool call failed: "I couldn't answer that with a query ...");
- wrong: anything else — an answer that does not match the reference: confidently wrong.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, text  # noqa: E402  (after the sys.path line)

from bench.data_copy import copy_data_dir  # noqa: E402
from bench.eval_sets import SETS, read_set  # noqa: E402

if TYPE_CHECKING:
    from winback.assistant.agent import Turn

RESULTS = ROOT / "bench" / "results" / "assistant_eval.jsonl"
ASKED_INTENTS = {"ask_clarifying_question", "confirm"}
# names a set's writer was given for two tools (the docs' older names): read as the registry's
TOOL_ALIASES = {"customer_profile": "get_customer_profile", "feedback_themes": "complaint_themes"}
REFUSAL_MARKS = ("I only read your data", "may not use", "can't see customers' personal details")
NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?")
CUSTOMER_ID = re.compile(r"\bC-\d+\b")


@dataclass
class Judged:
    set: str
    id: str
    persona: str
    expect: str
    question: str
    outcome: str  # correct / asked back / refused / wrong
    why: str
    tools: list[str]
    seconds: float
    trace: str
    answer: str


def numbers_in(line: str) -> list[tuple[float, int]]:
    """Each number written in the text with its count of decimals ("12,345.6" -> (12345.6, 1))."""
    found = []
    for token in NUMBER.findall(line):
        plain = token.replace(",", "")
        try:
            found.append((float(plain), len(plain.split(".")[1]) if "." in plain else 0))
        except ValueError:
            continue
    return found


def cell_shown(line: str, value: Any, record: dict[str, Any]) -> bool:
    """A reference cell on the answer's line: a number at some precision, a text as written ("delivery_delay")."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value).lower() in line.lower()
    return shows(line, number, record.get("unit"), record_decimals(record, value))


def record_decimals(record: dict[str, Any], value: Any) -> int | None:
    """How many decimals the reference itself rounds to (ROUND(x, 2) gives 52.95 for 52.949): None when unknown."""
    rounded = re.search(r"\bROUND\s*\(.*,\s*(\d)\s*\)", str(record.get("sql", "")), re.IGNORECASE | re.DOTALL)
    return int(rounded.group(1)) if rounded and isinstance(value, float) else None


def shows(line: str, value: float, unit: str | None, rounded_to: int | None = None) -> bool:
    """The value appears as written at some precision (12.346 as 12.3 or 12.35; a share also as 0.12). A
    reference rounded to `rounded_to` decimals stands for any value within half its last digit."""
    targets = [value] + ([value / 100] if unit == "percent" else [])
    slack = 0.5 * 10**-rounded_to if rounded_to is not None else 0.0
    for shown, decimals in numbers_in(line):
        for i, target in enumerate(targets):
            room = slack / (100 if i else 1)
            if abs(round(target, decimals) - shown) < 10 ** -(decimals + 3) and (decimals > 0 or abs(target) >= 10):
                return True
            if room and decimals > 0 and abs(target - shown) <= 0.5 * 10**-decimals + room:
                return True
            if decimals == 0 and abs(target - shown) < 0.5:
                return True
    return False


def answer_ids(turn: Turn) -> list[str]:
    """Customer ids in the order the answer shows them (the tools' own order)."""
    shown = [c for c in turn.customer_ids if c in turn.answer]
    return shown or list(dict.fromkeys(CUSTOMER_ID.findall(turn.answer)))


def check(record: dict[str, Any], turn: Turn, engine: Engine, today: str) -> str | None:
    """None when the answer matches the reference, else why not."""
    kind = record["expect"]
    rows: list[tuple[Any, ...]] = []
    if record.get("sql"):
        with engine.connect() as connection:
            rows = [tuple(r) for r in connection.execute(text(record["sql"]), {"today": today})]
    if kind in ("ids_ordered", "ids"):
        want, got = [str(r[0]) for r in rows], answer_ids(turn)
        same = got == want if kind == "ids_ordered" else set(got) == set(want)
        return None if same else f"ids {got[:8]} != {want[:8]}"
    if kind == "number":
        value = rows[0][0] if rows else None
        if value is None:
            return "the reference returned nothing"
        return None if cell_shown(turn.answer, value, record) else f"{value} not in the answer"
    if kind == "rows":
        lines = turn.answer.splitlines()
        for label, value, *_ in rows:
            if value is None:
                continue
            if not any(str(label).lower() in line.lower() and cell_shown(line, value, record) for line in lines):
                return f"row {label!r} = {value} not shown"
        return None
    if kind == "tool":  # any one of the tools named answers the turn (the set's brief says so)
        ok = [c for c in turn.tool_calls if c.ok]
        named = [TOOL_ALIASES.get(t, t) for t in record["tools"]]
        if not any(t in {c.name for c in ok} for t in named):
            return f"tools {[c.name for c in turn.tool_calls]} lack any of {named}"
        wanted = dict(record.get("args") or {})
        if rows:  # the reference names the customer the call must be about ("the 3rd one")
            wanted["customer_id"] = rows[0][0]
        for key, want in wanted.items():
            if not any(str(c.args.get(key, "")).lower() == str(want).lower() for c in ok if c.name in named):
                return f"no call with {key}={want}"
        absent = [m for m in record.get("mentions") or [] if str(m).lower() not in turn.answer.lower()]
        return f"does not mention {absent}" if absent else None
    return None  # asks_back / refuses are judged by judge()


def judge(record: dict[str, Any], turn: Turn, engine: Engine, today: str) -> tuple[str, str]:
    asked = turn.intent in ASKED_INTENTS
    refused = any(mark in turn.answer for mark in REFUSAL_MARKS) or any(
        not c.ok and REFUSAL_MARKS[1] in c.result.summary for c in turn.tool_calls
    )
    if record["expect"] == "asks_back":
        return ("correct", "") if asked else ("refused" if refused else "wrong", "answered instead of asking")
    if record["expect"] == "refuses":
        return ("correct", "") if refused else ("asked back" if asked else "wrong", "did not refuse")
    try:
        why = check(record, turn, engine, today)
    except Exception as exc:  # a reference that fails is the set's problem: reported, never counted correct
        return "wrong", f"reference failed: {type(exc).__name__}: {exc}"
    if why is None:
        return "correct", ""
    if asked:
        return "asked back", why
    unanswered = bool(turn.tool_calls) and not any(c.ok for c in turn.tool_calls)  # "I couldn't answer that"
    return ("refused" if refused or unanswered else "wrong"), why


def run_set(path: Path, data_dir: Path, planner: str, verbose: bool) -> list[Judged]:
    from winback.assistant import Assistant
    from winback.config import Settings
    from winback.data.db import make_engine
    from winback.data.migrate import upgrade

    header, turns = read_set(path)
    work = copy_data_dir(data_dir, "winback-eval-")
    try:
        settings = Settings(data_dir=work, chroma=str(data_dir / "chroma"))
        engine = make_engine(settings=settings)
        upgrade(engine)
        assistant = Assistant(settings, planner=planner)
        today = f"{assistant.today():%Y-%m-%d}"
        assistant.ask("hello", role="manager", remember=False)  # loads the models once: not a turn's time
        sessions: dict[str, str | None] = {}
        judged = []
        for record in turns:
            key = str(record.get("session") or record["id"])
            started = time.perf_counter()
            turn = assistant.ask(record["question"], sessions.get(key), role=record["persona"], user="eval")
            seconds = time.perf_counter() - started
            sessions[key] = turn.session_id
            outcome, why = judge(record, turn, engine, today)
            judged.append(
                Judged(
                    str(header.get("set", path.stem)),
                    record["id"],
                    record["persona"],
                    record["expect"],
                    record["question"],
                    outcome,
                    why,
                    [c.name for c in turn.tool_calls],
                    round(seconds, 2),
                    turn.planner_detail,
                    turn.answer[:2000],
                )
            )
            if verbose:
                print(f"  {outcome:10} {record['id']} {seconds:5.1f} s {why[:100]}", file=sys.stderr)
        return judged
    finally:
        shutil.rmtree(work, ignore_errors=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))] if ordered else float("nan")


def summary(label: str, judged: list[Judged], planner: str) -> dict[str, Any]:
    n = len(judged)
    counts = {o: sum(j.outcome == o for j in judged) for o in ("correct", "asked back", "refused", "wrong")}
    seconds = [j.seconds for j in judged]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "winback"], cwd=ROOT, capture_output=True, text=True)
    return {
        "date": f"{date.today():%Y-%m-%d}",
        "commit": commit.stdout.strip() + ("+uncommitted" if dirty.stdout.strip() else ""),
        "set": label,
        "planner": planner,
        "turns": n,
        **{k: v for k, v in counts.items()},
        "median_s": round(percentile(seconds, 0.5), 2),
        "p95_s": round(percentile(seconds, 0.95), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--sets", nargs="*", default=None, help="set names (file stems); default every set")
    parser.add_argument("--planner", default="router+llm", choices=["router", "router+llm", "llm", "auto"])
    parser.add_argument("--out", type=Path, default=None, help="write every judged turn here (JSON)")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/results/")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    paths = [p for p in sorted(SETS.glob("*.yaml")) if not args.sets or p.stem in args.sets]
    rows, everything = [], []
    for path in paths:
        header, _ = read_set(path)
        judged = run_set(path, args.data_dir.resolve(), args.planner, args.verbose)
        everything += judged
        rows.append(summary(f"{header.get('set', path.stem)} ({header['label']})", judged, args.planner))
    print("| set | planner | turns | correct | asked back | refused | wrong | median s | p95 s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        n = r["turns"]
        share = {k: f"{r[k]} ({r[k] / n:.0%})" for k in ("correct", "asked back", "refused", "wrong")}
        print(
            f"| {r['set']} | {r['planner']} | {n} | {share['correct']} | {share['asked back']} | "
            f"{share['refused']} | {share['wrong']} | {r['median_s']} | {r['p95_s']} |"
        )
    if not args.no_record:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS.open("a", encoding="utf-8") as log:
            for r in rows:
                log.write(json.dumps(r) + "\n")
    if args.out:
        args.out.write_text(json.dumps([asdict(j) for j in everything], indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
