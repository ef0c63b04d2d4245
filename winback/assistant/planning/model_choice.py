"""Step 3 of planning, by the model: one forced, grammar-guided tool choice (tool_choice="required") over
a few candidate tools plus `respond` and `ask_clarifying_question`. A small model chooses well only among
few options, so the rules pass their closest candidates; `metric_query` is offered with the catalog's
measure and dimension names as enums, so a model-filled query names only what the catalog defines (and
MetricQuery, the compiler and the database still check it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.tools import BaseTool, StructuredTool

from winback.assistant.intents import Intent
from winback.assistant.lc_tools import langchain_tools, pseudo_tools
from winback.assistant.planning.candidates import load_intents
from winback.data.metrics import load_catalog
from winback.data.metrics.query import metric_query_schema
from winback.prompts import load_prompt
from winback.tools import ToolContext, ToolRegistry
from winback.tools.names import ToolName


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
    today: str = "",
) -> ForcedChoice:
    tools = [_guided(t) for t in langchain_tools(registry, ctx, candidates)] + pseudo_tools()
    bound = llm.bind_tools(tools, tool_choice="required")
    measures = _measures(tools) if candidates is not None else ""  # all tools: no room for the list in 4k tokens
    system = load_prompt("planner_forced.v2.txt").format(context=context, today=today, measures=measures)
    reply = bound.invoke([SystemMessage(system), HumanMessage(question)])
    calls = getattr(reply, "tool_calls", None) or []
    if not calls:
        return ForcedChoice(None, {}, "no tool call in the reply")
    first = calls[0]
    known = {t.name for t in tools}
    if first["name"] not in known:
        return ForcedChoice(None, first.get("args") or {}, f"unknown tool {first['name']!r}")
    return ForcedChoice(first["name"], first.get("args") or {})


def _guided(tool: BaseTool) -> BaseTool:
    """metric_query under the catalog's enums (the registry still validates the call)."""
    if tool.name != ToolName.METRIC_QUERY:
        return tool
    return StructuredTool.from_function(
        func=tool.invoke, name=tool.name, description=tool.description, args_schema=metric_query_schema()
    )


def _measures(tools: list[BaseTool]) -> str:
    """The measures in one line each, only when metric_query is offered (the prompt stays short otherwise)."""
    if not any(t.name == ToolName.METRIC_QUERY for t in tools):
        return ""
    catalog = load_catalog()
    lines = [f"- {m.name}: {m.definition}" for m in catalog.measures.values()]
    dims = ", ".join(catalog.dimensions)
    return "Measures metric_query knows:\n" + "\n".join(lines) + f"\nDimensions: {dims}.\n"


def allowed_tools(registry: ToolRegistry, ctx: ToolContext, intents: list[str] | None) -> list[str] | None:
    """The tools of these intents that the caller's role may use (None: every tool)."""
    if intents is None:
        return None
    tools = load_intents().tools
    found = [
        tools[i] for i in intents if tools.get(i) and tools[i] in registry and ctx.role in registry[tools[i]].roles
    ]
    return list(dict.fromkeys(found))


def intent_for(tool: str, router_intent: str, candidates: list[str] | None) -> str | None:
    """The intent a chosen tool stands for (the router's own where it agrees); None when not a candidate."""
    if tool in (Intent.RESPOND, Intent.CLARIFY):  # a reply without tools wins only if it was a candidate
        return (
            Intent.RESPOND if tool == Intent.RESPOND and (candidates is None or Intent.RESPOND in candidates) else None
        )
    tools = load_intents().tools
    if tools.get(router_intent) == tool:
        return router_intent
    matches = [name for name, t in tools.items() if t == tool and (candidates is None or name in candidates)]
    return matches[0] if matches else None
