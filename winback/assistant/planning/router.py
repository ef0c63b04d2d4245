"""The rules' side of planning, one step per method: `read` (ids, slots, metric slots; or a rule that
decides outright), `score` (candidate intents), `follow_up`, `decide` (rules over the top candidate) and
`build_plan` (calls.py). `plan()` runs them with no model but the embedder, so lookups work with no LLM at
all; planning/pipeline.py runs the same steps and asks the model where these rules are unsure."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from winback.assistant.intents import Intent
from winback.assistant.memory import ConversationState
from winback.assistant.planning.accounting import corrected, unexplained, unused_by
from winback.assistant.planning.calls import CHANGE_REFUSAL, CLARIFY, RESPOND, Plan, PlannedCall, build_plan
from winback.assistant.planning.candidates import IntentRouter, IntentScores, load_intents
from winback.assistant.planning.customer_ids import read_ids
from winback.assistant.planning.follow_ups import follow_up
from winback.assistant.planning.lexicon import mentions
from winback.assistant.planning.metric_slots import MetricSlots, parse_metric
from winback.assistant.planning.rules import CHANGE_REQUEST, refine_intent
from winback.assistant.planning.slots import Slots, Vocabulary, parse_slots
from winback.tools.sql_query import LOOKS_LIKE_SQL

CHANGE_SURE = 0.6  # the intent model's probability at which a request to change data is refused
QUOTE = r"[\"'`‘’“”]?"


@dataclass
class Reading:
    """Step 1: what the question says, read by code. `ruled` is set when a rule already decided the turn."""

    question: str
    text: str  # the question with recognised ids replaced by a placeholder (ids are not words or years)
    slots: Slots
    metric: MetricSlots | None = None
    ruled: Plan | None = None
    notes: list[str] = field(default_factory=list)
    unexplained: list[str] = field(default_factory=list)  # words nothing accounts for (accounting.py)

    def summary(self) -> str:
        read = [f"customers {', '.join(self.slots.customer_ids)}"] if self.slots.customer_ids else []
        if self.metric is not None and self.metric.measure is not None:
            read.append(f"measure {self.metric.measure.name}")
        left = list(dict.fromkeys([*(self.metric.unexplained if self.metric else []), *self.unexplained]))
        if left:
            read.append(f"unexplained {', '.join(left)}")
        if self.metric is not None and self.metric.conditions:
            read.append(f"conditions {', '.join(self.metric.conditions)}")
        return "parse: " + ("; ".join(read) if read else "no ids or measure")


class Router:
    """Question + conversation -> plan by rules. `id_lookup(tokens)` says which tokens are customer ids
    (so ids in any format a shop uses are recognised); without it only the demo's C-number ids are read."""

    def __init__(
        self, embedder: object, vocabulary: Vocabulary, id_lookup: Callable[[list[str]], set[str]] | None = None
    ) -> None:
        self.intent_router = IntentRouter(embedder)
        self.vocabulary = vocabulary
        self.vocabulary.aliases = self.vocabulary.aliases or load_intents().aliases
        self.id_lookup = id_lookup

    def plan(self, question: str, state: ConversationState, today: date | datetime) -> Plan:
        """The whole pipeline by rules alone."""
        reading = self.read(question, today)
        if reading.ruled is not None:
            return reading.ruled
        scores = self.score(reading)
        followed = self.follow_up(reading, scores, state, today)
        if followed is not None:
            return followed
        return self.build(self.decide(reading, scores, state), reading, state, scores)

    # -- the steps ----------------------------------------------------------------------------------
    def read(self, question: str, today: date | datetime) -> Reading:
        if CHANGE_REQUEST.search(question) or CHANGE_REQUEST.search(corrected(question, self.known_values)):
            return self._refused(question)
        text, found, missing = question, None, []
        if self.id_lookup is not None and not LOOKS_LIKE_SQL.match(question):  # a statement's literals are SQL's
            reading = read_ids(question, self.id_lookup)
            found, missing = reading.found, reading.missing
            for span in sorted(reading.spans, key=len, reverse=True):
                text = re.sub(rf"{QUOTE}(?<![\w-]){re.escape(span)}(?![\w-]){QUOTE}", "C-0", text)
        text = corrected(text, self.known_values)  # "custmers" is read as customers
        slots = parse_slots(text, self.vocabulary, today)
        if found is not None:
            slots.customer_ids = found
        if missing and not found:
            if self._asks_a_change(text):  # "close ticket T-5002-06": a change, whatever the id names
                return self._refused(question)
            names = ", ".join(repr(m) for m in missing[:3])
            reply = (
                f"There is no customer with id {names}. Ids are matched exactly as your shop stores them "
                '(any format); check the id, or ask for a list first (e.g. "who is most likely to churn?").'
            )
            plan = Plan(CLARIFY, reply=reply, rule="an id that matches no customer", slots=slots)
            return Reading(question, text, slots, ruled=plan)
        read = Reading(question, text, slots, self.metric_slots(text, today, slots))
        read.unexplained = unexplained(text, self.known_values)
        return read

    @staticmethod
    def _refused(question: str) -> Reading:
        plan = Plan(RESPOND, reply=CHANGE_REFUSAL, rule="a request to change data, refused")
        return Reading(question, question, Slots(), ruled=plan)

    def _asks_a_change(self, text: str) -> bool:
        scores = self.intent_router.score(text)
        return scores.top == Intent.CHANGE_DATA and scores.ranked[0][1] >= CHANGE_SURE

    def unused(self, intent: str, reading: Reading) -> list[str]:
        """Words the data knows that this intent's plan does not use: a constraint it would drop."""
        if intent in (Intent.METRIC_QUERY, Intent.SQL_QUESTION, Intent.RESPOND, Intent.CHANGE_DATA):
            return []  # the metrics layer accounts for its own words; free SQL reads them all
        return unused_by(intent, reading.text, self.known_values)

    def unused_values(self, plan: Plan, reading: Reading) -> list[str]:
        """Segments, countries and cities the question names that no call of the plan carries ("top 5
        Lyon customers" planned without a city filter): a constraint silently dropped."""
        if plan.intent in (Intent.SQL_QUESTION, RESPOND, CLARIFY) or not plan.calls:
            return []
        if any("customer_id" in call.args for call in plan.calls):
            return []  # about one customer: a segment or a city named describes her
        said = json.dumps([call.args for call in plan.calls], default=str).lower()
        named = []
        for name, known in (
            ("segment", self.vocabulary.segments),
            ("country", self.vocabulary.countries),
            ("city", self.vocabulary.metric_values.get("city", [])),
        ):
            named += [m.value for m in mentions(reading.text, known, self.vocabulary.aliases.get(name, {}))]
        return list(dict.fromkeys(v for v in named if v.lower() not in said))

    @cached_property
    def known_values(self) -> list[str]:
        """Every value the shop's data holds, and every word for one (they account for a question's words);
        read once per router, as its vocabulary is."""
        vocabulary = self.vocabulary
        values = [
            *vocabulary.segments,
            *vocabulary.countries,
            *(v for vs in vocabulary.metric_values.values() for v in vs),
        ]
        return values + [alias for aliases in vocabulary.aliases.values() for alias in aliases]

    def score(self, reading: Reading) -> IntentScores:
        return self.intent_router.score(reading.text)

    def follow_up(
        self, reading: Reading, scores: IntentScores, state: ConversationState, today: date | datetime
    ) -> Plan | None:
        assert reading.metric is not None  # read() fills it whenever no rule decided
        changed = follow_up(
            reading.text, reading.slots, reading.metric, state.last_call, self.vocabulary, today, state.customer_ids
        )
        if changed is None:
            return None
        intent, tool, args, what = changed
        plan = Plan(intent, [PlannedCall(tool, args)], rule=f"a follow-up: the last {tool} call with {what}")
        plan.slots, plan.metric, plan.scores = reading.slots, reading.metric, scores
        return plan

    def decide(
        self, reading: Reading, scores: IntentScores, state: ConversationState, intent: str | None = None
    ) -> str:
        """The rules over the top candidate (or over `intent`, when the model chose it). A change request
        read with less than CHANGE_SURE is not refused: "change it to gold customers" edits the last list."""
        if intent is None and scores.top == Intent.CHANGE_DATA and scores.ranked[0][1] < CHANGE_SURE:
            intent = scores.ranked[1][0]
        return refine_intent(intent or scores.top, reading.text, reading.slots, state, reading.metric)

    def build(self, intent: str, reading: Reading, state: ConversationState, scores: IntentScores) -> Plan:
        plan = build_plan(intent, reading.question, reading.slots, state, reading.metric)
        plan.scores = scores
        plan.unexplained = reading.unexplained
        return plan

    def metric_slots(self, question: str, today: date | datetime, slots: Slots) -> MetricSlots:
        values = {"segment": self.vocabulary.segments, "country": self.vocabulary.countries}
        values |= self.vocabulary.metric_values
        return parse_metric(question, today, values, self.vocabulary.aliases, slots.inactive_days, slots.limit)
