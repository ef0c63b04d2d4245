"""The sealed test set stays unseen by the planner: no router example (what the embeddings are fitted to) is
a sealed question or nearly one. Adding a sealed phrasing to the examples fails here."""

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
