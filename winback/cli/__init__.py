"""The `winback` command line, one module per command group: db (settings, migrations, demo seed, stats),
data (CSV import/export), model (train, score, drivers), search (index, search, themes), sql, lookups
(customer, at-risk, segments, printed through the assistant's tools), offers, llm, users, assistant (ask,
serve), campaign and demo (campaigns.py), schedule, alerts and briefing (jobs.py). `common` holds what they
share.

Every command reads the settings from winback.config (env vars WINBACK_*, winback.toml) and takes --json
when it prints data. Errors that are the user's to fix print one line on stderr and exit with status 2
(rejected import rows: 1; SQL errors and an unreachable LLM: 3).
"""

from __future__ import annotations

import logging
import os
import sys

import typer
from pydantic import ValidationError
from sqlalchemy.exc import ArgumentError, OperationalError

from winback.cli import assistant, campaigns, data, db, jobs, llm, lookups, model, offers, search, sql, users
from winback.cli.common import note
from winback.config import get_settings
from winback.data.private import PRIVATE_UMASK, private_dir
from winback.errors import UserError

app = typer.Typer(help="winback: a retention assistant.", no_args_is_help=True, pretty_exceptions_enable=False)
for module in (db, model, search, sql, lookups, assistant):
    app.registered_commands += module.commands.registered_commands
app.add_typer(db.db_app, name="db")
app.add_typer(data.import_app, name="import")
app.add_typer(data.export_app, name="export")
app.add_typer(offers.offers_app, name="offers")
app.add_typer(campaigns.campaign_app, name="campaign")
app.add_typer(campaigns.demo_app, name="demo")
app.add_typer(llm.llm_app, name="llm")
app.add_typer(users.users_app, name="users")
app.add_typer(assistant.daemon_app, name="daemon")
app.add_typer(jobs.schedule_app, name="schedule")
app.add_typer(jobs.alerts_app, name="alerts")
app.add_typer(jobs.briefing_app, name="briefing")


@app.callback()
def _configure_logging() -> None:
    """winback's own log lines (tool failures, sign-ins) at WINBACK_LOG_LEVEL, on stderr."""
    os.umask(PRIVATE_UMASK)  # every file winback writes (database, exports, logs, models) is the owner's only
    settings = get_settings()
    if settings.data_dir.exists():
        private_dir(settings.data_dir)
    level = settings.log_level
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("winback").setLevel(level)


def main() -> None:
    """Console-script entry point: user errors become one line on stderr, not a traceback."""
    user_errors = (UserError, OperationalError, ArgumentError, ValidationError, OSError)
    try:
        app()
    except user_errors as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, OperationalError):
            message = f"cannot use the database: {str(exc.orig).strip().splitlines()[0]}"
        elif isinstance(exc, ValidationError):
            message = "invalid setting: " + "; ".join(
                f"WINBACK_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
            )
        note(f"error: {message}")
        sys.exit(2)
