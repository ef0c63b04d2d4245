"""Code owns the facts of a model-filled metric query: the model may choose the measure and how to group,
but a filter value, a time window or a cut to the top k groups must come from the question (or from what
the rules read in it). A small model otherwise copies enum values from the schema ("risk band high,
critical, last 12 months, top 1" for a question that names none of them), and that figure would be wrong.
Ungrounded sort and top-k are dropped; an ungrounded filter or window rejects the query."""

from __future__ import annotations

import re
from typing import Any

from winback.assistant.planning.metric_slots import HIGHEST, LOWEST, MONTHS, MetricSlots
from winback.data.metrics import MetricQuery

TIME_WORDS = re.compile(
    rf"\b(days?|weeks?|months?|years?|quarters?|q[1-4]|since|ago|today|yesterday|recent(?:ly)?|{MONTHS}|20\d\d)\b",
    re.IGNORECASE,
)
NUMBER = re.compile(r"\b\d+\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twenty)\b", re.IGNORECASE)


def _said(value: str, question: str) -> bool:
    words = re.escape(value.lower()).replace("_", "[ _-]?").replace(r"\ ", "[ _-]?")
    return re.search(rf"\b{words}", question.lower()) is not None


def grounded_query(query: MetricQuery, question: str, rules: MetricSlots | None) -> tuple[dict[str, Any] | None, str]:
    """The query's arguments with ungrounded cuts removed, or None and why it cannot stand."""
    read = (rules.args if rules is not None else {}) or {}
    read_values = {str(v).lower() for f in read.get("filters", []) for v in f.get("values", [])}
    for rule in query.filters:
        missing = [v for v in rule.values if v.lower() not in read_values and not _said(v, question)]
        if missing:
            return None, f"filter {rule.dimension} = {', '.join(missing)} is not in the question"
    if query.window.kind != "all" and not read.get("window") and not TIME_WORDS.search(question):
        return None, f"window {query.window.kind} is not in the question"
    args = query.model_dump(mode="json", exclude_defaults=True)
    superlative = HIGHEST.search(question) or LOWEST.search(question)
    cut_said = read.get("top_k") or (superlative and query.top_k == 1) or NUMBER.search(question)
    if query.top_k is not None and not cut_said:
        args.pop("top_k", None)
    if query.sort is not None and not read.get("sort") and not superlative:
        args.pop("sort", None)
    return args, ""
