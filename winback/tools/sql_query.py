"""Tool: answer a data question no named lookup covers, with SQL the LLM writes and three walls check
(sqlglot allow-list for the role, a read-only connection, a timeout and row cap)."""

from __future__ import annotations

import re
from datetime import date

import openai
from pydantic import BaseModel, Field

from winback.data.safesql.guard import SqlRefused
from winback.data.safesql.guarded import GuardedResult, run_guarded
from winback.data.safesql.limits import RateLimited
from winback.data.safesql.readonly import QueryFailed
from winback.roles import ROLES_WITH_FREE_SQL
from winback.tools.base import Tool, ToolContext, ToolFailure, ToolResult
from winback.tools.markdown import table, table_data
from winback.tools.names import ToolName

SHOWN_ROWS = 20
LOOKS_LIKE_SQL = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)


class SqlQuestionArgs(BaseModel):
    question: str = Field(
        min_length=3, max_length=2_000, description="the data question in plain words (or one SELECT statement)"
    )
    window_start: date | None = Field(None, description="first day of the window the question names, if any")
    window_end: date | None = Field(None, description="last day of that window (included)")
    window_words: str | None = Field(None, max_length=80, description="the window as the question says it")
    one_value: bool = Field(False, description="the question asks for one number (how many, how much, what share)")


def _shown(result: GuardedResult, sql: str, attempts: int) -> ToolResult:
    frame = result.result.frame
    columns = [str(c) for c in frame.columns]
    rows = [list(r) for r in frame.head(SHOWN_ROWS).itertuples(index=False)]
    more = f" (first {SHOWN_ROWS} shown)" if len(frame) > SHOWN_ROWS else ""
    cut = f"; {result.cut_by}" if result.cut_by else ""
    text = f"{len(frame):,} rows{more}{cut}, from this read-only query:\n\n```sql\n{sql}\n```\n\n" + (
        table(columns, rows) if rows else "No rows."
    )
    data = {
        "table": table_data(columns, [list(r) for r in frame.itertuples(index=False)]),
        "sql": sql,
        "attempts": attempts,
    }
    hint = result.result.chart
    if hint is not None:
        data["chart"] = {
            "type": hint.kind,
            "title": "",
            "x": [str(v) for v in frame[hint.x]],
            "y": [float(v) for v in frame[hint.y[0]]],
            "y_title": hint.y[0],
            "x_title": hint.x,
        }
    ids = [str(v) for v in frame["customer_id"]] if "customer_id" in frame.columns else []
    return ToolResult(True, f"{len(frame):,} rows", text, data, ids)


def run(args: SqlQuestionArgs, ctx: ToolContext) -> ToolResult:
    if LOOKS_LIKE_SQL.match(args.question):
        try:
            result = run_guarded(ctx.settings, args.question, ctx.role, user=ctx.actor)
        except (SqlRefused, QueryFailed, RateLimited) as exc:
            raise ToolFailure(f"that query cannot run: {exc}") from None
        return _shown(result, result.checked.sql, 0)
    backend = ctx.services.llm("sql")
    if backend.llm is None:
        raise ToolFailure(
            f"free questions need the LLM to write SQL, and none is answering ({backend.note}); "
            "the named lookups still work"
        )
    from winback.llm.sql_writer import Expected, SqlWriter

    writer = ctx.services.cached("llm:sql_writer", lambda: SqlWriter(ctx.settings, backend.llm, ctx.engine))
    try:
        expected = Expected(
            args.one_value,
            (args.window_words or "the window", args.window_start, args.window_end) if args.window_end else None,
        )
        answer = writer.answer(args.question, ctx.role, ctx.actor, expected)
    except RateLimited as exc:
        raise ToolFailure(str(exc)) from None
    except (openai.APIConnectionError, openai.APITimeoutError, openai.InternalServerError):
        ctx.services.forget_llm()
        raise ToolFailure(
            "the LLM server stopped answering while writing the query; the named lookups still work"
        ) from None
    if answer.result is None:
        tried = answer.attempts[-1].sql if answer.attempts else ""
        raise ToolFailure(
            f"no safe query answered that after {len(answer.attempts)} attempts: {answer.error}"
            + (f" (last query: {tried})" if tried else "")
        )
    return _shown(answer.result, answer.result.checked.sql, len(answer.attempts))


TOOL = Tool(
    name=ToolName.SQL_QUESTION,
    description="Answer a data question no other tool covers by writing a read-only SQL query (managers, admins).",
    args_schema=SqlQuestionArgs,
    run=run,
    roles=ROLES_WITH_FREE_SQL,
    kind="analysis",
)
