"""Conversation memory: the messages of a session (persisted by winback.data.conversations) and the state
follow-ups resolve against — the last list of customers ("the second customer") and the customer the
conversation is about ("and her tickets?")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from winback.data.conversations import StoredMessage

HISTORY_TURNS = 6  # what a model sees of earlier turns: enough for follow-ups, short enough for a 4k context


@dataclass
class ConversationState:
    customer_ids: list[str] = field(default_factory=list)  # the last list shown, in order
    focus: str | None = None  # the customer the conversation is about now
    last_call: dict[str, Any] | None = None  # {"intent", "tool", "args"} of the last list or figure shown
    pending: list[dict[str, Any]] | None = None  # readings the last answer asked about: [{"intent", "calls"}]
    answered: str | None = None  # the intent of the last answer ("them" points at its rows only if it listed some)

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_ids": self.customer_ids,
            "focus": self.focus,
            "last_call": self.last_call,
            "pending": self.pending,
            "answered": self.answered,
        }

    @classmethod
    def from_messages(cls, messages: list[StoredMessage]) -> ConversationState:
        for message in reversed(messages):
            if message.sender == "assistant" and message.context:
                context = message.context
                return cls(
                    list(context.get("customer_ids") or []),
                    context.get("focus"),
                    context.get("last_call"),
                    context.get("pending"),
                    context.get("answered"),
                )
        return cls()

    def after(
        self,
        named: list[str],
        results: list[list[str]],
        last_call: dict[str, Any] | None = None,
        pending: list[dict[str, Any]] | None = None,
        answered: str | None = None,
    ) -> ConversationState:
        """The state after a turn: a tool that listed several customers sets the list; one customer (named,
        picked from the list, or the only one a tool was about) becomes the focus, and a new list alone ends
        it; a list or figure shown becomes the call that follow-ups change; readings asked about last
        turn (`pending`) last one turn."""
        state = ConversationState(list(self.customer_ids), self.focus, last_call or self.last_call, pending, answered)
        listed = single = False
        for ids in results:
            if len(ids) > 1:
                state.customer_ids, listed = ids, True
            elif len(ids) == 1:
                state.focus, single = ids[0], True
        if len(named) == 1:
            state.focus, single = named[0], True
        if listed and not single:
            state.focus = None  # after a new list, "they" are the list, and "her" needs a pick from it
        return state

    def describe(self) -> str:
        """For a model: what references can point at."""
        parts = []
        if self.customer_ids:
            numbered = ", ".join(f"{n}. {c}" for n, c in enumerate(self.customer_ids[:20], 1))
            parts.append(f"the last list of customers: {numbered}")
        if self.focus:
            parts.append(f"the customer being discussed: {self.focus}")
        return "; ".join(parts) or "no customer discussed yet"


def evidence(messages: list[StoredMessage]) -> list[str]:
    """Every tool output of the conversation so far: what an answer's figures may come from."""
    return [call.get("text", "") for m in messages if m.sender == "assistant" for call in m.tool_calls]


def history(messages: list[StoredMessage], turns: int = HISTORY_TURNS) -> list[tuple[str, str]]:
    return [(m.sender, m.content) for m in messages[-2 * turns :]]
