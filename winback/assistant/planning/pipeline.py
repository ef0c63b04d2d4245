"""Planning, start to end, in the order the trace reports it:

1. parse — ids (in the shop's own formats, looked up), slots, metric slots; a rule may decide outright
   (a request to change data, an id that matches no customer);
2. candidates — intents scored by embeddings; a follow-up that changes one thing re-runs the last call;
3. decide — by rules where they are sure; by the model's guided choice (model_choice.py) where they are
   not: a close margin, no intent above the confidence threshold, or a measure named in words the
   rules cannot place; the rules still hold over what the model chose;
4. build — the chosen intent's calls, arguments from slots (or the model's checked metric query).

`Plan.trace` lists the steps and `Plan.decided_by` says who decided ("rule", "rules" or "model")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import openai
from pydantic import ValidationError

from winback.assistant.intents import Intent
from winback.assistant.memory import ConversationState
from winback.assistant.planning.accounting import content_words, empty_words, off_topic, words_of
from winback.assistant.planning.calls import CLARIFY, CONFIRM, RESPOND, Plan, PlannedCall
from winback.assistant.planning.candidates import IntentScores
from winback.assistant.planning.interpretation import phrases, understood
from winback.assistant.planning.lexicon import asks_personal_data, embedded_statement, lexicon, members_counted
from winback.assistant.planning.metric_slots import MetricSlots, asks_for_measure, is_bare_noun
from winback.assistant.planning.model_choice import ForcedChoice, allowed_tools, forced_choice, intent_for
from winback.assistant.planning.model_query import grounded_query
from winback.assistant.planning.router import Reading, Router
from winback.config import Settings
from winback.data.metrics import MetricQuery, load_catalog
from winback.roles import ROLES_WITH_FREE_SQL, ROLES_WITH_PII
from winback.tools import ToolContext, ToolRegistry
from winback.tools.names import ToolName
from winback.tools.sql_query import LOOKS_LIKE_SQL

WORDS_LEFT = "words it cannot account for:"
WHICH_ROWS = (
    "Which group do you mean by 'them'? I can count among the customers of a list or the rows of a figure I "
    'showed last; ask for that list first, or name the group in the question ("how many platinum customers '
    'ordered in 2025 but not this year?").'
)
AMONG_LISTED = (
    "Among the customers I just listed, I can count those of a segment, country, city or risk band, with a "
    'lifetime value above an amount, opted in to marketing or not, or without an order for some days ("how '
    'many of them are in Spain?"). For anything else, ask it about the whole group instead.'
)
LEAD = phrases()["lead"]
HOW_MUCH = re.compile(r"\s*how much\b", re.IGNORECASE)
CONFIDENT = 0.9  # the intent model's probability over which a word nobody knows does not change the intent
CANDIDATES = 3  # intents the model may choose between when the rules are unsure
GUESS_FLOOR = 0.75  # below this share of the confidence threshold, the rules' top intent is a guess
LLM_ERRORS = (openai.APIConnectionError, openai.APITimeoutError, openai.InternalServerError)


@dataclass
class Unsure:
    why: str
    intents: list[str]  # the candidates the model chooses between


class Planner:
    """Runs the four steps for one question. `mode`: router (rules only), router+llm (the model where the
    rules are unsure), llm (the model plans every turn, its arguments checked by the registry)."""

    def __init__(self, router: Router, registry: ToolRegistry, settings: Settings, services: Any) -> None:
        self.router = router
        self.registry = registry
        self.settings = settings
        self.services = services

    def plan(
        self,
        question: str,
        ctx: ToolContext,
        state: ConversationState,
        today: datetime,
        mode: str,
        notes: list[str],
    ) -> Plan:
        accepted = accepted_reading(question, state)
        if accepted is not None:
            return _finish(
                accepted, [f"decide: the reading asked about last turn, accepted ({question.strip()!r})"], "rule"
            )
        question = embedded_statement(question)
        if ctx.role not in ROLES_WITH_PII and asks_personal_data(question) and not LOOKS_LIKE_SQL.match(question):
            reply = (
                f"Your role ({ctx.role}) can't see customers' personal details (e-mail addresses, phone numbers, "
                "names); a support agent can. I can still show their orders, risk and what they wrote."
            )
            return _finish(Plan(RESPOND, reply=reply), ["decide: rule, personal data this role may not see"], "rule")
        reading = self.router.read(question, today)
        trace = [reading.summary()]
        if reading.ruled is not None:
            return _finish(reading.ruled, trace + [f"decide: rule, {reading.ruled.rule}"], "rule")
        scores = self.router.score(reading)
        trace.append("candidates: " + ", ".join(f"{name} {score:.2f}" for name, score in scores.ranked[:CANDIDATES]))
        followed = self.router.follow_up(reading, scores, state, today)
        if followed is not None:
            return _finish(followed, trace + [f"decide: rule, {followed.rule}"], "rule")
        if members_counted(reading.text) and state.answered != Intent.METRIC_QUERY and not reading.slots.customer_ids:
            reply = AMONG_LISTED if state.answered == Intent.LIST_AT_RISK else WHICH_ROWS
            return _finish(
                Plan(CLARIFY, reply=reply), trace + ["decide: 'them' is not a group I can count: ask"], "rules"
            )
        if not reading.slots.customer_ids and off_topic(reading.text, reading.unexplained):
            plan = self.router.build(RESPOND, reading, state, scores)
            return _finish(plan, trace + ["decide: only off-topic words: what winback does"], "rules")
        intent = self._for_role(self.router.decide(reading, scores, state), reading, scores, state, ctx)
        rules_plan = self.router.build(intent, reading, state, scores)  # also what every fallback below keeps
        if _nothing_to_act_on(reading, state, rules_plan):
            return _finish(nothing_understood(reading), trace + ["decide: no word of it is known: ask"], "rules")
        dropped = self.router.unused(rules_plan.intent, reading) + self.router.unused_values(rules_plan, reading)
        if dropped and rules_plan.calls:  # the plan would silently drop what these words ask for
            readings = [rules_plan]
            if ctx.role in ROLES_WITH_FREE_SQL and not LOOKS_LIKE_SQL.match(question):
                readings.append(self.router.build(Intent.SQL_QUESTION, reading, state, scores))
            asked = confirm(readings, [], dropped)
            return _finish(asked, trace + [f"decide: the plan cannot use {', '.join(dropped)}: ask"], "rules")
        unsure = None if mode == "router" else self.unsure(reading, scores, intent, mode)
        if unsure is None:
            return _finish(rules_plan, trace + [f"decide: rules, {_why_sure(scores, intent)}"], "rules")
        trace.append(f"decide: unsure ({unsure.why}), the model chooses among {', '.join(unsure.intents) or 'all'}")
        backend = self.services.llm("planner")
        if backend.llm is None:
            notes.append(f"the LLM is not answering ({backend.note}); the rules planned this turn alone")
            return _finish(rules_plan, trace + ["LLM unavailable: rules"], "rules")
        tools = allowed_tools(self.registry, ctx, unsure.intents or None)
        try:
            choice = forced_choice(
                backend.llm, self.registry, ctx, question, state.describe(), tools, f"{today:%Y-%m-%d}"
            )
        except LLM_ERRORS as exc:
            self.services.forget_llm()
            notes.append(f"the LLM server stopped answering ({type(exc).__name__}); the rules planned this turn alone")
            return _finish(rules_plan, trace + ["LLM unavailable: rules"], "rules")
        except openai.BadRequestError as exc:  # e.g. the question and the tools exceed the server's context
            why = str(exc.message).split(". ")[0][:160]
            return _finish(rules_plan, trace + [f"the model refused the request ({why}): rules"], "rules")
        return self._after_choice(choice, intent, rules_plan, unsure, reading, scores, state, mode, trace)

    def _for_role(
        self, intent: str, reading: Reading, scores: IntentScores, state: ConversationState, ctx: ToolContext
    ) -> str:
        """Free SQL is not every role's: for the others, the metrics layer where it reads the figure asked for
        whole, free SQL still (refused by the registry) where it does not, else the best other candidate."""
        if intent != Intent.SQL_QUESTION or ctx.role in ROLES_WITH_FREE_SQL or LOOKS_LIKE_SQL.match(reading.question):
            return intent
        metric = reading.metric
        if metric is not None and metric.measure is not None and asks_for_measure(reading.text, metric):
            whole = not (metric.unexplained or metric.conditions or metric.inexpressible)
            return Intent.METRIC_QUERY if whole else intent  # a figure the layer cannot read whole: refused
        other = next(
            (name for name, _ in scores.ranked if name not in (Intent.SQL_QUESTION, Intent.METRIC_QUERY)), None
        )
        return self.router.decide(reading, scores, state, other) if other is not None else intent

    def unsure(self, reading: Reading, scores: IntentScores, intent: str, mode: str) -> Unsure | None:
        """Why the rules should not decide alone (None: they are sure)."""
        if LOOKS_LIKE_SQL.match(reading.question):
            return None
        if mode == "llm":
            return Unsure("the model plans every turn", [])
        metric = reading.metric
        if metric is not None and (metric.inexpressible or metric.conditions) and intent == Intent.SQL_QUESTION:
            return None  # the layer cannot say it (a share it cannot count, "more than 10 orders"): free SQL
        if metric is not None and metric.measure is not None and metric.unexplained and intent == Intent.SQL_QUESTION:
            words = ", ".join(repr(w) for w in metric.unexplained[:4])
            return Unsure(
                f"names {metric.measure.label}, but {words} fit no dimension, value or window",
                [Intent.METRIC_QUERY, Intent.SQL_QUESTION],
            )
        left = reading.unexplained
        if left and intent not in (Intent.METRIC_QUERY, Intent.SQL_QUESTION, RESPOND):
            words = ", ".join(repr(w) for w in left[:4])
            return Unsure(f"{WORDS_LEFT} {words}", [name for name, _ in scores.ranked[:CANDIDATES]])
        if intent != scores.top:
            return None  # a rule overrode the intent model: it is sure
        close = [name for name, _ in scores.ranked[:CANDIDATES]]
        if (
            metric is not None
            and metric.measure is not None
            and Intent.METRIC_QUERY not in close
            and asks_for_measure(reading.text, metric)
        ):
            close.append(Intent.METRIC_QUERY)  # a measure asked for, not one named in passing ("customers")
        best = scores.ranked[0][1]
        if intent == RESPOND:
            return None  # small talk, help or out of scope: nothing a tool choice would improve
        if best < self.settings.assistant_min_confidence:
            return Unsure(f"best score {best:.2f} < {self.settings.assistant_min_confidence:.2f}", close)
        if scores.margin < self.settings.assistant_tie_margin:
            return Unsure(f"margin {scores.margin:.2f} < {self.settings.assistant_tie_margin:.2f}", close)
        return None

    def _after_choice(
        self,
        choice: ForcedChoice,
        intent: str,
        rules_plan: Plan,
        unsure: Unsure,
        reading: Reading,
        scores: IntentScores,
        state: ConversationState,
        mode: str,
        trace: list[str],
    ) -> Plan:
        best = scores.ranked[0][1]
        if best < GUESS_FLOOR * self.settings.assistant_min_confidence and not (
            reading.slots.customer_ids or (reading.metric is not None and reading.metric.measure is not None)
        ):  # the rules' top intent is a guess: when the model's choice is not used either, say what winback does
            rules_plan = self.router.build(RESPOND, reading, state, scores)
            trace = [*trace, f"the best rule scores {best:.2f}: help unless the model's choice holds"]
        if choice.tool is None:
            return _finish(rules_plan, trace + [f"the model's choice was unusable ({choice.error}): rules"], "rules")
        if mode == "llm":
            return self._model_plan(choice, intent, rules_plan, trace)
        chosen = intent_for(choice.tool, intent, unsure.intents or None)
        if chosen is None:
            return _finish(rules_plan, trace + [f"the model chose {choice.tool}, not a candidate: rules"], "rules")
        if chosen == Intent.METRIC_QUERY and not _rules_have_query(reading):
            args, why = _model_query(choice.args, reading)
            if args is not None:
                plan = Plan(Intent.METRIC_QUERY, [PlannedCall(ToolName.METRIC_QUERY, args)], scores=scores)
                plan.slots, plan.metric = reading.slots, reading.metric
                return _finish(plan, trace + [f"the model filled the metric query {args}"], "model")
            if _rules_query_stands(reading):  # the model chose the layer, the rules read the query: use theirs
                plan = self.router.build(Intent.METRIC_QUERY, reading, state, scores)
                return _finish(plan, trace + [f"the model's metric query was {why}: the rules' query"], "model")
            return _finish(rules_plan, trace + [f"the model's metric query was {why}: rules"], "rules")
        refined = self.router.decide(reading, scores, state, chosen)  # the rules hold whoever chose
        plan = self.router.build(refined, reading, state, scores)
        if (
            unsure.why.startswith(WORDS_LEFT)
            and refined != intent
            and plan.calls
            and rules_plan.calls
            and scores.ranked[0][1] >= CONFIDENT
        ):  # a word nobody knows, and the intent model is sure: its plan, saying the word was not used
            return _finish(
                rules_plan, trace + [f"the model chose {choice.tool}; the intent model is sure: rules"], "rules"
            )
        if unsure.why.startswith(WORDS_LEFT) and refined != intent and plan.calls and rules_plan.calls:
            asked = confirm([rules_plan, plan], reading.unexplained)
            return _finish(asked, trace + [f"the model chose {choice.tool}, the rules {intent}: ask which"], "model")
        if plan.intent == CLARIFY and rules_plan.intent != CLARIFY:  # it needs a customer nobody named
            return _finish(
                rules_plan, trace + [f"the model chose {choice.tool}, which needs a customer: rules"], "rules"
            )
        agreed = (
            "agreeing with the rules"
            if refined == intent
            else f"{refined}" + ("" if refined == chosen else " after the rules")
        )
        return _finish(plan, trace + [f"the model chose {choice.tool}: {agreed}"], "model")

    def _model_plan(self, choice: ForcedChoice, intent: str, rules_plan: Plan, trace: list[str]) -> Plan:
        """The model plans alone (measured by the harness): its tool and its arguments, checked by the
        registry's schema; the rules' plan only where the model's call is invalid."""
        assert choice.tool is not None
        if choice.tool in (RESPOND, CLARIFY):
            reply = str(choice.args.get("question") or choice.args.get("message") or "Which customer do you mean?")
            return _finish(Plan(choice.tool, reply=reply), trace + [f"model: {choice.tool}"], "model")
        spec = self.registry.tools.get(choice.tool)
        try:
            if spec is None:
                raise LookupError(f"no tool named {choice.tool}")
            spec.args_schema.model_validate(choice.args)
        except (LookupError, ValidationError) as exc:
            why = f"the model's call {choice.tool} was invalid ({type(exc).__name__}): rules"
            return _finish(rules_plan, trace + [why], "rules")
        chosen = intent_for(choice.tool, intent, None) or choice.tool
        plan = Plan(chosen, [PlannedCall(choice.tool, dict(choice.args))])
        return _finish(plan, trace + [f"model: {choice.tool} {choice.args}"], "model")


