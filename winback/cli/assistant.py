"""`winback ask` and `winback serve`: the assistant in a terminal, and the web UI."""

from __future__ import annotations

import json
import sys
from typing import Annotated, get_args

import typer

from winback.cli.common import JsonFlag, RoleOption, emit_json, err, say
from winback.config import Planner, get_settings

commands = typer.Typer()
PLANNERS = [p for p in get_args(Planner) if p != "auto"]


@commands.command("ask")
def ask_command(
    question: Annotated[str, typer.Argument(help='Your question, e.g. "who is most likely to churn?".')],
    role: RoleOption = "cs_staff",
    session: Annotated[
        str | None, typer.Option(help="Continue this conversation (its id is printed after each answer).")
    ] = None,
    user: Annotated[str, typer.Option(help="Who is asking (recorded with the conversation and any offer).")] = "cli",
    planner: Annotated[
        str | None, typer.Option(help=f"{', '.join(PLANNERS)} (default: WINBACK_ASSISTANT_PLANNER).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Ask the assistant; tool steps show on stderr as they run, the answer streams on stdout. With --json:
    one object with answer, tool_calls, data, planner, session_id, latency_ms and trace."""
    from winback.assistant import Assistant

    if planner is not None and planner not in PLANNERS:
        raise typer.BadParameter(f"choose {', '.join(PLANNERS)}", param_hint="--planner")
    assistant = Assistant(get_settings(), planner=planner)
    turn = None
    for event in assistant.stream(question, session, role, user):
        if event.kind == "done":
            turn = event.data["turn"]
        elif as_json:
            continue
        elif event.kind == "planner":
            err.print(f"[dim]planner: {event.data['detail']}[/]", highlight=False)
        elif event.kind == "tool_start":
            err.print(f"[dim]→ {event.data['name']} {json.dumps(event.data['args'], default=str)}[/]", highlight=False)
        elif event.kind == "tool_end":
            call = event.data["call"]
            mark = "✓" if call.ok else "✗"
            err.print(f"[dim]{mark} {call.name}: {call.result.summary} ({call.seconds:.2f} s)[/]", highlight=False)
        elif event.kind == "token":
            sys.stdout.write(event.data["text"])
            sys.stdout.flush()
        elif event.kind == "replace":
            sys.stdout.write("\n\n(replaced by the tool results)\n" + event.data["text"])
    assert turn is not None  # stream() always ends with a "done" event
    if as_json:
        emit_json(turn.to_dict())
        return
    sys.stdout.write("\n")
    if turn.session_id:
        err.print(
            f"[dim]{turn.latency_ms:,} ms · session {turn.session_id} (continue with --session {turn.session_id})[/]",
            highlight=False,
        )


@commands.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 7860,
) -> None:
    """Start the web UI: chat, at-risk table, customer cards with offers, manager view (sign-in required)."""
    from winback.roles import Role
    from winback.ui.app import App, launch

    ui = App(get_settings())
    password = ui.users.ensure_admin()
    if password:
        roles = "|".join(r.value for r in Role)
        say(
            f"first start: created user 'admin' with password {password} — it is shown only this once; "
            f"add people with `winback users add NAME --role {roles}`"
        )
    say(f"winback UI on http://{host}:{port} (Ctrl+C to stop)")
    launch(ui, host, port, block=True)
