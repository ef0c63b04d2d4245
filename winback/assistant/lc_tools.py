"""The registry's tools as LangChain tools, for models that call tools (natively, or under a forced
choice). Every call still goes through the registry: role check, validation, timing, redaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from winback.assistant.intents import Intent
from winback.tools import ToolCall, ToolContext, ToolRegistry


class RespondArgs(BaseModel):
    message: str = Field(description="a short reply: greeting, thanks, help, or why the question is out of scope")


class ClarifyArgs(BaseModel):
    question: str = Field(description="the question to ask the user, e.g. which customer they mean")


def pseudo_tools() -> list[BaseTool]:
    """The two ways to answer without a tool, offered beside the real ones under a forced choice."""
    return [
        StructuredTool.from_function(
            func=lambda message: message,
            name=Intent.RESPOND,
            args_schema=RespondArgs,
            description="Reply without data: greetings, thanks, help, or out-of-scope questions.",
        ),
        StructuredTool.from_function(
            func=lambda question: question,
            name=Intent.CLARIFY,
            args_schema=ClarifyArgs,
            description="Ask the user which customer or detail they mean when it is missing.",
        ),
    ]


def langchain_tools(
    registry: ToolRegistry,
    ctx: ToolContext,
    names: list[str] | None = None,
    on_call: Callable[[str, str, Any], None] | None = None,
) -> list[BaseTool]:
    """Tools this role may use (optionally only `names`). `on_call(event, name, payload)` reports
    "start" (args) and "end" (ToolCall) so a caller can stream tool steps."""
    tools: list[BaseTool] = []
    for spec in registry.allowed(ctx):
        if names is not None and spec.name not in names:
            continue

        def run(_name: str = spec.name, **kwargs: Any) -> str:
            if on_call:
                on_call("start", _name, kwargs)
            call: ToolCall = registry.call(_name, kwargs, ctx)
            if on_call:
                on_call("end", _name, call)
            return call.result.text

        tools.append(
            StructuredTool.from_function(
                func=run, name=spec.name, description=spec.description, args_schema=spec.args_schema
            )
        )
    return tools