def _model_query(args: dict[str, Any], reading: Reading) -> tuple[dict[str, Any] | None, str]:
    """The model's metric query, checked (MetricQuery) and cut to what the question grounds; or None and why not."""
    try:
        query = MetricQuery.model_validate(args)
    except ValidationError as exc:
        return None, f"invalid ({exc.errors()[0]['msg'] if exc.errors() else 'invalid'})"
    grounded, why = grounded_query(query, reading.text, reading.metric)
    return (grounded, "") if grounded is not None else (None, f"not grounded ({why})")


def _rules_have_query(reading: Reading) -> bool:
    metric = reading.metric
    return metric is not None and metric.query is not None and not metric.unexplained


def _rules_query_stands(reading: Reading) -> bool:
    """The rules read a whole query and nothing that changes which rows count (a number, a negation ...)
    is left over: only words they could not place, which the model, choosing metric_query, judged harmless.
    A code-built query then beats one the small model fills (which is often invalid or misses a filter)."""
    metric = reading.metric
    joining = empty_words() | {w for e in load_catalog().entities.values() for v in e.verbs for w in words_of(v)}
    return (
        metric is not None
        and metric.query is not None
        and bool(metric.unexplained)
        and all(w in joining for w in metric.unexplained)  # "came in via the marketplace", not "got closed"
        and not metric.conditions
        and not metric.inexpressible
        and metric.unplaced_group is None
        and not _only_counted(metric)
        and not (  # "how much did gold customers spend": an amount asked, a count read
            metric.measure is not None and metric.measure.kind == "count" and HOW_MUCH.match(reading.text)
        )
    )


