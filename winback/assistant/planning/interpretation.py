"""What the assistant understood, said first and in plain words (prompts/interpretations.v1.toml): the
filters, window, population and ranking of every call it makes, so a misread is seen at a glance. Built
from the planned calls' arguments (what will run), never from the question's words."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from typing import Any

from winback.data.metrics import load_catalog
from winback.data.metrics.query import Window
from winback.data.metrics.windows import window_words
from winback.prompts import load_prompt

INTERPRETATIONS_FILE = "interpretations.v1.toml"


@lru_cache(maxsize=1)
def phrases() -> dict[str, Any]:
    return tomllib.loads(load_prompt(INTERPRETATIONS_FILE))


def _value(tool: dict[str, Any], name: str, value: Any, joined: str) -> str:
    words = tool.get("values", {}).get(name, {})
    if isinstance(value, list):
        shown = [str(words.get(str(v), v)) for v in value]
        return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} {joined} {shown[-1]}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1000:
        return f"{value:,}"
    return str(words.get(str(value), value))


def describe_call(name: str, args: dict[str, Any]) -> str:
    """One call in words: its head, then each argument's phrase."""
    spec = phrases()
    if name == "metric_query":
        return describe_metric(args)
    tool = spec["tools"].get(name)
    if tool is None:
        return name.replace("_", " ")
    shown = {**tool.get("shown_defaults", {}), **{k: v for k, v in args.items() if v not in (None, [], "")}}
    defaults = tool.get("defaults", {})
    fill = {k: _value(tool, k, v, "or") for k, v in {**defaults, **shown}.items()}
    head = tool["head"].format_map(_Missing(fill))
    parts = []
    for key, phrase in tool.get("args", {}).items():
        if key in shown and f"{{{key}}}" not in tool["head"]:
            joined = "and" if key in spec["and_lists"] else "or"
            parts.append(phrase.replace("{value}", _value(tool, key, shown[key], joined)))
    return spec["separator"].join([head, *parts])


def describe_metric(args: dict[str, Any]) -> str:
    """A governed measure in words: measure, grouping, filters, window (its dates follow in the answer)."""
    catalog = load_catalog()
    separator = phrases()["separator"]
    try:
        label = catalog.measure(args["measure"]).label
    except (KeyError, ValueError):
        label = str(args.get("measure", "a measure")).replace("_", " ")
    parts = [label]
    if args.get("group_by"):
        parts.append("by " + " and ".join(str(g).replace("_", " ") for g in args["group_by"]))
    for flt in args.get("filters") or []:
        dimension = str(flt.get("dimension", "")).replace("_", " ")
        joined = " and " if flt.get("exclude") else " or "
        values = joined.join(str(v) for v in flt.get("values", []))
        parts.append(f"{dimension} {'not ' if flt.get('exclude') else ''}{values}")
    window = args.get("window") or {"kind": "all"}
    try:
        parts.append(window_words(Window.model_validate(window)))
    except ValueError:
        parts.append(str(window.get("kind", "")))
    if args.get("top_k"):
        parts.append(f"the top {args['top_k']}")
    return separator.join(parts)


def understood(calls: list[tuple[str, dict[str, Any]]], unused: list[str] | None = None) -> str:
    """The line an answer starts with ("" when nothing is called); words of the question nothing used
    are said too, so a reading that dropped one is seen."""
    if not calls:
        return ""
    described = list(dict.fromkeys(describe_call(name, args) for name, args in calls))
    left = f" (not used: {', '.join(repr(w) for w in unused[:6])})" if unused else ""
    return f"_{phrases()['lead']} {'; '.join(described)}{left}_"


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"
