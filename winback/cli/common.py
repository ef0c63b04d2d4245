"""What every command group shares: the two consoles, the database engine, progress bars, the --json and
--role options, one way to print data as JSON, and one door to the assistant's tools (so a lookup prints
exactly what the assistant and the UI show, through the same role checks)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from winback.config import get_settings
from winback.errors import UserError
from winback.roles import Role

console = Console()
err = Console(stderr=True, soft_wrap=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
RoleOption = Annotated[str, typer.Option(help=f"Whose permissions: {', '.join(r.value for r in Role)}.")]


def engine() -> Engine:
    from winback.data.db import make_engine

    return make_engine(settings=get_settings())


def progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,  # no bar in logs and pipes
    )


@contextmanager
def counting(description: str, total: int, every_s: float = 5.0) -> Iterator[Callable[[int], None]]:
    """Progress of a long job: a bar on a terminal, else one plain line on stderr every few seconds (logs,
    pipes, CI), with the rate and the time left. Yields `advance(n)`."""
    if err.is_terminal:
        with progress() as bar:
            task = bar.add_task(description, total=total)
            yield lambda n: bar.advance(task, n)
        return
    started = last = time.monotonic()
    done = 0

    def advance(n: int) -> None:
        nonlocal done, last
        done += n
        now = time.monotonic()
        if now - last >= every_s:
            last = now
            rate = done / max(now - started, 1e-9)
            left = (total - done) / rate if rate and total > done else 0.0
            share = f" ({100 * done / total:.0f} %)" if total else ""
            note(f"{description}: {done:,} of {total:,}{share}, {rate:,.0f}/s, about {left:,.0f} s left")

    yield advance


def say(text: str) -> None:
    """Plain text on stdout: no rich markup or highlighting (data may contain brackets and customer text)."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def note(text: str) -> None:
    err.print(text, markup=False, highlight=False)


def emit_json(value: Any) -> None:
    """The one JSON format of every command: indented, UTF-8, dates as ISO strings."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    print(json.dumps(value, indent=2, default=_plain, ensure_ascii=False))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def run_tool(name: str, args: dict[str, Any], role: str) -> Any:
    """Run one of the assistant's tools as `role` (the registry checks the role, validates the arguments and
    masks personal data); a failure is the user's one-line error. Returns the ToolResult."""
    from winback.roles import parse_role
    from winback.tools import Services, ToolContext, default_registry

    ctx = ToolContext(Services(get_settings()), parse_role(role), actor="cli")
    call = default_registry().call(name, {k: v for k, v in args.items() if v is not None}, ctx)
    if not call.ok:
        raise UserError(call.result.summary)
    return call.result


def print_tool(name: str, args: dict[str, Any], role: str, as_json: bool) -> None:
    """A lookup as the assistant shows it: the tool's text, or with --json its structured data."""
    result = run_tool(name, args, role)
    if as_json:
        emit_json(result.data)
    else:
        say(result.text)