def _only_counted(metric: MetricSlots) -> bool:
    """A bare count with nothing read but the count ("how many customers have closed their account"): the
    words the rules could not place are the whole question, and the query would count everyone."""
    query = metric.query
    return (
        metric.measure is not None
        and metric.measure.kind == "count"
        and is_bare_noun(metric.measure_words)
        and query is not None
        and not (query.filters or query.group_by or query.window.kind != "all" or query.inactive_days)
    )


def _why_sure(scores: IntentScores, intent: str) -> str:
    best, margin = scores.ranked[0][1], scores.margin
    if intent != scores.top:
        return f"{intent} (a rule over the top candidate {scores.top})"
    return f"{intent} (score {best:.2f}, margin {margin:.2f})"


def _finish(plan: Plan, trace: list[str], decided_by: str) -> Plan:
    calls = "; ".join(f"{c.tool} {c.args}" for c in plan.calls) or f"no tool ({plan.intent})"
    plan.trace = [*trace, f"build: {calls}"]
    plan.decided_by = decided_by
    return plan


def confirm(readings: list[Plan], words: list[str], dropped: list[str] | None = None) -> Plan:
    """A plan that says how it read the question and asks before running anything: "yes" runs the first
    reading, "2" the second (accepted_reading). `dropped`: known words the first reading cannot use."""
    unknown = f" (I don't know {', '.join(repr(w) for w in words[:4])})" if words else ""

    def in_words(plan: Plan) -> str:
        return understood([(c.tool, c.args) for c in plan.calls]).strip("_").removeprefix(LEAD).strip()

    first = in_words(readings[0])
    if dropped:
        said = ", ".join(repr(w) for w in dropped[:4])
        lead = f"I can't use {said} in this answer. Without {'it' if len(dropped) == 1 else 'them'}, I read this as"
        lines = [f"{lead} — {first}. Is that right? Reply **yes** to run it"]
    else:
        lines = [
            f"I'm not sure I understood{unknown}. I read this as — {first}. Is that right? Reply **yes** to run it"
        ]
    for number, other in enumerate(readings[1:], 2):
        lines.append(f"or **{number}** for — {in_words(other)}")
    lines.append("or ask it in other words.")
    reply = ",\n".join(lines[:-1]) + ",\n" + lines[-1]
    return Plan(CONFIRM, reply=reply, readings=readings, unexplained=[*words, *(dropped or [])])


