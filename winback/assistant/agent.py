"""The assistant orchestrates a turn: the planning pipeline (assistant/planning: rules, the model where
they are unsure) or native tool calling decides, the registry runs the calls with the caller's role, code
renders the answer from their results, grounding is checked and the turn remembered. `stream()` yields
the steps as they happen; `ask()` returns the whole turn."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select

from winback.assistant.answers import help_text, render
from winback.assistant.grounding import GroundingReport, check_grounding
from winback.assistant.memory import ConversationState, evidence, history
from winback.assistant.planning import CLARIFY, FOLLOWS, RESPOND, Plan, Planner, Router, Vocabulary, load_intents
from winback.assistant.planning.interpretation import understood
from winback.assistant.planning.pipeline import LLM_ERRORS
from winback.config import Settings
from winback.data import conversations
from winback.data.lookups.common import existing_customer_ids, reference_date
from winback.data.metrics.values import metric_vocabulary
from winback.data.safesql.guarded import dialect_of
from winback.data.schema import Customer
from winback.roles import Role, parse_role
from winback.tools import Services, ToolCall, ToolContext, ToolRegistry, default_registry

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 4_000
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


@dataclass
class Outcome:
    """What a planner's turn produced, before it is remembered."""

    answer: str
    calls: list[ToolCall]
    planner: str
    detail: str
    intent: str
    grounding: GroundingReport
    named: list[str] = field(default_factory=list)
    last_call: dict[str, Any] | None = None
    pending: list[dict[str, Any]] | None = None  # the readings a confirming answer asked about

    def ids(self) -> list[list[str]]:
        return [c.result.customer_ids for c in self.calls if c.ok]


