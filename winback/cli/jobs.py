"""`winback schedule list|run|pause|resume|set|runs|serve`, `winback alerts run|list|ack|snooze|reopen` and
`winback briefing show|send|subscribe|unsubscribe`: what winback does on its own (docs/jobs.md)."""

from __future__ import annotations

import signal
import threading
from typing import Annotated, Any

import typer
from rich.table import Table

from winback.cli.common import JsonFlag, RoleOption, console, emit_json, engine, note, say
from winback.config import get_settings
from winback.errors import UserError

schedule_app = typer.Typer(
    help="Scheduled jobs: re-scoring, indexing, campaign windows, the briefing.", no_args_is_help=True
)
alerts_app = typer.Typer(help="Alerts raised by the rules after each scoring run.", no_args_is_help=True)
briefing_app = typer.Typer(help="The daily briefing, per role, on screen and by e-mail.", no_args_is_help=True)

DETAIL_WIDTH = 80
JobArgument = Annotated[str, typer.Argument(help="index, score, campaigns or briefing.")]


# ---------------------------------------------------------------------------------------------- schedule
@schedule_app.command("list")
def schedule_list(as_json: JsonFlag = False) -> None:
    """Each job: what it does, its schedule, the next run (or paused) and how the last run went."""
    from winback.jobs.scheduler import JOB_COLUMNS, scheduled_jobs

    jobs = scheduled_jobs(get_settings())
    if as_json:
        emit_json([j.as_dict() for j in jobs])
        return
    _print_rows(JOB_COLUMNS, [j.cells() for j in jobs])


@schedule_app.command("run")
def schedule_run(name: JobArgument, as_json: JsonFlag = False) -> None:
    """Run a job now, in this process (recorded like a scheduled run)."""
    from winback.jobs.catalog import run_job

    record = run_job(name, get_settings())
    assert record is not None  # a manual run's slot is its own moment
    if as_json:
        emit_json(
            {
                "job": name,
                "status": record.status,
                "rows": record.rows,
                "detail": record.detail,
                "seconds": record.seconds,
            }
        )
    else:
        say(f"{name}: {record.status} in {record.seconds or 0:.1f} s — {record.detail}")
    if record.status != "ok":
        raise typer.Exit(1)


@schedule_app.command("pause")
def schedule_pause(name: JobArgument) -> None:
    """Stop a job from running on schedule (kept across restarts) until `resume`."""
    from winback.jobs.scheduler import pause

    pause(get_settings(), name)
    say(f"{name}: paused")


@schedule_app.command("resume")
def schedule_resume(name: JobArgument) -> None:
    from winback.jobs.scheduler import resume

    resume(get_settings(), name)
    say(f"{name}: resumed")


@schedule_app.command("set")
def schedule_set(
    name: JobArgument,
    schedule: Annotated[str, typer.Argument(help="A crontab line ('0 5 * * *') or an interval ('every 30m').")],
) -> None:
    """Change a job's schedule (kept in the database: every process and restart sees it)."""
    from winback.jobs.scheduler import reschedule

    say(f"{name}: {reschedule(get_settings(), name, schedule)}")