def nothing_understood(reading: Reading) -> Plan:
    words = ", ".join(repr(w) for w in reading.unexplained[:4])
    said = f"I don't know {words}, so I" if words else "That doesn't say what to look at, so I"
    reply = (
        f"{said} can't tell what you'd like to see. Ask about churn risk, customers, orders, reviews, "
        'offers or campaigns — e.g. "who is most likely to churn?", "how many orders last month?" or '
        '"tell me about C-1042".'
    )
    return Plan(CONFIRM, reply=reply, unexplained=reading.unexplained)


def _nothing_to_act_on(reading: Reading, state: ConversationState, plan: Plan) -> bool:
    """No word of the question is known, or every word is a stop or chat word ("how many?") and nothing
    else points somewhere (an id, "her", "the second one"): a plan would be a guess."""
    slots = reading.slots
    if slots.customer_ids or slots.ordinal is not None or (slots.pronoun and (state.focus or state.customer_ids)):
        return False
    words = [w for w in words_of(reading.text) if len(w) > 1]
    if reading.unexplained and not any(w not in reading.unexplained for w in words if len(w) > 2):
        return True
    measured = reading.metric is not None and reading.metric.measure is not None
    return plan.intent != RESPOND and not content_words(reading.text) and not measured


def accepted_reading(question: str, state: ConversationState) -> Plan | None:
    """The reading offered last turn, when this turn accepts it ("yes", or its number)."""
    if not state.pending:
        return None
    said = question.strip().lower().rstrip(".!")
    choice = 1 if said in lexicon()["confirmation"]["yes"] else (int(said) if said.isdigit() else 0)
    if not 1 <= choice <= len(state.pending):
        return None
    reading = state.pending[choice - 1]
    calls = [PlannedCall(c["tool"], dict(c["args"])) for c in reading["calls"]]
    return Plan(reading["intent"], calls, rule="the reading asked about, accepted")
