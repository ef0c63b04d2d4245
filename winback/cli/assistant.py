"""`winback ask` and `winback serve`: the assistant in a terminal, and the web UI."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Annotated, Any, get_args

import typer

from winback.cli.common import JsonFlag, RoleOption, emit_json, err, say
from winback.config import Planner, Settings, get_settings
from winback.errors import UserError

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
    daemon: Annotated[
        bool | None,
        typer.Option(
            "--daemon/--no-daemon", help="Answer through the warm background process (default: WINBACK_ASK_DAEMON)."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Ask the assistant; tool steps show on stderr as they run, the answer streams on stdout. With --json:
    one object with answer, tool_calls, data, planner, session_id, latency_ms and trace. The first call
    starts a warm background process for this data folder (`winback daemon status|stop`)."""
    if planner is not None and planner not in PLANNERS:
        raise typer.BadParameter(f"choose {', '.join(PLANNERS)}", param_hint="--planner")
    settings = get_settings()
    request = {"question": question, "session": session, "role": role, "user": user}
    if settings.ask_daemon if daemon is None else daemon:
        from winback.cli import daemon as warm

        events = warm.ask(settings, request, planner)
    else:
        events = _in_process(settings, request, planner)
    turn = None
    for event in events:
        kind = event["kind"]
        if kind == "done":
            turn = event["turn"]
        elif kind == "error":
            raise UserError(f"the assistant failed: {event['message']}")
        elif as_json:
            continue
        elif kind == "planner":
            err.print(f"[dim]planner: {event['detail']}[/]", highlight=False)
        elif kind == "tool_start":
            err.print(f"[dim]→ {event['name']} {json.dumps(event['args'], default=str)}[/]", highlight=False)
        elif kind == "tool_end":
            mark = "✓" if event["ok"] else "✗"
            err.print(f"[dim]{mark} {event['name']}: {event['summary']} ({event['seconds']:.2f} s)[/]", highlight=False)
        elif kind == "token":
            sys.stdout.write(event["text"])
            sys.stdout.flush()
        elif kind == "replace":
            sys.stdout.write("\n\n(replaced by the tool results)\n" + event["text"])
    if turn is None:
        raise UserError("the assistant ended the turn without an answer")
    if as_json:
        emit_json(turn)
        return
    sys.stdout.write("\n")
    if turn["session_id"]:
        err.print(
            f"[dim]{turn['latency_ms']:,} ms · session {turn['session_id']} (continue with --session {turn['session_id']})[/]",
            highlight=False,
        )


def _in_process(settings: Settings, request: dict[str, Any], planner: str | None) -> Iterator[dict[str, Any]]:
    from winback.assistant import Assistant
    from winback.cli.daemon import wire

    assistant = Assistant(settings, planner=planner)
    for event in assistant.stream(request["question"], request["session"], request["role"], request["user"]):
        yield wire(event)


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
    scheduler = None
    if ui.settings.scheduler:  # the scheduled jobs run beside the UI (WINBACK_SCHEDULER=false: they do not)
        from winback.jobs.scheduler import start, stop

        scheduler = start(ui.settings)
    try:
        launch(ui, host, port, block=True)
    finally:
        if scheduler is not None:
            stop(scheduler)


daemon_app = typer.Typer(help="The warm background process `winback ask` answers through.", no_args_is_help=True)


@daemon_app.command("start")
def daemon_start(
    foreground: Annotated[bool, typer.Option(help="Serve in this process (what the background process runs).")] = False,
    planner: Annotated[str | None, typer.Option(help=f"{', '.join(PLANNERS)}.")] = None,
) -> None:
    """Start this data folder's assistant process (the first `winback ask` does it too)."""
    from winback.cli import daemon as warm

    settings = get_settings()
    if foreground:
        warm.serve(settings, planner)
        return
    warm.start(settings, planner)
    say(f"assistant process up: {warm.socket_path(settings)}")


@daemon_app.command("stop")
def daemon_stop() -> None:
    """Stop this data folder's assistant process."""
    from winback.cli import daemon as warm

    say("stopped" if warm.request_stop(get_settings()) else "not running")


@daemon_app.command("status")
def daemon_status(as_json: JsonFlag = False) -> None:
    """Whether this data folder's assistant process is up."""
    from winback.cli import daemon as warm

    state = warm.status(get_settings())
    if as_json:
        emit_json(state)
        return
    say(f"running (pid {state['pid']}, {state['socket']})" if state["running"] else f"not running ({state['socket']})")
