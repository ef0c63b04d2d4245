"""The router: intent from embeddings over example utterances (MiniLM, prompts/router_intents.v1.toml),
arguments from deterministic slots and the conversation. It plans every lookup on its own, so lookups
work with no LLM at all; with the embedded model it is the planner and the model only breaks close ties."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any

import numpy as np

from winback.assistant.customer_ids import read_ids
from winback.assistant.follow_ups import follow_up
from winback.assistant.intents import Intent
from winback.assistant.memory import ConversationState
from winback.assistant.metric_slots import MetricSlots, asks_for_measure, parse_metric
from winback.assistant.slots import Slots, Vocabulary, parse_slots
from winback.prompts import load_prompt
from winback.tools.sql_query import LOOKS_LIKE_SQL

INTENTS_FILE = "router_intents.v1.toml"
NEEDS_CUSTOMER = {Intent.CUSTOMER_PROFILE, Intent.EXPLAIN_RISK, Intent.CUSTOMER_FEEDBACK, Intent.DRAFT_OFFER}
MAX_CUSTOMERS_PER_TURN = 5
RESPOND = Intent.RESPOND
CLARIFY = Intent.CLARIFY
DRAFT_WORDS = re.compile(
    r"\b(draft|write|compose|prepare|send)\b.*\b(offer|message|e-?mail|sms|win-?back|note)\b", re.IGNORECASE
)
TOTAL_WORDS = re.compile(
    r"\b(in total|overall|altogether|all customers|whole (?:customer )?base|entire (?:customer )?base|"
    r"company-wide|across all)\b",
    re.IGNORECASE,
)
SEARCH_WORDS = re.compile(r"\b(find|search|look for|looking for|mentioning|that mention)\b", re.IGNORECASE)
QUANTITY_WORDS = re.compile(
    r"^\s*(how many|how much|what is the (?:average|total|median|share|number|percentage)|"
    r"what's the (?:average|total|median|share|number)|average|total number|count|median|"
    r"what (?:share|percentage|fraction))\b",
    re.IGNORECASE,
)
WHY_WORDS = re.compile(r"\b(why|how come|what makes|reasons?|explain)\b", re.IGNORECASE)
RISK_WORDS = re.compile(
    r"\b(why|risk\w*|churn\w*|leav\w*|likely|score\w*|probab\w*|reasons?|driv\w*|stop\w*|"
    r"los\w*|quit\w*|cancel\w*|explain\w*)\b",
    re.IGNORECASE,
)
WHO_WORDS = re.compile(
    r"^\s*(who|whom|which (?:\d+ )?(?:customers|clients|shoppers|people|accounts|ones))\b", re.IGNORECASE
)
CHANGE_REQUEST = re.compile(
    r"\b(?:delete\s+from|drop\s+(?:table|database|schema|view|index|role|user)|truncate\s+(?:table\s+)?\w+|"
    r"update\s+\w+\s+set|insert\s+(?:or\s+\w+\s+)?into|replace\s+into|alter\s+(?:table|role|user|database)|"
    r"create\s+(?:or\s+replace\s+)?(?:temp\w*\s+)?(?:table|index|view|role|user|database|trigger|function)|"
    r"grant\s+\w+|revoke\s+\w+|attach\s+database|pragma\s+\w+|vacuum\b)"
    r"|^\s*(?:please\s+|can you\s+|could you\s+)?(?:delete|remove|erase|wipe|purge)\s+(?:all\s+|every\s+|the\s+)?"
    r"(?:[\w-]+\s+){0,3}?(?:customers?|orders?|reviews?|tickets?|offers?|records?|rows?|data|tables?|scores?)\b"
    r"|^\s*(?:please\s+|can you\s+|could you\s+)?(?:change|set|modify|edit|update)\s+(?:the\s+)?(?:[\w-]+\s+){0,3}?"
    r"(?:of|for)\s+\S+\s+to\b",
    re.IGNORECASE,
)
CHANGE_REFUSAL = (
    "I only read your data: I can't delete, change or add records, and no statement that writes runs from here. "
    'Ask me to show or count what you had in mind instead (e.g. "how many cancelled orders last month?"); '
    "changes to customers and orders go through your shop system or `winback import`."
)
CUSTOMER_LIST = re.compile(
    r"\b(?:list|rank|show(?: me)?|give me|top \d+|which)\s+(?:the\s+)?(?:[\w-]+\s+){0,3}?(?:customers|clients|people|accounts)\b",
    re.IGNORECASE,
)
GROUP_INTENTS = {Intent.CHURN_DRIVERS, Intent.SEGMENTS, Intent.COMPLAINT_THEMES}
TEXT_INTENTS = {Intent.COMPLAINT_THEMES, Intent.SEARCH_FEEDBACK, Intent.CUSTOMER_FEEDBACK}
GROUP_TO_CUSTOMER: dict[str, Intent] = {
    Intent.CHURN_DRIVERS: Intent.EXPLAIN_RISK,
    Intent.COMPLAINT_THEMES: Intent.CUSTOMER_FEEDBACK,
    Intent.SEARCH_FEEDBACK: Intent.CUSTOMER_FEEDBACK,
    Intent.LIST_AT_RISK: Intent.CUSTOMER_PROFILE,
    Intent.SEGMENTS: Intent.CUSTOMER_PROFILE,
}


@dataclass
class IntentScores:
    ranked: list[tuple[str, float]]  # (intent, score), best first

    @property
    def top(self) -> str:
        return self.ranked[0][0]

    @property
    def margin(self) -> float:
        return self.ranked[0][1] - self.ranked[1][1] if len(self.ranked) > 1 else 1.0


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


@dataclass(frozen=True)
class IntentSet:
    names: list[str]
    tools: dict[str, str]
    examples: list[str]
    owners: np.ndarray  # index into names per example
    aliases: dict[str, dict[str, str]]


@lru_cache(maxsize=1)
def load_intents() -> IntentSet:
    spec = tomllib.loads(load_prompt(INTENTS_FILE))
    names, tools, examples, owners = [], {}, [], []
    for number, (name, intent) in enumerate(spec["intents"].items()):
        names.append(name)
        tools[name] = intent["tool"]
        examples += intent["examples"]
        owners += [number] * len(intent["examples"])
    return IntentSet(names, tools, examples, np.array(owners), spec.get("aliases", {}))


class IntentRouter:
    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self.intents = load_intents()
        self.vectors = self._embed(self.intents.examples)

    def _embed(self, texts: list[str]) -> np.ndarray:
        return self.embedder.encode(texts)  # unit length

    def score(self, question: str) -> IntentScores:
        """Per intent: the mean of its two closest examples (one lucky neighbour is not enough)."""
        similarity = self._embed([CUSTOMER_TOKEN.sub("C-1", question)])[0] @ self.vectors.T
        scores = []
        for number, name in enumerate(self.intents.names):
            mine = np.sort(similarity[self.intents.owners == number])[::-1]
            scores.append((name, float(mine[:2].mean())))
        scores = _lexical(question, scores)
        return IntentScores(sorted(scores, key=lambda s: -s[1]))


CUSTOMER_TOKEN = re.compile(r"\bC-\d+\b", re.IGNORECASE)


def _lexical(question: str, scores: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Signals no embedding should overrule: a SELECT is SQL; 'draft ... offer' is drafting."""
    boost: dict[str, float] = {}
    if LOOKS_LIKE_SQL.match(question):
        boost[Intent.SQL_QUESTION] = 1.0
    if DRAFT_WORDS.search(question):
        boost[Intent.DRAFT_OFFER] = 0.15
    if SEARCH_WORDS.search(question):
        boost[Intent.SEARCH_FEEDBACK] = 0.1
    return [(name, score + boost.get(name, 0.0)) for name, score in scores]


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


