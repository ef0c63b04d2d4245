"""The assistant: one turn = plan (router, router + model tie-break, forced model choice, or native tool
calling), run the tools through the registry with the caller's role, answer from their results, check
grounding, remember the turn. `stream()` yields the steps as they happen; `ask()` returns the whole turn."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import openai
from sqlalchemy import select

from winback.assistant.answers import help_text, render
from winback.assistant.follow_ups import FOLLOWS
from winback.assistant.forced_choice import forced_choice
from winback.assistant.grounding import GroundingReport, check_grounding
from winback.assistant.intents import Intent
from winback.assistant.memory import ConversationState, evidence, history
from winback.assistant.router import CLARIFY, RESPOND, Plan, Router, build_plan, load_intents, refine_intent
from winback.assistant.slots import Vocabulary
from winback.config import Settings
from winback.data import conversations
from winback.data.lookups.common import existing_customer_ids, reference_date
from winback.data.metrics.values import metric_vocabulary
from winback.data.safesql.guarded import dialect_of
from winback.data.schema import Customer
from winback.roles import Role, parse_role
from winback.tools import Services, ToolCall, ToolContext, ToolRegistry, default_registry
from winback.tools.sql_query import LOOKS_LIKE_SQL

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 4_000
CANDIDATES = 3  # intents the model may choose between when the router is unsure
LLM_ERRORS = (openai.APIConnectionError, openai.APITimeoutError, openai.InternalServerError)
EventKind = Literal["planner", "tool_start", "tool_end", "token", "replace", "done"]


@dataclass
class Event:
    kind: EventKind
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Turn:
    question: str
    answer: str
    tool_calls: list[ToolCall]
    planner: str  # "router" or "tools", as `winback ask --json` reports it
    planner_detail: str  # which planner ran and why
    session_id: str | None
    latency_ms: int
    grounding: GroundingReport
    notes: list[str] = field(default_factory=list)
    intent: str = ""

    @property
    def customer_ids(self) -> list[str]:
        return list(dict.fromkeys(c for call in self.tool_calls if call.ok for c in call.result.customer_ids))

    @property
    def data(self) -> dict[str, Any]:
        return {
            "customer_ids": self.customer_ids,
            "results": [{"tool": c.name, "ok": c.ok, **c.result.data} for c in self.tool_calls],
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "tool_calls": [c.to_dict() for c in self.tool_calls],
            "data": self.data,
            "planner": self.planner,
            "session_id": self.session_id,
            "latency_ms": self.latency_ms,
            "trace": {
                "planner": self.planner_detail,
                "intent": self.intent,
                "notes": self.notes,
                "grounding": self.grounding.to_dict(),
            },
        }


def _chunks(text: str) -> Iterator[str]:
    """The answer in line-sized pieces: a template answer streams as it is rendered."""
    yield from text.splitlines(keepends=True)


class Assistant:
    def __init__(
        self,
        settings: Settings,
        planner: str | None = None,
        services: Services | None = None,
        registry: ToolRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.services = services or Services(settings)
        self.registry = registry or default_registry()
        self.mode = planner or settings.assistant_planner
        self._router: Router | None = None
        self._lock = threading.Lock()
        conversations.require_chat_tables(self.services.engine)

    # -- set-up -------------------------------------------------------------------------------------
    def router(self) -> Router:
        with self._lock:
            if self._router is None:
                with self.services.engine.connect() as connection:
                    segments = sorted(connection.scalars(select(Customer.segment).distinct()))
                    countries = sorted(connection.scalars(select(Customer.country).distinct()))
                    values = metric_vocabulary(connection, dialect_of(self.settings.database_url))
                vocabulary = Vocabulary(segments, countries, load_intents().aliases, values)
                self._router = Router(self.services.embedder(), vocabulary, self._existing_ids)
            return self._router

    def _existing_ids(self, tokens: list[str]) -> set[str]:
        with self.services.engine.connect() as connection:
            return existing_customer_ids(connection, tokens)

    def today(self) -> datetime:
        with self.services.engine.connect() as connection:
            return reference_date(connection)

    def planner_mode(self) -> str:
        if self.mode != "auto":
            return self.mode
        from winback.llm.probe import TOOLS_PLANNER_MIN_CONTEXT, preferred_planner, probe

        caps = self.services.cached(
            "llm:capabilities",
            lambda: probe(self.settings, measure_speed=False, min_context=TOOLS_PLANNER_MIN_CONTEXT),
        )
        return preferred_planner(caps)

    # -- one turn -----------------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        session_id: str | None = None,
        role: str | Role = Role.CS_STAFF,
        user: str = "assistant-user",
        remember: bool = True,
    ) -> Turn:
        turn = None
        for event in self.stream(question, session_id, role, user, remember):
            if event.kind == "done":
                turn = event.data["turn"]
        assert turn is not None
        return turn

    def stream(
        self,
        question: str,
        session_id: str | None = None,
        role: str | Role = Role.CS_STAFF,
        user: str = "assistant-user",
        remember: bool = True,
    ) -> Iterator[Event]:
        started = time.perf_counter()
        role = parse_role(role)
        question = question.strip()
        engine = self.services.engine
        problem = None
        if not question:
            problem = 'Ask me something about your customers — for example "who is most likely to churn?".'
        elif len(question) > MAX_QUESTION_CHARS:
            problem = (
                f"That message is {len(question):,} characters long; I read at most {MAX_QUESTION_CHARS:,}. "
                "Ask a shorter question (paste ids, not whole documents)."
            )
        if problem:
            turn = Turn(
                question[:200],
                problem,
                [],
                "router",
                "input refused before planning",
                session_id,
                int((time.perf_counter() - started) * 1000),
                GroundingReport(),
            )
            yield Event("token", {"text": problem})
            yield Event("done", {"turn": turn})
            return
        messages = conversations.load_own_messages(engine, session_id, user, role.value) if session_id else []
        if remember and session_id is None:
            session_id = conversations.create_session(engine, user, role.value, question)
        state = ConversationState.from_messages(messages)
        prior = evidence(messages)
        if remember and session_id:
            conversations.append_message(engine, session_id, "user", question)
        ctx = ToolContext(self.services, role, user)
        mode = self.planner_mode()
        notes: list[str] = []
        if mode == "tools":
            native = yield from self._native_turn(question, ctx, state, messages, prior, notes)
            if native is not None:
                answer, calls, detail, intent, grounding = native
            else:
                mode = "router"
        if mode != "tools":
            plan, detail = self._plan(question, ctx, state, mode, notes)
            yield Event("planner", {"planner": "router", "detail": detail, "intent": plan.intent})
            calls = []
            for planned in plan.calls:
                yield Event("tool_start", {"name": planned.tool, "args": planned.args})
                call = self.registry.call(planned.tool, planned.args, ctx)
                call.planner = mode
                calls.append(call)
                yield Event("tool_end", {"call": call})
            if plan.intent == RESPOND:
                answer = plan.reply or help_text(role)
            elif plan.intent == CLARIFY:
                answer = plan.reply or "Which customer do you mean?"
            else:
                answer = render(calls)
            answer = "\n\n".join([answer, *(f"_Note: {n}_" for n in notes)])
            own = [plan.reply or help_text(role)] if plan.intent == RESPOND else [plan.reply or ""]
            grounding = check_grounding(answer, prior + own + _evidence(calls) + notes, question)
            intent = plan.intent
            for piece in _chunks(answer):
                yield Event("token", {"text": piece})
            named = _named(plan)
        else:
            named = []
        new_state = state.after(named, [c.result.customer_ids for c in calls if c.ok])
        if mode != "tools" and plan.intent in FOLLOWS and len(plan.calls) == 1 and calls and calls[0].ok:
            new_state.last_call = {"intent": str(plan.intent), "tool": plan.calls[0].tool, "args": calls[0].args}
        latency = int((time.perf_counter() - started) * 1000)
        planner = "tools" if mode == "tools" else "router"
        turn = Turn(question, answer, calls, planner, detail, session_id, latency, grounding, notes, intent)
        if remember and session_id:
            conversations.append_message(
                engine,
                session_id,
                "assistant",
                answer,
                planner=planner,
                tool_calls=[c.to_dict() | {"text": c.result.text} for c in calls],
                context=new_state.to_dict(),
                grounding=None if grounding.ok else grounding.to_dict(),
                latency_ms=latency,
            )
        if not grounding.ok:
            log.warning("grounding check flagged %s", grounding.to_dict())
        yield Event("done", {"turn": turn})

    # -- planners -----------------------------------------------------------------------------------
    def _plan(
        self, question: str, ctx: ToolContext, state: ConversationState, mode: str, notes: list[str]
    ) -> tuple[Plan, str]:
        router = self.router()
        today = self.today()
        plan = router.plan(question, state, today)
        if plan.rule:  # a rule decided outright (a follow-up, an unknown id, a request to change data)
            return plan, f"router: {plan.rule}"
        scores = plan.scores
        assert scores is not None
        detail = f"router: intent {plan.intent} (score {scores.ranked[0][1]:.2f}, margin {scores.margin:.2f})"
        if mode == "router" or plan.intent == Intent.SQL_QUESTION and LOOKS_LIKE_SQL.match(question):
            return plan, detail
        if mode == "router+llm" and scores.margin >= self.settings.assistant_tie_margin:
            return plan, detail + "; confident, the model was not asked"
        intents = [name for name, _ in scores.ranked[:CANDIDATES]] if mode == "router+llm" else None
        tools = _allowed_tools(self.registry, ctx, intents)
        backend = self.services.llm("planner")
        if backend.llm is None:
            notes.append(f"the LLM is not answering ({backend.note}); the router planned this turn alone")
            return plan, detail + "; LLM unavailable"
        try:
            choice = forced_choice(backend.llm, self.registry, ctx, question, state.describe(), tools)
        except LLM_ERRORS as exc:
            self.services.forget_llm()
            notes.append(f"the LLM server stopped answering ({type(exc).__name__}); the router planned this turn alone")
            return plan, detail + "; LLM unavailable"
        if choice.tool is None:
            return plan, detail + f"; the model's choice was unusable ({choice.error}), router's plan kept"
        chosen_intent = _intent_for(choice.tool, plan.intent, intents)
        if mode == "llm":
            return self._model_plan(question, choice, chosen_intent, plan, state, ctx, today, detail)
        if chosen_intent is None or chosen_intent == plan.intent:
            return plan, detail + f"; the model chose {choice.tool}" + (
                ", agreeing" if chosen_intent else ", not a candidate: router's plan kept"
            )
        slots = plan.slots
        assert slots is not None
        chosen_intent = refine_intent(chosen_intent, question, slots, state)  # the rules hold whoever chose
        if chosen_intent == plan.intent:
            return plan, detail + f"; the model chose {choice.tool}, the same after the rules"
        replanned = build_plan(chosen_intent, question, slots, state)
        replanned.scores = scores
        return replanned, detail + f"; unsure, the model broke the tie: {chosen_intent}"

    def _model_plan(
        self,
        question: str,
        choice: Any,
        intent: str | None,
        router_plan: Plan,
        state: ConversationState,
        ctx: ToolContext,
        today: datetime,
        detail: str,
    ) -> tuple[Plan, str]:
        """The model plans alone (measured by the harness): its tool and its arguments, checked by the
        registry; the router's plan only where the model's call is invalid."""
        from winback.assistant.router import PlannedCall

        if choice.tool in (RESPOND, CLARIFY):
            plan = Plan(choice.tool, reply=str(choice.args.get("question") or "Which customer do you mean?"))
            return plan, f"model: {choice.tool}"
        spec = self.registry.tools.get(choice.tool)
        try:
            if spec is None:
                raise LookupError(f"no tool named {choice.tool}")
            spec.args_schema.model_validate(choice.args)
        except Exception as exc:
            return (
                router_plan,
                detail + f"; the model's call {choice.tool} was invalid ({type(exc).__name__}): router's plan",
            )
        return Plan(
            intent or choice.tool, [PlannedCall(choice.tool, dict(choice.args))]
        ), f"model: {choice.tool} {choice.args}"

    def _native_turn(
        self,
        question: str,
        ctx: ToolContext,
        state: ConversationState,
        messages: list[Any],
        prior: list[str],
        notes: list[str],
    ) -> Generator[Event, None, tuple[str, list[ToolCall], str, str, GroundingReport] | None]:
        """A capable server plans and calls tools itself; its prose is shown only if grounded. Returns
        None (after a note) when no LLM answers, so the router takes the turn."""
        from langchain.agents import create_agent
        from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage

        from winback.assistant.lc_tools import langchain_tools
        from winback.prompts import load_prompt

        backend = self.services.llm("tools")
        if backend.llm is None:
            notes.append(f"the LLM is not answering ({backend.note}); the router planned this turn")
            return None
        buffered: list[Event] = []
        calls: list[ToolCall] = []

        def on_call(kind: str, name: str, payload: Any) -> None:
            if kind == "start":
                buffered.append(Event("tool_start", {"name": name, "args": payload}))
            else:
                payload.planner = "tools"
                calls.append(payload)
                buffered.append(Event("tool_end", {"call": payload}))

        tools = langchain_tools(self.registry, ctx, on_call=on_call)
        system = load_prompt("agent_system.v1.txt").format(
            role=ctx.role.value, today=f"{self.today():%Y-%m-%d}", context=state.describe()
        )
        agent = create_agent(backend.llm, tools, system_prompt=system)
        past = [HumanMessage(text) if sender == "user" else AIMessage(text) for sender, text in history(messages)]
        yield Event("planner", {"planner": "tools", "detail": "the model calls tools natively", "intent": ""})
        prose = ""
        try:
            for chunk, _meta in agent.stream(
                {"messages": [*past, HumanMessage(question)]}, stream_mode="messages", config={"recursion_limit": 12}
            ):
                while buffered:
                    yield buffered.pop(0)
                if isinstance(chunk, AIMessageChunk | AIMessage) and isinstance(chunk.content, str) and chunk.content:
                    if getattr(chunk, "tool_call_chunks", None) or getattr(chunk, "tool_calls", None):
                        continue
                    prose += chunk.content
                    yield Event("token", {"text": chunk.content})
        except LLM_ERRORS as exc:
            self.services.forget_llm()
            notes.append(f"the LLM server stopped answering ({type(exc).__name__}); the router answered instead")
            return None
        while buffered:
            yield buffered.pop(0)
        grounding = check_grounding(prose, prior + _evidence(calls), question)
        detail = f"model called {', '.join(c.name for c in calls) or 'no tool'}"
        answer = prose.strip()
        if not grounding.ok or not answer:
            why = "it had figures no tool returned" if not grounding.ok else "it was empty"
            notes.append(f"the model's own answer was replaced by the tool results ({why})")
            answer = render(calls) if calls else "I don't know: none of my tools returned that."
            flagged = grounding
            grounding = check_grounding(answer, prior + _evidence(calls), question)
            detail += f"; prose replaced ({flagged.to_dict()})"
            yield Event("replace", {"text": answer})
        return answer, calls, detail, calls[0].name if calls else RESPOND, grounding


def _evidence(calls: list[ToolCall]) -> list[str]:
    return [c.result.text + "\n" + json.dumps(c.result.data, default=str) for c in calls]


def _named(plan: Plan) -> list[str]:
    """Customers this turn singled out (named, picked from a list, or the one a follow-up meant)."""
    ids = [c.args["customer_id"] for c in plan.calls if c.args.get("customer_id")]
    return ids if len(set(ids)) == 1 else []


def _allowed_tools(registry: ToolRegistry, ctx: ToolContext, intents: list[str] | None) -> list[str] | None:
    if intents is None:
        return None
    tools = load_intents().tools
    return [tools[i] for i in intents if tools.get(i) and tools[i] in registry and ctx.role in registry[tools[i]].roles]


def _intent_for(tool: str, router_intent: str, candidates: list[str] | None) -> str | None:
    if tool in (RESPOND, CLARIFY):  # a reply without tools wins only if the router had it among its candidates
        return RESPOND if tool == RESPOND and (candidates is None or RESPOND in candidates) else None
    tools = load_intents().tools
    if tools.get(router_intent) == tool:
        return router_intent
    matches = [name for name, t in tools.items() if t == tool and (candidates is None or name in candidates)]
    return matches[0] if matches else None
