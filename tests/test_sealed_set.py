"""The sealed test sets stay unseen by the planner: no router example, no phrasing frame and no example the
intent model is trained on (the expanded bank) is a sealed question or nearly one. Adding a sealed
phrasing to the planning data fails here."""

from __future__ import annotations

import ast
import difflib
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEALED = ROOT / "bench" / "agent_eval_sealed4.py"
EXAMPLES = ROOT / "winback" / "prompts" / "router_intents.v1.toml"
NEAR = 0.9  # similarity (difflib ratio on lower-cased words) at which two questions count as the same


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def sealed_questions() -> list[str]:
    """The question argument of every Step(...), one(...), metric(...) and analytics(...)."""
    found = []
    for node in ast.walk(ast.parse(SEALED.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        position = {"Step": 0, "one": 2, "metric": 1, "analytics": 0}.get(node.func.id)
        if position is not None and len(node.args) > position:
            text = _text(node.args[position])
            if text:
                found.append(text)
    return found


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9{}]+", text.lower()))


def test_no_router_example_is_a_sealed_question() -> None:
    questions = sealed_questions()
    assert len(questions) >= 120  # the parse found the set (a check that finds nothing cannot fail)
    spec = tomllib.loads(EXAMPLES.read_text(encoding="utf-8"))
    examples = [e for intent in spec["intents"].values() for e in intent.get("examples", [])]
    near = [
        (q, e) for q in questions for e in examples if difflib.SequenceMatcher(None, _norm(q), _norm(e)).ratio() >= NEAR
    ]
    assert not near, near


def yaml_sealed_questions() -> list[str]:
    from bench.eval_sets import SETS, read_set

    found = []
    for path in sorted(SETS.glob("*.yaml")):
        header, turns = read_set(path)
        if header["label"] == "sealed":
            found += [str(t["question"]) for t in turns]
    return found


def test_no_frame_or_example_is_a_sealed_question() -> None:
    """The planning data as written: every hand-written example and every phrasing frame (its slots as
    written, "{segment}"). Not the frames' expansions: a short frame filled with common values comes near
    short questions by construction ("why is {subject} at risk"), and the frame itself is what a person wrote."""
    from winback.assistant.planning.intent_model import bank_spec

    questions = [_norm(q) for q in yaml_sealed_questions()]
    assert len(questions) >= 60  # the data-file sealed set(s) were found
    frames, examples = bank_spec()
    texts = [e for i in examples["intents"].values() for e in i.get("examples", [])]
    texts += [f for i in frames["intents"].values() for f in i["frames"]]
    near = []
    for text in {_norm(t) for t in texts}:
        matcher = difflib.SequenceMatcher(None)
        matcher.set_seq2(text)  # the cached side; each question is compared against it
        for q in questions:
            matcher.set_seq1(q)
            if matcher.real_quick_ratio() >= NEAR and matcher.quick_ratio() >= NEAR and matcher.ratio() >= NEAR:
                near.append(text)
    assert not near, f"planning data near a sealed question: {near}"  # names the data, not the question
