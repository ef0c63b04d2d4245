"""The embedded model's part in planning: one forced, grammar-guided tool choice (tool_choice="required")
over a few candidate tools plus `respond` and `ask_clarifying_question`. A 0.5B model chooses well only
among few options, so the router passes its closest candidates; its own plan wins on any disagreement
it is not unsure about (see winback/assistant/agent.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from winback.assistant.lc_tools import langchain_tools, pseudo_tools
from winback.prompts import load_prompt
from winback.tools import ToolContext, ToolRegistry


@dataclass
class ForcedChoice:
    tool: str | None  # None when the reply had no usable call
    args: dict[str, Any]
    error: str | None = None


def forced_choice(
    llm: BaseChatModel,
    registry: ToolRegistry,
    ctx: ToolContext,
    question: str,
    context: str,
    candidates: list[str] | None = None,
) -> ForcedChoice:
    tools = langchain_tools(registry, ctx, candidates) + pseudo_tools()
    bound = llm.bind_tools(tools, tool_choice="required")
    messages = [SystemMessage(load_prompt("planner_forced.v1.txt").format(context=context)), HumanMessage(question)]
    reply = bound.invoke(messages)
    calls = getattr(reply, "tool_calls", None) or []
    if not calls:
        return ForcedChoice(None, {}, "no tool call in the reply")
    first = calls[0]
    known = {t.name for t in tools}
    if first["name"] not in known:
        return ForcedChoice(None, first.get("args") or {}, f"unknown tool {first['name']!r}")
    return ForcedChoice(first["name"], first.get("args") or {})