@schedule_app.command("runs")
def schedule_runs(
    name: Annotated[str | None, typer.Argument(help="Only this job.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1_000)] = 20,
    as_json: JsonFlag = False,
) -> None:
    """The latest runs: when, how (schedule or by hand), how long, how many rows, the outcome."""
    from winback.jobs.runs import RUN_COLUMNS, recent_runs

    runs = recent_runs(engine(), name, limit)
    if as_json:
        emit_json([r.__dict__ | {"seconds": r.seconds} for r in runs])
        return
    _print_rows(RUN_COLUMNS, [r.cells() for r in runs])


def _print_rows(columns: list[str], rows: list[list[Any]]) -> None:
    """A terminal table of job or run rows (the detail cut to one readable line)."""
    table = Table(*columns)
    detail = columns.index("detail")
    for row in rows:
        cells = [_cell(v) for v in row]
        cells[detail] = cells[detail][:DETAIL_WIDTH]
        table.add_row(*cells)
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}"  # rows
    if isinstance(value, float):
        return f"{value:.1f}"  # seconds
    return str(value)


@schedule_app.command("serve")
def schedule_serve() -> None:
    """Run the scheduled jobs in this process until stopped (for a machine without the UI; `winback serve`
    runs them too). Several processes may run it: each slot of a job runs once."""
    from winback.jobs.scheduler import start, stop

    scheduler = start(get_settings())
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    note("scheduler running (Ctrl+C to stop)")
    done.wait()
    stop(scheduler)


# ------------------------------------------------------------------------------------------------ alerts
@alerts_app.command("run")
def alerts_run(as_json: JsonFlag = False) -> None:
    """Evaluate every rule now (the score job does it after each scoring run)."""
    from winback.jobs.alerts import evaluate

    result = evaluate(engine(), get_settings())
    if as_json:
        emit_json(
            {"fired": result.fired, "repeated": result.repeated, "notified": result.notified, "notes": result.notes}
        )
        return
    say(result.summary() + (f"; {result.notified} notified" if result.notified else ""))
    for line in result.notes:
        note(line)


@alerts_app.command("list")
def alerts_list(
    role: RoleOption = "admin",
    all_: Annotated[bool, typer.Option("--all", help="Also acknowledged and snoozed ones.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Open alerts for a role (admin: every role's), newest first."""
    from winback.jobs.alerts import list_alerts

    alerts = list_alerts(engine(), role, include_done=all_)
    if as_json:
        emit_json([a.__dict__ for a in alerts])
        return
    if not alerts:
        say("no open alerts")
        return
    table = Table("alert", "raised", "rule", "for", "status", "what")
    for a in alerts:
        table.add_row(a.alert_id, f"{a.fired_at:%Y-%m-%d %H:%M}", a.rule, a.role, a.status, a.title)
    console.print(table)


def _act(alert_id: str, user: str, role: str, action: str, hours: float = 24.0) -> None:
    from winback.jobs.alerts import act_on

    status = act_on(engine(), alert_id, user, role, action, hours)  # type: ignore[arg-type]  # a typer choice below
    say(f"{alert_id}: {status}")


@alerts_app.command("ack")
def alerts_ack(alert_id: str, user: Annotated[str, typer.Option()] = "cli", role: RoleOption = "admin") -> None:
    """Acknowledge an alert (someone is on it)."""
    _act(alert_id, user, role, "acknowledge")


@alerts_app.command("snooze")
def alerts_snooze(
    alert_id: str,
    hours: Annotated[float, typer.Option(min=0.02, max=24 * 90)] = 24.0,
    user: Annotated[str, typer.Option()] = "cli",
    role: RoleOption = "admin",
) -> None:
    """Hide an alert for some hours; it comes back open afterwards."""
    _act(alert_id, user, role, "snooze", hours)


@alerts_app.command("reopen")
def alerts_reopen(alert_id: str, user: Annotated[str, typer.Option()] = "cli", role: RoleOption = "admin") -> None:
    _act(alert_id, user, role, "reopen")


# ---------------------------------------------------------------------------------------------- briefing
@briefing_app.command("show")
def briefing_show(
    role: RoleOption = "manager",
    html_out: Annotated[str | None, typer.Option("--html", help="Also write the page as HTML to this file.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Today's briefing for a role, as the e-mail's plain-text part."""
    from pathlib import Path

    from winback.jobs.briefing import compose
    from winback.tools import Services

    page = compose(Services(get_settings()), role, "cli")
    if html_out:
        Path(html_out).write_text(page.html_on_screen(), encoding="utf-8")
    if as_json:
        emit_json(
            {
                "title": page.title,
                "day": page.day.isoformat(),
                "figures": page.figures,
                "sections": [{"title": s.title, "lines": s.lines, "table": s.table} for s in page.sections],
                "grounding": {"ok": page.grounding.ok, "unsupported_numbers": page.grounding.unsupported_numbers},
            }
        )
    else:
        say(page.text())


@briefing_app.command("send")
def briefing_send(
    channel: Annotated[
        str | None, typer.Option(help="smtp, smtp://host:port, outbox:DIR or webhook:URL (default: the settings').")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Send today's briefing to every subscriber who has not had it (the briefing job does this daily)."""
    from winback.jobs.briefing import send_briefings
    from winback.tools import Services

    report = send_briefings(Services(get_settings()), channel)
    if as_json:
        emit_json(
            {
                "day": str(report.day),
                "sent": report.sent,
                "already": report.already,
                "failed": report.failed,
                "notes": report.notes,
            }
        )
    else:
        say(report.summary())
    if report.failed:
        raise typer.Exit(1)


@briefing_app.command("subscribe")
def briefing_subscribe(
    user: Annotated[str, typer.Argument(help="A user of the web UI (winback users list).")],
    email: Annotated[str, typer.Option(help="Where the briefing goes.")],
) -> None:
    """E-mail a user their role's briefing every day."""
    from winback.jobs.briefing import subscribe
    from winback.ui.users import UserStore

    settings = get_settings()
    assert settings.users_file is not None
    known = UserStore(settings.users_file).users().get(user)
    if known is None:
        raise UserError(f"no user named {user!r} (add one with `winback users add`)")
    subscribe(engine(), user, known.role, email)
    say(f"{user} ({known.role.value}) gets the daily briefing at {email}")


@briefing_app.command("unsubscribe")
def briefing_unsubscribe(user: str) -> None:
    from winback.jobs.briefing import unsubscribe

    say(f"{user}: unsubscribed" if unsubscribe(engine(), user) else f"{user} was not subscribed")
