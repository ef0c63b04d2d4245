"""Step 4 of planning: the chosen intent's tool calls, with arguments from slots and the conversation
(code fills the arguments, whoever chose the intent); a clarifying question when a needed customer
cannot be resolved."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from winback.assistant.intents import Intent
from winback.assistant.memory import ConversationState
from winback.assistant.planning.candidates import IntentScores, load_intents
from winback.assistant.planning.lexicon import asks_one_value, refers_back
from winback.assistant.planning.metric_slots import MONTHS, MetricSlots
from winback.assistant.planning.slots import Slots
from winback.data.metrics import load_catalog

NEEDS_CUSTOMER = {Intent.CUSTOMER_PROFILE, Intent.EXPLAIN_RISK, Intent.CUSTOMER_FEEDBACK, Intent.DRAFT_OFFER}
MAX_CUSTOMERS_PER_TURN = 5
RESPOND = Intent.RESPOND
CLARIFY = Intent.CLARIFY
CONFIRM = "confirm"  # the plan states its reading and asks before running it (pipeline.py)
CHANGE_REFUSAL = (
    "I only read your data: I can't delete, change or add records, and no statement that writes runs from here. "
    'Ask me to show or count what you had in mind instead (e.g. "how many cancelled orders last month?"); '
    "changes to customers and orders go through your shop system or `winback import`."
)
TOTAL_WORDS = re.compile(
    r"\b(in total|overall|altogether|all customers|whole (?:customer )?base|entire (?:customer )?base|"
    r"company-wide|across all)\b",
    re.IGNORECASE,
)


@dataclass
class PlannedCall:
    tool: str
    args: dict[str, Any]


@dataclass
class Plan:
    """What to do this turn: tool calls, or a reply (help / a clarifying question) without one."""

    intent: str
    calls: list[PlannedCall] = field(default_factory=list)
    reply: str | None = None  # for respond / clarify
    reason: str = ""
    rule: str = ""  # set when a rule decided the plan outright (no scoring, no model): the trace says which
    scores: IntentScores | None = None
    slots: Slots | None = None
    metric: MetricSlots | None = None
    trace: list[str] = field(default_factory=list)  # the planning steps, in order (pipeline.py)
    decided_by: str = "rules"  # "rule" (decided outright), "rules" or "model"
    unexplained: list[str] = field(default_factory=list)  # the question's words nothing accounted for
    readings: list[Plan] = field(default_factory=list)  # for CONFIRM: the readings offered, most likely first


def _one_or_list(values: list[str]) -> str | list[str] | None:
    return values[0] if len(values) == 1 else (values or None)


def _day(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _datetime(day: date | None) -> str | None:
    return datetime.combine(day, time.min).isoformat() if day else None


def resolve_customers(slots: Slots, state: ConversationState, intent: str, implicit: bool) -> tuple[list[str], str]:
    """Customer ids for this turn and where they came from: named, an ordinal over the last list, a
    pronoun (or nothing, when `implicit`) for the conversation's current customer."""
    if slots.customer_ids:
        return slots.customer_ids[:MAX_CUSTOMERS_PER_TURN], "named in the question"
    if slots.ordinal is not None and state.customer_ids:
        index = slots.ordinal - 1 if slots.ordinal > 0 else len(state.customer_ids) - 1
        if 0 <= index < len(state.customer_ids):
            return [state.customer_ids[index]], f"number {index + 1} of the last list"
        return [], f"the last list has {len(state.customer_ids)} customers"
    if (slots.pronoun or implicit) and state.focus:
        return [state.focus], "the customer this conversation is about"
    return [], ""


LIST_FILTERS = {  # an at-risk list's arguments as the metrics layer's filters: (dimension, exclude)
    "segment": ("segment", False),
    "country": ("country", False),
    "city": ("city", False),
    "risk_bands": ("risk_band", False),
    "not_segment": ("segment", True),
    "not_country": ("country", True),
    "not_city": ("city", True),
}


