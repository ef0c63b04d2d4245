"""Evaluation sets as data: bench/sets/<name>.yaml, one record per turn (docs/testing.md, "Evaluation sets").

A set says its `label`: `dev` (the team tunes on it) or `sealed` (written by someone who has not read the
planning code, measured only). Each turn: id, persona (the role it asks as), session (turns sharing one run
in order, in one conversation), question, `expect` (a check kind, below) with its reference `sql` (run on the
database at evaluation time, `:today` bound to the data's own today) or `tools`/`args`/`mentions`, and a
`note` in words. Optional: `intent`, the intent a correct plan has (for bench/intent_model.py).

Check kinds: ids_ordered, ids, number, rows, tool (any one of `tools` called, about the customer the
reference SQL names, if any), asks_back, refuses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SETS = Path(__file__).resolve().parent / "sets"
KINDS = {"ids_ordered", "ids", "number", "rows", "tool", "asks_back", "refuses"}
PERSONAS = {"cs_staff", "support_agent", "manager", "admin"}


class SetError(ValueError):
    pass


def read_set(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The set's header and its turns, checked: a malformed record names its file and id."""
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(spec, dict) or not isinstance(spec.get("turns"), list):
        raise SetError(f"{path.name}: expected a mapping with a list of turns")
    if spec.get("label") not in ("dev", "sealed"):
        raise SetError(f"{path.name}: label must be dev or sealed")
    seen: set[str] = set()
    for turn in spec["turns"]:
        where = f"{path.name} {turn.get('id', '?')}"
        if not turn.get("id") or turn["id"] in seen:
            raise SetError(f"{where}: every turn needs a unique id")
        seen.add(turn["id"])
        if turn.get("persona") not in PERSONAS:
            raise SetError(f"{where}: persona must be one of {sorted(PERSONAS)}")
        if turn.get("expect") not in KINDS:
            raise SetError(f"{where}: expect must be one of {sorted(KINDS)}")
        if turn["expect"] in ("ids_ordered", "ids", "number", "rows") and not turn.get("sql"):
            raise SetError(f"{where}: expect {turn['expect']} needs reference sql")
        if turn["expect"] == "tool" and not turn.get("tools"):
            raise SetError(f"{where}: expect tool needs tools")
        if not str(turn.get("question", "")).strip():
            raise SetError(f"{where}: no question")
    header = {k: v for k, v in spec.items() if k != "turns"}
    return header, list(spec["turns"])


def load_sets(names: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """{"<set> (<label>)": turns} for every set (or the named ones), in file-name order."""
    found = {}
    for path in sorted(SETS.glob("*.yaml")):
        if names and path.stem not in names:
            continue
        header, turns = read_set(path)
        found[f"{header.get('set', path.stem)} ({header['label']})"] = turns
    return found
