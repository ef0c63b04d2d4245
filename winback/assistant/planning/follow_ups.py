"""Follow-ups that change one thing about the last answer: "and in Spain?", "what about gold?", "same for
last month", "only the critical ones", "and by segment?". The last planned call is kept in the
conversation state (so it survives a restart); a short question that only names new values re-runs that
call with those values changed, and nothing else."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from winback.assistant.intents import Intent
from winback.assistant.planning.lexicon import excluded_values, follow_up_lead, lexicon, members_asked
from winback.assistant.planning.metric_slots import (
    MetricSlots,
    _dimension_words,
    _direction,
    _filters,
    _group_by,
    _phrase,
    _window,
    _without_verbs,
    filter_args,
    is_bare_noun,
)
from winback.assistant.planning.slots import Slots, Vocabulary
from winback.data.metrics import Filter, Window, load_catalog
from winback.data.risk_bands import RISK_BANDS

BAND = re.compile(r"\b(" + "|".join(RISK_BANDS) + r")\b", re.IGNORECASE)
NEW_REQUEST = re.compile(rf"\b(?:{'|'.join(map(re.escape, lexicon()['follow_up']['new_request']))})\b", re.I)
BARE_YEAR = re.compile(r"\b(20\d\d)\b")
OF_THEM = re.compile(r"\b(?:of|among)\s+(?:them|those|these)\b", re.IGNORECASE)  # "how many of them are platinum"
WHICH = re.compile(r"^\s*(?:and\s+|so\s+)?(?:which|what)\b", re.IGNORECASE)  # "which topic came up most?"
MAX_WORDS = 12  # a follow-up changes one thing: "list the top 5 of those by revenue at risk"
FOLLOWS = {
    Intent.LIST_AT_RISK,
    Intent.METRIC_QUERY,
    Intent.CHURN_DRIVERS,
    Intent.SEGMENTS,
    Intent.COMPLAINT_THEMES,
    Intent.OFFER_POLICY,  # "and for platinum?": the same question for another segment
}


def _bands(text: str) -> list[str]:
    """Risk bands a follow-up names ("only the critical ones", "the high and critical ones")."""
    left_out = excluded_values(text, list(RISK_BANDS))  # "not critical"
    return [b for b in dict.fromkeys(b.lower() for b in BAND.findall(text)) if b not in left_out]


def follow_up(
    question: str,
    slots: Slots,
    metric: MetricSlots,
    last: dict[str, Any] | None,
    vocabulary: Vocabulary,
    today: date | datetime,
    listed: list[str] | None = None,
) -> tuple[str, str, dict[str, Any], str] | None:
    """(intent, tool, args, what changed) when the question only changes values of the last call.
    `listed`: the customers the last list showed ("how many of them are in Spain" counts among them)."""
    if not last or last.get("intent") not in FOLLOWS:
        return None
    among = _among(last, listed, slots, question) if listed and members_asked(question) else None
    if among is not None and not NEW_REQUEST.search(question):
        return among  # "how many of them are in Spain": counted among the listed; else a change of the list
    words = question.split()
    of_them = last["intent"] == Intent.METRIC_QUERY and OF_THEM.search(question) is not None
    regroup = last["intent"] == Intent.METRIC_QUERY and metric.measure is None and WHICH.search(question) is not None
    if len(words) > MAX_WORDS or not (follow_up_lead(question) or len(words) <= 3 or of_them or regroup):
        return None
    if (
        slots.customer_ids
        or slots.ordinal is not None
        or (slots.pronoun and not of_them)
        or NEW_REQUEST.search(question)
    ):
        return None
    if (
        metric.measure is not None
        and not (last["intent"] == Intent.LIST_AT_RISK and slots.sort)  # "top 5 of those by revenue at risk"
        and not (of_them and is_bare_noun(metric.measure_words))  # "how many of those were gold customers?"
        and not _only_a_noun(question, metric)
        and (last["intent"] != Intent.METRIC_QUERY or metric.measure.name != last["args"].get("measure"))
    ):
        return None  # it names another measure: a new question
    intent, tool, args = last["intent"], last["tool"], dict(last["args"])
    today_day = today.date() if isinstance(today, datetime) else today
    if intent == Intent.METRIC_QUERY:
        changed = _metric_changes(question, args, vocabulary, today_day)
    else:
        changed = _other_changes(question, intent, args, slots)
    if not changed:
        return None
    return intent, tool, args, "; ".join(changed)


def _metric_changes(question: str, args: dict[str, Any], vocabulary: Vocabulary, today: date) -> list[str]:
    """The last metric query changed in place (filters, window, grouping, the other end); what changed."""
    changed: list[str] = []
    bands = _bands(question)
    catalog = load_catalog()
    measure = catalog.measure(args["measure"])
    dimensions = catalog.dimensions_for(measure)
    values = {"segment": vocabulary.segments, "country": vocabulary.countries} | vocabulary.metric_values
    verbs = catalog.entity_of(measure).verbs
    new_filters = _filters(_without_verbs(question, verbs), dimensions, values, [], vocabulary.aliases)
    if bands and any(d.name == "risk_band" for d in dimensions):
        new_filters = [f for f in new_filters if f.dimension != "risk_band"]
        new_filters.append(Filter(dimension="risk_band", values=bands))
    filters = [f for f in args.get("filters", []) if f["dimension"] not in {n.dimension for n in new_filters}]
    filters += [filter_args(f) for f in new_filters]
    if new_filters:
        changed.append("filters " + ", ".join(f"{f.dimension}={'/'.join(f.values)}" for f in new_filters))
    args["filters"] = filters
    window = _window(question, today)
    if window is None and (year := BARE_YEAR.search(question)):
        window = (Window(kind="year", year=int(year.group(1))), year.group(0))
    if window:
        args["window"] = window[0].model_dump(mode="json", exclude_none=True)
        changed.append(f"window {window[1]!r}")
    groups = _group_by(question, dimensions)
    direction = _direction(question, measure)
    if not groups and args.get("group_by") and args.get("top_k") and direction and direction != args.get("sort"):
        args["sort"] = direction  # "and the best one?" after the worst city: the other end of the ranking
        changed.append(f"the other end ({direction})")
    if groups:
        args["group_by"] = groups
        args["filters"] = [f for f in args["filters"] if f["dimension"] not in groups]
        args.pop("sort", None)
        args.pop("top_k", None)
        changed.append("by " + ", ".join(groups))
        if direction:  # "which topic came up most?": the top group
            args["sort"] = direction
            if WHICH.search(question):
                args["top_k"] = 1
    return changed


def _other_changes(question: str, intent: str, args: dict[str, Any], slots: Slots) -> list[str]:
    """The last list, drivers, segments, themes or policy call changed in place; what changed."""
    changed: list[str] = []
    bands = _bands(question)
    for name, plural in (("segment", "segments"), ("country", "countries"), ("city", "cities")):
        if name not in _keys(intent):
            continue
        kept, left_out = getattr(slots, plural), getattr(slots, f"not_{plural}")
        if kept and (len(kept) == 1 or intent == Intent.LIST_AT_RISK):
            args[name] = kept[0] if len(kept) == 1 else kept
            args.pop("customer_id", None)  # the offer policy asked for a segment, no longer one customer
            changed.append(f"{name} {'/'.join(kept)}")
        if left_out and intent == Intent.LIST_AT_RISK:  # "leave out bronze": kept with the last filters
            args[f"not_{name}"] = list(dict.fromkeys([*args.get(f"not_{name}", []), *left_out]))
            if args.get(name) in left_out:
                args.pop(name)
            changed.append(f"{name} not {'/'.join(left_out)}")
    if bands and intent == Intent.LIST_AT_RISK:
        args["risk_bands"] = bands
        changed.append("risk bands " + "/".join(bands))
    if intent == Intent.LIST_AT_RISK:
        for key, value in (
            ("limit", slots.limit),
            ("sort", slots.sort),
            ("min_lifetime_value", slots.min_value),
            ("inactive_days", slots.inactive_days),
        ):
            if value is not None:
                args[key] = value
                changed.append(f"{key.replace('_', ' ')} {value}")
    if slots.since and "since" in _keys(intent):
        args["since"] = slots.since.isoformat()
        changed.append(f"since {slots.since}")
    if slots.group_by and intent == Intent.SEGMENTS:
        args["by"] = slots.group_by
        changed.append(f"by {slots.group_by}")
    return changed


def _among(
    last: dict[str, Any], listed: list[str], slots: Slots, question: str
) -> tuple[str, str, dict[str, Any], str] | None:
    """The last list's rows that also match what the question names: their number is the answer."""
    if last["intent"] != Intent.LIST_AT_RISK:
        return None
    args: dict[str, Any] = {"customer_ids": listed, "limit": len(listed), "population": "all"}
    args["sort"] = last["args"].get("sort") or "probability"
    named = {
        "segment": slots.segments or None,
        "country": slots.countries or None,
        "city": slots.cities or None,
        "not_segment": slots.not_segments or None,
        "not_country": slots.not_countries or None,
        "not_city": slots.not_cities or None,
        "risk_bands": _bands(question) or None,
        "marketing_opt_in": slots.marketing_opt_in,
        "min_lifetime_value": slots.min_value,
        "inactive_days": slots.inactive_days,
    }
    named = {k: v for k, v in named.items() if v is not None}
    if not named:
        return None
    what = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in named.items())
    return Intent.LIST_AT_RISK, last["tool"], args | named, f"among the {len(listed)} listed: {what}"


def _only_a_noun(question: str, metric: MetricSlots) -> bool:
    """The measure a follow-up seems to name is only the head of a filter or a group: "only for platinum
    customers", "only orders placed in the app" (a bare noun after a lead word), "and by sales channel?"
    (a word inside a dimension's name)."""
    assert metric.measure is not None
    if follow_up_lead(question) and is_bare_noun(metric.measure_words):
        return True
    words = metric.measure_words.lower()
    catalog = load_catalog()
    for phrases in _dimension_words(list(catalog.dimensions.values())).values():
        for phrase in phrases:
            if words in phrase.lower() and words != phrase.lower() and re.search(_phrase(phrase), question, re.I):
                return True
    return False


def _keys(intent: str) -> set[str]:
    return {
        Intent.LIST_AT_RISK: {"segment", "country", "city"},
        Intent.CHURN_DRIVERS: {"segment", "country"},
        Intent.SEGMENTS: {"segment", "country", "since"},
        Intent.COMPLAINT_THEMES: {"segment", "since"},
        Intent.OFFER_POLICY: {"segment"},
    }.get(intent, set())  # type: ignore[call-overload]  # Intent members are str