def _input_problem(question: str) -> str | None:
    if not question:
        return 'Ask me something about your customers — for example "who is most likely to churn?".'
    if len(question) > MAX_QUESTION_CHARS:
        return (
            f"That message is {len(question):,} characters long; I read at most {MAX_QUESTION_CHARS:,}. "
            "Ask a shorter question (paste ids, not whole documents)."
        )
    return None


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


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
        self._planner: Planner | None = None
        self._lock = threading.Lock()
        conversations.require_chat_tables(self.services.engine)

    # -- set-up -------------------------------------------------------------------------------------
    def planner(self) -> Planner:
        with self._lock:
            if self._planner is None:
                with self.services.engine.connect() as connection:
                    segments = sorted(connection.scalars(select(Customer.segment).distinct()))
                    countries = sorted(connection.scalars(select(Customer.country).distinct()))
                    values = metric_vocabulary(connection, dialect_of(self.settings.database_url))
                vocabulary = Vocabulary(segments, countries, load_intents().aliases, values)
                router = Router(self.services.embedder(), vocabulary, self._existing_ids)
                self._planner = Planner(router, self.registry, self.settings, self.services)
            return self._planner

    def router(self) -> Router:
        return self.planner().router

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
        """One turn: refuse bad input, load the conversation, plan and run (natively or through the
        planning pipeline), remember, report."""
        started = time.perf_counter()
        role, question = parse_role(role), question.strip()
        problem = _input_problem(question)
        if problem:
            yield Event("token", {"text": problem})
            yield Event("done", {"turn": Turn(question[:200], problem, [], "router", "input refused before planning",
                                              session_id, _ms(started), GroundingReport())})  # fmt: skip
            return
        engine = self.services.engine
        messages = conversations.load_own_messages(engine, session_id, user, role.value) if session_id else []
        if remember and session_id is None:
            session_id = conversations.create_session(engine, user, role.value, question)
        if remember and session_id:
            conversations.append_message(engine, session_id, "user", question)
        state, prior = ConversationState.from_messages(messages), evidence(messages)
        ctx, notes = ToolContext(self.services, role, user), list[str]()
        mode = self.planner_mode()
        outcome = None
        if mode == "tools":
            outcome = yield from self._native_turn(question, ctx, state, messages, prior, notes)
        if outcome is None:
            outcome = yield from self._planned_turn(question, ctx, state, prior, notes, mode)
        turn = Turn(question, outcome.answer, outcome.calls, outcome.planner, outcome.detail, session_id,
                    _ms(started), outcome.grounding, notes, outcome.intent)  # fmt: skip
        if remember and session_id:
            self._remember(
                session_id,
                turn,
                state.after(outcome.named, outcome.ids(), outcome.last_call, outcome.pending, outcome.intent).to_dict(),
            )
        if not turn.grounding.ok:
            log.warning("grounding check flagged %s", turn.grounding.to_dict())
        yield Event("done", {"turn": turn})

    def _planned_turn(
        self,
        question: str,
        ctx: ToolContext,
        state: ConversationState,
        prior: list[str],
        notes: list[str],
        mode: str,
    ) -> Generator[Event, None, Outcome]:
        """The planning pipeline decides (rules, or the model where they are unsure); code runs the calls
        and renders the answer from their results."""
        mode = "router" if mode == "tools" else mode  # native calling failed: the pipeline takes the turn
        plan = self.planner().plan(question, ctx, state, self.today(), mode, notes)
        detail = " → ".join(plan.trace)
        yield Event("planner", {"planner": "router", "detail": detail, "intent": plan.intent,
                                "decided_by": plan.decided_by})  # fmt: skip
        calls = []
        for planned in plan.calls:
            yield Event("tool_start", {"name": planned.tool, "args": planned.args})
            call = self.registry.call(planned.tool, planned.args, ctx)
            call.planner = plan.decided_by
            calls.append(call)
            yield Event("tool_end", {"call": call})
        if plan.intent == RESPOND:
            own = plan.reply or help_text(ctx.role)
            answer = own
        else:
            own = plan.reply or understood([(c.tool, c.args) for c in plan.calls], plan.unexplained)
            answer = plan.reply or (
                "Which customer do you mean?" if plan.intent == CLARIFY else f"{own}\n\n{render(calls)}"
            )
        answer = "\n\n".join([answer, *(f"_Note: {n}_" for n in notes)])
        grounding = check_grounding(answer, [*prior, own, *_evidence(calls), *notes], question)
        for piece in _chunks(answer):
            yield Event("token", {"text": piece})
        last_call = None
        if plan.intent in FOLLOWS and plan.calls and calls and calls[-1].ok:  # two windows compared: the later
            last_call = {"intent": str(plan.intent), "tool": plan.calls[-1].tool, "args": calls[-1].args}
        pending = [
            {"intent": str(r.intent), "calls": [{"tool": c.tool, "args": c.args} for c in r.calls]}
            for r in plan.readings
        ]
        outcome = Outcome(answer, calls, "router", detail, plan.intent, grounding, _named(plan), last_call)
        outcome.pending = pending or None
        return outcome

    def _remember(self, session_id: str, turn: Turn, context: dict[str, Any]) -> None:
        conversations.append_message(
            self.services.engine,
            session_id,
            "assistant",
            turn.answer,
            planner=turn.planner,
            tool_calls=[c.to_dict() | {"text": c.result.text} for c in turn.tool_calls],
            context=context,
            grounding=None if turn.grounding.ok else turn.grounding.to_dict(),
            latency_ms=turn.latency_ms,
        )

    # -- native tool calling ------------------------------------------------------------------------
    def _native_turn(
        self,
        question: str,
        ctx: ToolContext,
        state: ConversationState,
        messages: list[Any],
        prior: list[str],
        notes: list[str],
    ) -> Generator[Event, None, Outcome | None]:
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
        return Outcome(answer, calls, "tools", detail, calls[0].name if calls else RESPOND, grounding)


def _evidence(calls: list[ToolCall]) -> list[str]:
    return [c.result.text + "\n" + json.dumps(c.result.data, default=str) for c in calls]


def _named(plan: Plan) -> list[str]:
    """Customers this turn singled out (named, picked from a list, or the one a follow-up meant)."""
    ids = [c.args["customer_id"] for c in plan.calls if c.args.get("customer_id")]
    return ids if len(set(ids)) == 1 else []
