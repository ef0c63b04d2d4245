"""`winback sql`: one read-only, validated statement over the contract tables."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from winback.cli.common import JsonFlag, RoleOption, console, emit_json, note
from winback.config import get_settings

commands = typer.Typer()


@commands.command("sql")
def sql_command(
    statement: Annotated[str, typer.Argument(help="One SELECT over the contract tables.")],
    role: RoleOption = "manager",
    as_json: JsonFlag = False,
    max_rows: Annotated[
        int | None, typer.Option(min=1, max=100_000, help="Row cap (default: WINBACK_SQL_MAX_ROWS).")
    ] = None,
    timeout: Annotated[float | None, typer.Option(min=0.1, help="Seconds before the query is stopped.")] = None,
) -> None:
    """Run a read-only, validated SQL query; refusals exit with status 2, database errors and timeouts with 3."""
    from winback.data.safesql.guard import SqlRefused
    from winback.data.safesql.guarded import run_guarded
    from winback.data.safesql.limits import RateLimited
    from winback.data.safesql.readonly import QueryFailed
    from winback.data.safesql.shaping import format_value

    try:
        answer = run_guarded(get_settings(), statement, role, max_rows, timeout)
    except SqlRefused as exc:
        note(f"refused: {exc}")
        raise typer.Exit(2) from None
    except (QueryFailed, RateLimited) as exc:
        note(f"error: {exc}")
        raise typer.Exit(3) from None
    frame = answer.result.frame
    if as_json:
        rows = [dict(zip(frame.columns, row, strict=True)) for row in frame.itertuples(index=False)]
        emit_json(
            {
                "columns": list(frame.columns),
                "rows": rows,
                "truncated": answer.result.truncated,
                "sql": answer.checked.sql,
            }
        )
        return
    cut = f" ({answer.cut_by})" if answer.cut_by else ""
    table = Table(*map(str, frame.columns), title=f"{len(frame):,} rows{cut} in {answer.seconds * 1000:.0f} ms")
    for row in frame.itertuples(index=False):
        table.add_row(*(format_value(v) for v in row))
    console.print(table)