def build_plan(
    intent: str, question: str, slots: Slots, state: ConversationState, metric: MetricSlots | None = None
) -> Plan:
    """Arguments for the intent's tool, from slots and the conversation; a clarifying question when a
    needed customer cannot be resolved."""
    if intent == Intent.METRIC_QUERY and (metric is None or metric.measure is None):
        intent = Intent.SQL_QUESTION  # the layer has no measure for it: free SQL (where the role allows)
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
            "segment": slots.segment,
            "country": slots.country,
            "risk_bands": slots.risk_bands or None,
            "min_lifetime_value": slots.min_value,
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
            PlannedCall(tool, {"customer_id": c, "channel": slots.channel, "tone": slots.tone}) for c in customers[:1]
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
        plan.calls = [PlannedCall(tool, dict(metric.args))]
        plan.reason = "; ".join(metric.found)
    elif intent == Intent.SQL_QUESTION:
        plan.calls = [PlannedCall(tool, {"question": question})]
    elif intent == Intent.OFFER_POLICY:
        plan.calls = [PlannedCall(tool, {"customer_id": customers[0] if customers else None})]
    elif intent == Intent.OFFER_HISTORY:
        plan.calls = [
            PlannedCall(tool, {"customer_id": customers[0] if customers else None, "since": _datetime(slots.since)})
        ]
    for call in plan.calls:
        call.args = {k: v for k, v in call.args.items() if v is not None}
    return plan


