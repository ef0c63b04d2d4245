"""`winback config`, `winback db ...`, `winback seed`, `winback stats`: the settings and the database."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from winback.cli.common import JsonFlag, console, day, emit_json, engine, note, progress, say
from winback.config import get_settings

commands = typer.Typer()
db_app = typer.Typer(help="Create and migrate the database.", no_args_is_help=True)


@commands.command("config")
def config_command(
    as_json: JsonFlag = False,
    reference: Annotated[bool, typer.Option("--reference", help="Print every setting's default and meaning.")] = False,
) -> None:
    """Print the effective settings (passwords and keys masked)."""
    from winback.config import settings_reference

    if reference:
        print(settings_reference())  # plain: no wrapping, so it pastes into markdown as it is
        return
    values = get_settings().masked()
    if as_json:
        emit_json(values)
        return
    table = Table("setting", "value", "env var", title="winback settings")
    for name, value in values.items():
        table.add_row(name, value or "(unset)", f"WINBACK_{name.upper()}")
    console.print(table)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head", as_json: JsonFlag = False
) -> None:
    """Create or migrate the contract tables (Alembic)."""
    from winback.data.migrate import current_revision, upgrade

    db = engine()
    before = current_revision(db)
    readers = upgrade(db, revision)
    after = current_revision(db)
    where = db.url.render_as_string(hide_password=True)
    if as_json:
        emit_json({"database": where, "before": before, "after": after, "free_sql_off": readers})
        return
    if before == after:
        say(f"database {where} already at revision {after}")
    else:
        say(f"database {where} upgraded from {before or 'empty'} to {after}")
    if readers:
        note(f"free SQL stays off: {readers}")


@db_app.command("current")
def db_current(as_json: JsonFlag = False) -> None:
    """Print the database's migration revision and the newest one available."""
    from winback.data.migrate import current_revision, head_revision

    current, head = current_revision(engine()), head_revision()
    if as_json:
        emit_json({"current": current, "head": head})
    else:
        say(f"current: {current or 'none'}  head: {head}")


@db_app.command("fingerprint")
def db_fingerprint(as_json: JsonFlag = False) -> None:
    """Print a content hash per table (equal data gives equal hashes on SQLite and PostgreSQL)."""
    from winback.data.fingerprint import database_fingerprint

    hashes = database_fingerprint(engine())
    if as_json:
        emit_json(hashes)
        return
    for name, digest in hashes.items():
        say(f"{'all tables' if name == '*' else name:<16} {digest}")


@db_app.command("create-reader")
def db_create_reader(
    member: Annotated[
        list[str] | None,
        typer.Option(help="Also let this role (the application's, when you run this as a superuser) use the readers."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """PostgreSQL: create the reader roles free SQL runs as (column grants, no personal data for roles
    without it, no chat tables) and revoke set_config from PUBLIC; needs a superuser or CREATEROLE."""
    from winback.data.safesql.reader_roles import READERS, create_reader_roles

    setup = create_reader_roles(engine(), tuple(member or ()))
    if as_json:
        emit_json(
            {"readers": list(READERS), "members": list(setup.members), "set_config_revoked": setup.set_config_revoked}
        )
        return
    say(f"reader roles {', '.join(READERS)} ready; members: {', '.join(setup.members)}")
    if not setup.set_config_revoked:
        note("set_config() is still callable by the readers: run this once as a superuser, or free SQL stays off")


@commands.command("seed")
def seed_command(
    customers: Annotated[int, typer.Option(help="How many customers to simulate.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same shop, byte for byte.")] = 7,
    as_of: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day of the simulated history.")
    ] = None,
    replace: Annotated[bool, typer.Option(help="Empty the contract tables first (destroys their data).")] = False,
    workers: Annotated[int | None, typer.Option(help="Simulation processes (default: up to 2).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Fill the database with a simulated online shop (see docs/demo-shop.md)."""
    from winback.data.demo.seed import DEFAULT_AS_OF, seed_demo

    with progress() as bar:
        task = bar.add_task("simulating customers", total=customers)
        report = seed_demo(
            engine(),
            customers=customers,
            seed=seed,
            as_of=as_of or DEFAULT_AS_OF,
            replace=replace,
            workers=workers,
            progress=lambda n: bar.advance(task, n),
        )
    if as_json:
        emit_json(
            {"customers": report.customers, "seed": seed, "rows": report.rows, "seconds": round(report.seconds, 2)}
        )
        return
    rows = ", ".join(f"{n:,} {t}" for t, n in report.rows.items())
    say(
        f"seeded {report.customers:,} customers (seed {seed}) in {report.seconds:.1f} s: {rows} "
        f"({report.total_rows / report.seconds:,.0f} rows/s)"
    )


@commands.command("stats")
def stats_command(
    as_of: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Reference date (default: latest order).")
    ] = None,
    quiet_days: Annotated[int, typer.Option(min=1, help="Days without an order that count as quiet.")] = 90,
    as_json: JsonFlag = False,
) -> None:
    """Row counts, date ranges and the share of customers with no recent order."""
    from winback.data.stats import collect_stats

    stats = collect_stats(engine(), as_of=as_of, quiet_days=quiet_days)
    if as_json:
        emit_json(
            {
                "tables": {t.name: {"rows": t.rows, "first": day(t.first), "last": day(t.last)} for t in stats.tables},
                "reference_date": day(stats.reference_date),
                "customers": stats.customers,
                "quiet_days": stats.quiet_days,
                "quiet_customers": stats.quiet_customers,
                "quiet_share": round(stats.quiet_share, 4),
                "segments": stats.segments,
                "risk_bands": stats.risk_bands,
                "model_version": stats.model_version,
                "scored_at": stats.scored_at.isoformat() if stats.scored_at else None,
            }
        )
        return
    table = Table("table", "rows", "from", "to", title="winback database")
    for t in stats.tables:
        table.add_row(t.name, f"{t.rows:,}", day(t.first), day(t.last))
    console.print(table)
    if stats.segments:
        say("segments: " + ", ".join(f"{k} {v:,}" for k, v in stats.segments.items()))
    say(
        f"customers with no order in the {stats.quiet_days} days before {day(stats.reference_date) or 'today'}: "
        f"{stats.quiet_customers:,} of {stats.customers:,} ({stats.quiet_share:.1%})"
    )
    if stats.risk_bands and stats.scored_at:
        scored = sum(stats.risk_bands.values())
        say(
            f"churn risk (model {stats.model_version}, scored {stats.scored_at:%Y-%m-%d %H:%M}): "
            + ", ".join(f"{band} {n:,} ({n / scored:.1%})" for band, n in stats.risk_bands.items())
        )
    else:
        say("churn risk: not scored yet (run `winback train` and `winback score`)")