def carried_filters(args: dict[str, Any], last: dict[str, Any]) -> list[dict[str, Any]]:
    """This query's filters plus the last answer's on dimensions it does not name itself and the measure has."""
    catalog = load_catalog()
    has = {d.name for d in catalog.dimensions_for(catalog.measure(args["measure"]))}
    own = list(args.get("filters") or [])
    if last.get("intent") == Intent.METRIC_QUERY:
        earlier = list(last["args"].get("filters") or [])
    elif last.get("intent") == Intent.LIST_AT_RISK:
        earlier = [
            {"dimension": dimension, "values": value if isinstance(value, list) else [value], "exclude": exclude}
            for key, (dimension, exclude) in LIST_FILTERS.items()
            if (value := last["args"].get(key))
        ]
    else:
        earlier = []
    named = {f["dimension"] for f in own}
    return own + [f for f in earlier if f["dimension"] in has and f["dimension"] not in named]


def build_plan(
    intent: str, question: str, slots: Slots, state: ConversationState, metric: MetricSlots | None = None
) -> Plan:
    """Arguments for the intent's tool, from slots and the conversation; a clarifying question when a
    needed customer cannot be resolved."""
    if intent == Intent.METRIC_QUERY and (metric is None or metric.measure is None):
        intent = Intent.SQL_QUESTION  # the layer has no measure for it: free SQL (where the role allows)
    if intent == Intent.CHANGE_DATA:
        return Plan(RESPOND, reply=CHANGE_REFUSAL, rule="a request to change data, refused", slots=slots, metric=metric)
    plan = Plan(intent, slots=slots, metric=metric)
    tool = load_intents().tools.get(intent, "")
    if intent == RESPOND or not tool:
        plan.intent = RESPOND
        return plan
    needs = intent in NEEDS_CUSTOMER
    customers, source = resolve_customers(slots, state, intent, implicit=needs)
    if needs and not customers:
        plan.intent = CLARIFY
        plan.reply = (
            f"Which customer do you mean? {source.capitalize() + '. ' if source else ''}"
            'Name an id such as C-1042, or ask for a list first (e.g. "who is most likely to churn?").'
        )
        return plan
    plan.reason = f"customer {', '.join(customers)} ({source})" if customers else ""
    if intent == Intent.LIST_AT_RISK:
        args: dict[str, Any] = {
            "limit": slots.limit or 10,
            "segment": _one_or_list(slots.segments),
            "country": _one_or_list(slots.countries),
            "city": _one_or_list(slots.cities),
            "not_segment": slots.not_segments or None,
            "not_country": slots.not_countries or None,
            "not_city": slots.not_cities or None,
            "risk_bands": slots.risk_bands or None,
            "min_lifetime_value": slots.min_value,
            "marketing_opt_in": slots.marketing_opt_in,
            "inactive_days": slots.inactive_days,
            "sort": slots.sort,
            "population": slots.population,
        }
        plan.calls = [PlannedCall(tool, args)]
    elif intent in (Intent.CUSTOMER_PROFILE, Intent.EXPLAIN_RISK):
        plan.calls = [PlannedCall(tool, {"customer_id": c}) for c in customers]
    elif intent == Intent.CUSTOMER_FEEDBACK:
        plan.calls = [PlannedCall(tool, {"customer_id": c, "kind": slots.kind}) for c in customers]
    elif intent == Intent.DRAFT_OFFER:
        plan.calls = [
            PlannedCall(
                tool, {"customer_id": c, "channel": slots.channel, "tone": slots.tone, "language": slots.language}
            )
            for c in customers[:1]
        ]
    elif intent == Intent.SEARCH_FEEDBACK:
        plan.calls = [
            PlannedCall(
                tool,
                {
                    "query": question,
                    "customer_id": customers[0] if slots.customer_ids else None,
                    "kind": slots.kind,
                    "max_rating": slots.max_rating,
                    "since": slots.since.isoformat() if slots.since else None,
                    "segment": slots.segment,
                    "risk_band": slots.risk_bands[0] if len(slots.risk_bands) == 1 else None,
                },
            )
        ]
    elif intent == Intent.COMPLAINT_THEMES:
        plan.calls = [
            PlannedCall(
                tool,
                {
                    "kind": slots.kind or "review",
                    "max_rating": slots.max_rating,
                    "since": slots.since.isoformat() if slots.since else None,
                    "segment": slots.segment,
                    "risk_band": slots.risk_bands[0] if len(slots.risk_bands) == 1 else None,
                },
            )
        ]
    elif intent == Intent.CHURN_DRIVERS:
        plan.calls = [PlannedCall(tool, {"segment": slots.segment, "country": slots.country})]
    elif intent == Intent.SEGMENTS:
        by = slots.group_by or ("all" if TOTAL_WORDS.search(question) else "segment")
        plan.calls = [
            PlannedCall(
                tool,
                {
                    "by": by,
                    "segment": slots.segment if by != "segment" else None,
                    "country": slots.country if by != "country" else None,
                    "since": _datetime(slots.since),
                },
            )
        ]
    elif intent == Intent.METRIC_QUERY:
        assert metric is not None
        args = dict(metric.args)
        if refers_back(question) and state.last_call:  # "... in that group?": the last answer's filters
            args["filters"] = carried_filters(args, state.last_call)
        plan.calls = [PlannedCall(tool, args)]
        if metric.other_window:  # two windows compared: the same query for each, side by side
            plan.calls.append(PlannedCall(tool, {**args, "window": metric.other_window}))
        plan.reason = "; ".join(metric.found)
    elif intent == Intent.SQL_QUESTION:
        span = metric.span if metric is not None else None
        args = {"question": question, "one_value": asks_one_value(question) or None}
        if span is not None:
            args |= {"window_words": span[0], "window_start": _day(span[1]), "window_end": _day(span[2])}
        plan.calls = [PlannedCall(tool, args)]
    elif intent == Intent.OFFER_POLICY:
        args = {
            "customer_id": customers[0] if customers else None,
            "segment": None if customers else slots.segment,
            "requested_percent": slots.percent,
        }
        plan.calls = [PlannedCall(tool, args)]
    elif intent == Intent.OFFER_HISTORY:
        plan.calls = [
            PlannedCall(tool, {"customer_id": customers[0] if customers else None, "since": _datetime(slots.since)})
        ]
    elif intent == Intent.START_CAMPAIGN:
        args = {
            "segment": slots.segment,
            "country": slots.country,
            "risk_bands": slots.risk_bands or None,
            "top": slots.limit,
            "rank": "revenue_at_risk" if slots.sort == "revenue_at_risk" else None,
        }
        plan.calls = [PlannedCall(tool, args)]
    elif intent == Intent.RISK_CHANGES:
        plan.calls = [PlannedCall(tool, {"min_value": slots.min_value, "limit": slots.limit})]
    elif intent == Intent.CAMPAIGN_REPORT:
        plan.calls = [PlannedCall(tool, {"campaign": campaign_words(question)})]
    for call in plan.calls:
        call.args = {k: v for k, v in call.args.items() if v is not None}
    return plan


MONTH_WORDS = re.compile(r"\b(" + MONTHS + r")\b", re.IGNORECASE)
# a campaign's name after "campaign": quoted, or a token that looks like a name (a digit, "-" or "_" in it),
# so "campaign paid off" is not read as a campaign called "paid"
NAMED_CAMPAIGN = re.compile(
    r"\bcampaign\s+(?:[\"'“‘]([^\"'”’]{1,64})[\"'”’]|([A-Za-z0-9]*[-_0-9][\w.-]*[A-Za-z0-9]))", re.IGNORECASE
)


def campaign_words(question: str) -> str | None:
    """Which campaign a question means: a month ("the October campaign") or a name after "campaign"."""
    for month in MONTH_WORDS.finditer(question):
        if month.group(1) != "may":  # "may" in lower case is the verb (calendar names are capitalised)
            return month.group(1).lower()
    named = NAMED_CAMPAIGN.search(question)
    return (named.group(1) or named.group(2)).strip() if named else None