class Router:
    """Question + conversation -> plan, with no model but the embedder. `id_lookup(tokens)` says which
    tokens are customer ids (so ids in any format a shop uses are recognised); without it only the demo's
    C-number ids are read."""

    def __init__(
        self, embedder: Any, vocabulary: Vocabulary, id_lookup: Callable[[list[str]], set[str]] | None = None
    ) -> None:
        self.intent_router = IntentRouter(embedder)
        self.vocabulary = vocabulary
        self.vocabulary.aliases = self.vocabulary.aliases or load_intents().aliases
        self.id_lookup = id_lookup

    def plan(self, question: str, state: ConversationState, today: date | datetime) -> Plan:
        if CHANGE_REQUEST.search(question):
            return Plan(RESPOND, reply=CHANGE_REFUSAL, rule="a request to change data, refused")
        text, found, missing = question, None, []
        if self.id_lookup is not None:
            reading = read_ids(question, self.id_lookup)
            found, missing = reading.found, reading.missing
            for span in sorted(reading.spans, key=len, reverse=True):  # ids read as ids, not as words or years
                quote = r"[\"'`‘’“”]?"
                text = re.sub(rf"{quote}(?<![\w-]){re.escape(span)}(?![\w-]){quote}", "C-0", text)
        slots = parse_slots(text, self.vocabulary, today)
        if found is not None:
            slots.customer_ids = found
        if missing and not found:
            names = ", ".join(repr(m) for m in missing[:3])
            reply = (
                f"There is no customer with id {names}. Ids are matched exactly as your shop stores them "
                '(any format); check the id, or ask for a list first (e.g. "who is most likely to churn?").'
            )
            return Plan(CLARIFY, reply=reply, rule="an id that matches no customer", slots=slots)
        metric = self.metric_slots(text, today, slots)
        scores = self.intent_router.score(text)
        changed = follow_up(text, slots, metric, state.last_call, self.vocabulary, today)
        if changed is not None:
            intent, tool, args, what = changed
            plan = Plan(intent, [PlannedCall(tool, args)], rule=f"a follow-up: the last {tool} call with {what}")
            plan.slots, plan.metric, plan.scores = slots, metric, scores
            return plan
        intent = refine_intent(scores.top, text, slots, state, metric)
        plan = build_plan(intent, question, slots, state, metric)
        plan.scores = scores
        return plan

    def metric_slots(self, question: str, today: date | datetime, slots: Slots) -> MetricSlots:
        values = {"segment": self.vocabulary.segments, "country": self.vocabulary.countries}
        values |= self.vocabulary.metric_values
        return parse_metric(question, today, values, self.vocabulary.aliases, slots.inactive_days)


def refine_intent(
    intent: str, question: str, slots: Slots, state: ConversationState, metric: MetricSlots | None = None
) -> str:
    """Rules that hold whatever the embeddings say: a question about one customer (named once, picked
    from the last list, or "her") is not a question about a group; texts cannot answer "how many"; a
    question that asks for a governed measure (a number, a share, a breakdown) is a metric query."""
    one_customer = (
        len(slots.customer_ids) == 1
        or (slots.ordinal is not None and bool(state.customer_ids))
        or (slots.singular and state.focus is not None)
    )
    people = WHO_WORDS.search(question) is not None or CUSTOMER_LIST.search(question) is not None
    if (
        metric is not None
        and not one_customer
        and not slots.customer_ids
        and not ((people or slots.limit) and not (metric.query and metric.query.group_by))
        and intent not in (Intent.DRAFT_OFFER, Intent.OFFER_POLICY)
        and not LOOKS_LIKE_SQL.match(question)
        and asks_for_measure(question, metric)
    ):
        if metric.unexplained:  # words the layer cannot account for: free SQL (for roles that have it)
            return Intent.SQL_QUESTION
        return Intent.METRIC_QUERY
    if intent == Intent.METRIC_QUERY:
        intent = Intent.SQL_QUESTION  # sounds like one, but names no measure the layer can compute as asked
    if intent == RESPOND and (slots.ordinal is not None and state.customer_ids or slots.singular and state.focus):
        intent = Intent.CUSTOMER_PROFILE  # "the third one", "this customer": a customer, not small talk
    if one_customer and intent in GROUP_TO_CUSTOMER and not slots.limit:
        intent = GROUP_TO_CUSTOMER[intent]
    if one_customer and intent == Intent.CUSTOMER_PROFILE and WHY_WORDS.search(question):
        return Intent.EXPLAIN_RISK  # "why ..." about one customer asks for the explanation
    if intent == Intent.EXPLAIN_RISK and not RISK_WORDS.search(question):
        return Intent.CUSTOMER_PROFILE  # nothing about risk: they want the customer, not the model
    if intent in GROUP_INTENTS and WHO_WORDS.search(question) and not one_customer:
        return Intent.LIST_AT_RISK  # "who ..." asks for people, not for a group's statistics
    if intent in TEXT_INTENTS and QUANTITY_WORDS.search(question) and not slots.customer_ids:
        return Intent.SQL_QUESTION
    return intent
