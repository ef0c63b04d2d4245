"""The one door to every tool: checks the caller's role, validates arguments, times the call, hides
personal data the role may not see, turns failures into values and records what happened."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, select

from winback.data.schema import Customer
from winback.errors import UserError
from winback.roles import may_see_pii, name_parts
from winback.tools.base import Tool, ToolContext, ToolResult, redact_emails

log = logging.getLogger(__name__)
MAX_NAMED_CUSTOMERS = 1000  # the customers a result is about whose names are masked in it (lists are shorter)


@dataclass
class ToolCall:
    """One call as the trace, the audit log and `winback ask --json` show it."""

    name: str
    args: dict[str, Any]
    result: ToolResult
    seconds: float = 0.0
    planner: str = ""

    @property
    def ok(self) -> bool:
        return self.result.ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "args": self.args,
            "ok": self.ok,
            "summary": self.result.summary,
            "seconds": round(self.seconds, 3),
        }


def _redact(value: Any, names: re.Pattern[str] | None) -> Any:
    if isinstance(value, str):
        value = redact_emails(value)
        return names.sub(lambda m: m.group(0)[0] + ".", value) if names else value
    if isinstance(value, list):
        return [_redact(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _redact(v, names) for k, v in value.items()}
    return value


def _names_in(engine: Engine, customer_ids: list[str]) -> re.Pattern[str] | None:
    """The parts of these customers' names as whole words, as stored (`Ann`, `Lee`): an offer's subject
    greets by first name, and any text a tool lets through may quote one."""
    if not customer_ids:
        return None
    with engine.connect() as connection:
        names = connection.scalars(
            select(Customer.name).where(Customer.customer_id.in_(customer_ids[:MAX_NAMED_CUSTOMERS]))
        ).all()
    return name_parts(names)


def _validation_message(tool: Tool, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        problems.append(f"{where}: {error['msg']}")
    return f"{tool.name}: invalid arguments ({'; '.join(problems)})"


@dataclass
class ToolRegistry:
    tools: dict[str, Tool] = field(default_factory=dict)

    @classmethod
    def of(cls, tools: Iterable[Tool]) -> ToolRegistry:
        return cls({t.name: t for t in tools})

    def allowed(self, ctx: ToolContext) -> list[Tool]:
        return [t for t in self.tools.values() if ctx.role in t.roles]

    def __contains__(self, name: str) -> bool:
        return name in self.tools

    def __getitem__(self, name: str) -> Tool:
        return self.tools[name]

    def call(self, name: str, args: dict[str, Any] | None, ctx: ToolContext) -> ToolCall:
        started = time.perf_counter()
        raw = dict(args or {})
        tool = self.tools.get(name)
        if tool is None:
            result = ToolResult.failure(f"there is no tool called {name!r}; known: {', '.join(self.tools)}")
        elif ctx.role not in tool.roles:
            allowed = ", ".join(sorted(r.value for r in tool.roles))
            result = ToolResult.failure(f"the {ctx.role.value} role may not use {name} (allowed: {allowed})")
        else:
            try:
                parsed = tool.args_schema.model_validate(raw)
            except ValidationError as exc:
                result = ToolResult.failure(_validation_message(tool, exc))
            else:
                raw = parsed.model_dump(mode="json", exclude_none=True)
                result = self._run(tool, parsed, ctx)
        if not may_see_pii(ctx.role):  # whatever a tool let through, names and e-mail addresses stay masked
            names = _names_in(ctx.engine, result.customer_ids)
            result = ToolResult(
                result.ok,
                _redact(result.summary, names),
                _redact(result.text, names),
                _redact(result.data, names),
                result.customer_ids,
            )
        return ToolCall(name, raw, result, time.perf_counter() - started)

    @staticmethod
    def _run(tool: Tool, parsed: Any, ctx: ToolContext) -> ToolResult:
        try:
            return tool.run(parsed, ctx)
        except UserError as exc:
            return ToolResult.failure(str(exc))
        except Exception as exc:  # a bug must not end the conversation; the log keeps the details
            log.exception("tool %s failed", tool.name)
            return ToolResult.failure(
                f"{tool.name} failed unexpectedly ({type(exc).__name__}); the details are in the log"
            )
