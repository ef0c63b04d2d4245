"""The `winback` command line: set up the database, load data, inspect it.

Every command reads the settings from winback.config (env vars WINBACK_*, winback.toml). Errors that
are the user's to fix print one line on stderr and exit with status 2 (rejected rows: status 1).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import ArgumentError, OperationalError

from winback.config import get_settings
from winback.errors import UserError

app = typer.Typer(help="winback: a retention assistant.", no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Create and migrate the database.", no_args_is_help=True)
offers_app = typer.Typer(
    help="Retention offers: history, outcomes and drafting within the policy.", no_args_is_help=True
)
llm_app = typer.Typer(help="The generator LLM: the embedded model and its local vLLM server.", no_args_is_help=True)
import_app = typer.Typer(help="Load your own data into the contract tables.", no_args_is_help=True)
export_app = typer.Typer(help="Write the contract tables out.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(llm_app, name="llm")
app.add_typer(offers_app, name="offers")
ROLE_OPTION = typer.Option(help="Whose permissions: cs_staff, support_agent, manager or admin.")
JSON_OPTION = typer.Option("--json", help="Print JSON instead of a table.")


console = Console()
err = Console(stderr=True, soft_wrap=True)


def _engine():  # type: ignore[no-untyped-def]
    from winback.data.db import make_engine

    return make_engine(settings=get_settings())


def _progress() -> Progress:
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


@app.command("config")
def config_command(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Print the effective settings (passwords and keys masked)."""
    values = get_settings().masked()
    if as_json:
        console.print_json(json.dumps(values))
        return
    table = Table("setting", "value", "env var", title="winback settings")
    for name, value in values.items():
        table.add_row(name, value or "(unset)", f"WINBACK_{name.upper()}")
    console.print(table)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Create or migrate the contract tables (Alembic)."""
    from winback.data.migrate import current_revision, upgrade

    engine = _engine()
    before = current_revision(engine)
    upgrade(engine, revision)
    after = current_revision(engine)
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        console.print(f"database {where} already at revision {after}")
    else:
        console.print(f"database {where} upgraded from {before or 'empty'} to {after}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's migration revision and the newest one available."""
    from winback.data.migrate import current_revision, head_revision

    console.print(f"current: {current_revision(_engine()) or 'none'}  head: {head_revision()}")


@db_app.command("fingerprint")
def db_fingerprint(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print a content hash per table (equal data gives equal hashes on SQLite and PostgreSQL)."""
    from winback.data.fingerprint import database_fingerprint

    hashes = database_fingerprint(_engine())
    if as_json:
        console.print_json(json.dumps(hashes))
        return
    for name, digest in hashes.items():
        console.print(f"{'all tables' if name == '*' else name:<16} {digest}")


@db_app.command("create-reader")
def db_create_reader(
    name: Annotated[str, typer.Option(help="Role name.")] = "winback_reader",
    password_env: Annotated[
        str | None, typer.Option(help="Read the password from this env var (default: a random one).")
    ] = None,
) -> None:
    """PostgreSQL: create a SELECT-only role for model-written SQL and print its URL (shown once)."""
    import os

    from winback.data.reader_role import create_reader_role

    password = os.environ.get(password_env) if password_env else None
    if password_env and not password:
        raise UserError(f"environment variable {password_env} is empty")
    url = create_reader_role(_engine(), name, password, get_settings().sql_timeout_s)
    console.print(
        f"role {name} can read the contract tables only; set:\nWINBACK_READONLY_DATABASE_URL={url}",
        markup=False,
        highlight=False,
    )


@llm_app.command("prepare")
def llm_prepare() -> None:
    """Join, verify and convert the shipped model into the data dir (once; about a minute on 2 cores)."""
    from winback.llm.model_files import prepare_model

    prepared = prepare_model(get_settings().data_dir)
    took = f"converted in {prepared.seconds:.0f} s" if prepared.seconds else "already prepared"
    console.print(f"{prepared.folder} ({took})", markup=False, highlight=False)


@llm_app.command("serve")
def llm_serve(
    foreground: Annotated[bool, typer.Option(help="Stay attached and stop the server on Ctrl-C.")] = False,
) -> None:
    """Start the embedded vLLM server on 127.0.0.1 (preparing the model first if needed)."""
    import time as _time

    from winback.llm.model_files import prepare_model
    from winback.llm.server import start_server, stop_server

    settings = get_settings()
    prepare_model(settings.data_dir)
    err.print("starting the embedded LLM server (about a minute on 2 cores)...", highlight=False)
    handle = start_server(settings)
    if handle.seconds_to_ready:
        console.print(
            f"LLM server ready in {handle.seconds_to_ready:.0f} s at {handle.base_url} (pid {handle.pid}, "
            f"log {handle.log})",
            markup=False,
            highlight=False,
        )
    else:
        console.print(
            f"an LLM server is already answering at {handle.base_url}; using it", markup=False, highlight=False
        )
    if foreground:
        try:
            while True:
                _time.sleep(3600)
        except KeyboardInterrupt:
            stop_server(settings)


@llm_app.command("stop")
def llm_stop() -> None:
    """Stop the embedded server started from this data dir."""
    from winback.llm.server import stop_server

    console.print("stopped" if stop_server(get_settings()) else "no embedded LLM server was running")


@llm_app.command("status")
def llm_status(as_json: Annotated[bool, JSON_OPTION] = False) -> None:
    """Probe the LLM server: model, context length, tool calling, structured output, tokens/s."""
    from winback.llm.probe import probe

    caps = probe(get_settings())
    if as_json:
        print(json.dumps(caps.to_dict(), indent=2))
    else:
        for key, value in caps.to_dict().items():
            if value is not None:
                console.print(f"{key:<18} {value}", markup=False, highlight=False)
    if not caps.reachable:
        raise typer.Exit(3)


@app.command("seed")
def seed_command(
    customers: Annotated[int, typer.Option(help="How many customers to simulate.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same shop, byte for byte.")] = 7,
    as_of: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day of the simulated history.")
    ] = None,
    replace: Annotated[bool, typer.Option(help="Empty the contract tables first (destroys their data).")] = False,
    workers: Annotated[int | None, typer.Option(help="Simulation processes (default: up to 2).")] = None,
) -> None:
    """Fill the database with a simulated online shop (see docs/demo-shop.md)."""
    from winback.data.demo.seed import DEFAULT_AS_OF, seed_demo

    engine = _engine()
    with _progress() as progress:
        task = progress.add_task("simulating customers", total=customers)
        report = seed_demo(
            engine,
            customers=customers,
            seed=seed,
            as_of=as_of or DEFAULT_AS_OF,
            replace=replace,
            workers=workers,
            progress=lambda n: progress.advance(task, n),
        )
    rows = ", ".join(f"{n:,} {t}" for t, n in report.rows.items())
    console.print(
        f"seeded {report.customers:,} customers (seed {seed}) in {report.seconds:.1f} s: {rows} "
        f"({report.total_rows / report.seconds:,.0f} rows/s)"
    )


def _parse_mappings(mappings: list[str]) -> dict[str, str]:
    out = {}
    for item in mappings:
        theirs, sep, ours = item.partition("=")
        if not sep or not theirs.strip() or not ours.strip():
            raise typer.BadParameter(f"{item!r} is not their_col=contract_col", param_hint="--map")
        out[theirs.strip()] = ours.strip()
    return out


@import_app.command("csv")
def import_csv_command(
    table: Annotated[str, typer.Argument(help="Contract table, e.g. customers or orders.")],
    file: Annotated[Path, typer.Argument(help="CSV file with a header row.")],
    mapping: Annotated[list[str] | None, typer.Option("--map", help="their_col=contract_col, repeatable.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Rows validated and committed together.")] = 5_000,
    all_or_nothing: Annotated[
        bool, typer.Option(help="One transaction for the whole file: any rejected row imports nothing.")
    ] = False,
    date_format: Annotated[
        str | None, typer.Option(help="strptime format for dates that are not ISO 8601, e.g. %d/%m/%Y.")
    ] = None,
    encoding: Annotated[str, typer.Option(help="Text encoding of the file.")] = "utf-8-sig",
    delimiter: Annotated[str, typer.Option(help="Field separator.")] = ",",
) -> None:
    """Validate and load a CSV into one table; rejected rows go to FILE.rejects.csv (exit status 1)."""
    from winback.data.importer import import_csv

    engine = _engine()
    with _progress() as progress:
        task = progress.add_task(f"importing {file.name} into {table}", total=None)
        report = import_csv(
            engine,
            table,
            file,
            mapping=_parse_mappings(mapping or []),
            batch_size=batch_size,
            all_or_nothing=all_or_nothing,
            date_format=date_format,
            encoding=encoding,
            delimiter=delimiter,
            progress=lambda n: progress.advance(task, n),
        )
    if report.ignored_columns:
        err.print(f"ignored columns not in {table}: {', '.join(report.ignored_columns)}")
    for rejection in report.rejections[:20]:
        err.print(f"line {rejection.line}: {rejection.reason}", markup=False, highlight=False)
    if report.rejected > 20:
        err.print(f"... and {report.rejected - 20:,} more")
    summary = f"{report.rows_inserted:,} of {report.rows_read:,} rows imported into {table} in {report.seconds:.1f} s"
    if report.rolled_back:
        summary += " (--all-or-nothing: rolled back because rows were rejected)"
    console.print(summary)
    if report.rejected:
        err.print(f"{report.rejected:,} rows rejected; details in {report.rejects_path}")
        raise typer.Exit(1)


@export_app.command("csv")
def export_csv_command(
    directory: Annotated[Path, typer.Argument(help="Folder to write <table>.csv files into.")],
    tables: Annotated[list[str] | None, typer.Option("--table", help="Only these tables (repeatable).")] = None,
) -> None:
    """Export the contract tables as CSV files that `winback import csv` reads back losslessly."""
    from winback.data.exporter import export_csv
    from winback.data.schema import CONTRACT_TABLES

    unknown = sorted(set(tables or []) - set(CONTRACT_TABLES))
    if unknown:
        raise typer.BadParameter(f"unknown table(s) {', '.join(unknown)}", param_hint="--table")
    with _progress() as progress:
        task = progress.add_task(f"exporting to {directory}", total=None)
        counts = export_csv(
            _engine(), directory, tables or CONTRACT_TABLES, progress=lambda _t, n: progress.advance(task, n)
        )
    for name, rows in counts.items():
        console.print(f"{name:<16} {rows:>10,} rows -> {directory / (name + '.csv')}")


@app.command("train")
def train_command(
    horizon: Annotated[int, typer.Option(min=7, help="Churn = no order in this many days after a cutoff.")] = 90,
    cutoffs: Annotated[int, typer.Option(min=1, help="Historical training cutoffs, one horizon apart.")] = 3,
    members: Annotated[int, typer.Option(min=1, help="Networks in the ensemble.")] = 3,
    seed: Annotated[int, typer.Option(help="Seed: the same data and seed give the same model.")] = 7,
    device: Annotated[str | None, typer.Option(help="cpu or cuda (default: cuda when available).")] = None,
) -> None:
    """Train the churn model on historical cutoffs, evaluate it out of time, save a versioned artefact."""
    from winback.model.pipeline import train_churn_model
    from winback.model.train import TrainConfig

    settings = get_settings()
    config = TrainConfig(members=members, seed=seed, device=device)
    with _progress() as progress:
        task = progress.add_task("preparing", total=None)
        report = train_churn_model(
            _engine(),
            settings.data_dir,
            horizon,
            cutoffs,
            config,
            progress=lambda step: progress.update(task, description=step),
            on_epoch=lambda: progress.advance(task),
        )
    m = report.metrics
    table = Table("metric", "value", title=f"model {report.version}: out-of-time test ({m['rows']:,} customers)")
    for name, label in [
        ("roc_auc", "ROC-AUC"),
        ("pr_auc", "PR-AUC"),
        ("brier", "Brier score"),
        ("ece", "expected calibration error"),
        ("top_decile_lift", "top-decile lift"),
        ("positive_rate", "churn rate"),
    ]:
        table.add_row(label, f"{m[name]:.3f}")
    console.print(table)
    console.print("top drivers: " + ", ".join(report.global_drivers["feature"].head(6)))
    console.print(f"saved to {report.folder}")


@app.command("score")
def score_command(
    as_of: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Score as of this date (default: latest order).")
    ] = None,
    chunk_size: Annotated[int, typer.Option(min=100, help="Customers per chunk (bounds memory).")] = 10_000,
    version: Annotated[str | None, typer.Option(help="Model version (default: the latest).")] = None,
    customer: Annotated[
        list[str] | None, typer.Option("--customer", help="Only print these customers' scores (repeatable).")
    ] = None,
) -> None:
    """Score every customer into churn_scores (or print the scores of --customer ids)."""
    from winback.model.scoring import ChurnScorer, score_all, score_customers

    settings = get_settings()
    scorer = ChurnScorer.load(settings.data_dir, version)
    engine = _engine()
    if customer:
        for score in score_customers(engine, scorer, customer, as_of):
            console.print(f"{score.customer_id}: {score.probability:.0%} churn risk ({score.risk_band})")
            for driver in score.drivers:
                console.print(f"  - {driver.text}", markup=False, highlight=False)
        return
    with _progress() as progress:
        task = progress.add_task("scoring customers", total=None)
        report = score_all(engine, scorer, as_of, chunk_size, progress=lambda n: progress.advance(task, n))
    table = Table(
        "risk band", "customers", "share", title=f"scored {report.customers:,} customers as of {report.as_of:%Y-%m-%d}"
    )
    for band in ("low", "medium", "high", "critical"):
        n = report.bands.get(band, 0)
        table.add_row(band, f"{n:,}", f"{n / report.customers:.1%}" if report.customers else "-")
    console.print(table)
    console.print(
        f"model {report.model_version}, mean probability {report.mean_probability:.3f}, "
        f"{report.seconds:.1f} s ({report.customers / max(report.seconds, 1e-9):,.0f} customers/s)"
    )


@app.command("drivers")
def drivers_command(
    segment: Annotated[str | None, typer.Option(help="Only this segment, e.g. gold.")] = None,
    country: Annotated[str | None, typer.Option(help="Only this country.")] = None,
    top: Annotated[int, typer.Option(min=1, help="How many drivers to list.")] = 10,
    sample: Annotated[int, typer.Option(min=100, help="Customers explained (evenly spread over the group).")] = 5_000,
) -> None:
    """What drives churn risk overall, or in a segment or country (mean contribution to the probability)."""
    from winback.model.scoring import ChurnScorer, group_drivers

    scorer = ChurnScorer.load(get_settings().data_dir)
    summary, size = group_drivers(_engine(), scorer, segment=segment, country=country, sample=sample)
    who = " ".join(x for x in (segment, country) if x) or "all customers"
    table = Table("feature", "importance", "mean effect", title=f"churn drivers: {who} ({size:,} customers)")
    for row in summary.head(top).itertuples():
        table.add_row(row.feature, f"{row.importance:.3f}", f"{row.mean_contribution:+.3f}")
    console.print(table)


def _feedback_collection(create: bool = True):  # type: ignore[no-untyped-def]
    from winback.search.embeddings import get_embedder
    from winback.search.store import chroma_client, open_collection

    settings = get_settings()
    client = chroma_client(settings)  # a server that is down fails here, before seconds of model loading
    embedder = get_embedder(settings.embedding_model)
    return open_collection(settings, embedder, create=create, client=client), embedder


def _filters(**values: object) -> dict[str, object]:
    return {k: v for k, v in values.items() if v is not None}


@app.command("index")
def index_command() -> None:
    """Index reviews and support tickets for search (incremental: only new, changed or deleted rows)."""
    from winback.search.indexer import count_sources, index_feedback

    engine = _engine()
    collection, embedder = _feedback_collection()
    with _progress() as progress:
        task = progress.add_task("indexing reviews and tickets", total=count_sources(engine))
        report = index_feedback(engine, collection, embedder, progress=lambda n: progress.advance(task, n))
    console.print(
        f"index: {report.added:,} added, {report.updated:,} updated, {report.deleted:,} deleted, "
        f"{report.unchanged:,} unchanged, {report.skipped_empty:,} empty skipped; {report.chunks_written:,} chunks "
        f"embedded in {report.seconds:.1f} s ({report.texts_per_second:,.0f} texts/s); "
        f"{collection.count():,} chunks in the index"
    )


@app.command("search")
def search_command(
    query: Annotated[
        str, typer.Argument(help='What to look for, in plain words; ids and "quoted phrases" match exactly.')
    ],
    k: Annotated[int, typer.Option("-k", "--top", min=1, max=100, help="How many results.")] = 10,
    mode: Annotated[str, typer.Option(help="hybrid, semantic or keyword.")] = "hybrid",
    customer: Annotated[str | None, typer.Option(help="Only this customer.")] = None,
    kind: Annotated[str | None, typer.Option(help="review or ticket.")] = None,
    min_rating: Annotated[int | None, typer.Option()] = None,
    max_rating: Annotated[int | None, typer.Option()] = None,
    since: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
    until: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
    segment: Annotated[str | None, typer.Option()] = None,
    risk_band: Annotated[str | None, typer.Option()] = None,
    topic: Annotated[str | None, typer.Option(help="Ticket topic, e.g. refund.")] = None,
) -> None:
    """Search reviews and tickets (customer-written text, shown quoted)."""
    from winback.search.search import search_feedback

    if mode not in ("hybrid", "semantic", "keyword"):
        raise typer.BadParameter("choose hybrid, semantic or keyword", param_hint="--mode")
    collection, embedder = _feedback_collection(create=False)
    filters = _filters(
        customer_id=customer,
        kind=kind,
        min_rating=min_rating,
        max_rating=max_rating,
        since=since.date() if since else None,
        until=until.date() if until else None,
        segment=segment,
        risk_band=risk_band,
        topic=topic,
    )
    results = search_feedback(collection, embedder, query, filters, k, mode)  # type: ignore[arg-type]
    if not results:
        console.print("no matching reviews or tickets")
    for r in results:
        console.print(f"{r.score:.2f}  {r.quoted()}", markup=False, highlight=False)


@app.command("themes")
def themes_command(
    max_rating: Annotated[int | None, typer.Option(help="Only reviews rated at most this.")] = 2,
    kind: Annotated[str | None, typer.Option(help="review or ticket.")] = "review",
    since: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
    segment: Annotated[str | None, typer.Option()] = None,
    risk_band: Annotated[str | None, typer.Option()] = None,
    themes: Annotated[int | None, typer.Option(help="Number of themes (default: chosen by silhouette).")] = None,
) -> None:
    """Complaint themes in what a group of customers wrote, with size, trend, quotes and churn rate."""
    from winback.search.theme_cache import cached_themes

    collection, embedder = _feedback_collection(create=False)
    filters = _filters(
        max_rating=max_rating if kind != "ticket" else None,
        kind=kind,
        since=since.date() if since else None,
        segment=segment,
        risk_band=risk_band,
    )
    computed_at, report = cached_themes(get_settings().data_dir, _engine(), collection, embedder, filters, themes)
    overall = f"{report.overall_churn_rate:.0%}" if report.overall_churn_rate is not None else "n/a"
    console.print(
        f"{len(report.themes)} themes in {report.total:,} texts {report.filters}; "
        f"churn after writing, all of them: {overall} (computed {computed_at:%Y-%m-%d %H:%M})"
    )
    for number, t in enumerate(report.themes, 1):
        churn = f"{t.churn_rate:.0%}" if t.churn_rate is not None else "n/a"
        months = list(t.monthly.items())[-3:]
        trend = ", ".join(f"{m} {n}" for m, n in months)
        console.print(
            f"\n{number}. {t.label}: {t.size:,} texts ({t.share:.0%}), churn after writing {churn}; "
            f"latest months: {trend}",
            markup=False,
            highlight=False,
        )
        for example in t.examples:
            console.print(f"   {example.quoted()}", markup=False, highlight=False)


@app.command("sql")
def sql_command(
    statement: Annotated[str, typer.Argument(help="One SELECT over the contract tables.")],
    role: Annotated[
        str, typer.Option(help="Whose permissions: cs_staff, support_agent, manager or admin.")
    ] = "manager",
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
    max_rows: Annotated[
        int | None, typer.Option(min=1, max=100_000, help="Row cap (default: WINBACK_SQL_MAX_ROWS).")
    ] = None,
    timeout: Annotated[float | None, typer.Option(min=0.1, help="Seconds before the query is stopped.")] = None,
) -> None:
    """Run a read-only, validated SQL query; refusals exit with status 2, database errors and timeouts with 3."""
    from winback.data.guarded import run_guarded
    from winback.data.readonly import QueryFailed
    from winback.data.shaping import format_value
    from winback.data.sqlguard import SqlRefused

    settings = get_settings()
    try:
        answer = run_guarded(settings, statement, role, max_rows, timeout)
    except SqlRefused as exc:
        err.print(f"refused: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    except QueryFailed as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(3) from None
    frame = answer.result.frame
    if as_json:
        rows = [dict(zip(frame.columns, row, strict=True)) for row in frame.itertuples(index=False)]
        console.print_json(
            json.dumps(
                {
                    "columns": list(frame.columns),
                    "rows": rows,
                    "truncated": answer.result.truncated,
                    "sql": answer.checked.sql,
                },
                default=str,
            )
        )
        return
    note = " (cut by the row cap)" if answer.result.truncated else ""
    table = Table(*map(str, frame.columns), title=f"{len(frame):,} rows{note} in {answer.seconds * 1000:.0f} ms")
    for row in frame.itertuples(index=False):
        table.add_row(*(format_value(v) for v in row))
    console.print(table)


def _print_model(model, as_json: bool) -> bool:  # type: ignore[no-untyped-def]
    """Print a pydantic result as JSON when asked; tell the caller whether it did."""
    if as_json:
        print(model.model_dump_json(indent=2))
    return as_json


@app.command("customer")
def customer_command(
    customer_id: Annotated[str, typer.Argument(help="Customer id, e.g. C-1042.")],
    role: Annotated[str, ROLE_OPTION] = "cs_staff",
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """One customer's card: activity, open tickets, recent reviews, churn score and drivers, offers."""
    from winback.data.lookups import customer_profile
    from winback.data.shaping import format_value as fmt

    card = customer_profile(_engine(), customer_id, role)
    if _print_model(card, as_json):
        return
    console.print(
        f"[bold]{card.customer_id}[/] {card.name} <{card.email}> · {card.segment} · {card.city}, "
        f"{card.country} · customer for {card.tenure_days} days",
        highlight=False,
    )
    console.print(
        f"{card.orders} orders ({card.late_deliveries} late, {card.returned} returned, {card.cancelled} "
        f"cancelled) · lifetime value {fmt(card.lifetime_value)} · last 365 days {fmt(card.spend_365d)} · "
        f"last order {_date(card.last_order_at)} ({card.days_since_last_order} days before {_date(card.as_of)})",
        highlight=False,
    )
    if card.churn:
        console.print(
            f"churn probability {card.churn.probability:.0%} ({card.churn.risk_band}), "
            f"model {card.churn.model_version}, scored {_date(card.churn.scored_at)}",
            highlight=False,
        )
        for driver in card.churn.drivers:
            console.print(f"  • {driver.get('text', driver.get('feature'))}", markup=False, highlight=False)
    for t in card.open_tickets:
        console.print(
            f"open ticket {t.ticket_id} ({t.topic}, {t.status}, {t.days_open} days): [customer text] {t.excerpt!r}",
            markup=False,
            highlight=False,
        )
    for r in card.recent_reviews:
        console.print(
            f"review {r.review_id} {r.rating}★ {_date(r.created_at)}: [customer text] {r.excerpt!r}",
            markup=False,
            highlight=False,
        )
    for o in card.offers:
        console.print(
            f"offer {o.offer_id} {o.offer_type} {fmt(o.value)} {o.status} ({_date(o.created_at)})",
            markup=False,
            highlight=False,
        )


@app.command("at-risk")
def at_risk_command(
    segment: Annotated[str | None, typer.Option(help="Only this segment.")] = None,
    country: Annotated[str | None, typer.Option(help="Only this country.")] = None,
    band: Annotated[list[str] | None, typer.Option(help="Only these risk bands (repeat the option).")] = None,
    min_value: Annotated[float | None, typer.Option(help="Minimum lifetime value.")] = None,
    inactive_days: Annotated[int | None, typer.Option(help="No order for at least N days.")] = None,
    population: Annotated[str, typer.Option(help="active (default), lapsed (no order for a year) or all.")] = "active",
    sort: Annotated[
        str, typer.Option(help="probability, revenue_at_risk, lifetime_value or days_inactive.")
    ] = "probability",
    limit: Annotated[int, typer.Option(help="How many customers.")] = 20,
    role: Annotated[str, ROLE_OPTION] = "cs_staff",
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Customers most likely to churn, from the latest scoring run, with their top driver."""
    from winback.data.lookups import AtRiskArgs, at_risk_customers
    from winback.data.shaping import format_value as fmt

    args = AtRiskArgs(
        segment=segment,
        country=country,
        risk_bands=band or None,
        min_lifetime_value=min_value,
        inactive_days=inactive_days,
        population=population,
        sort=sort,
        limit=limit,
    )
    result = at_risk_customers(_engine(), args, role)
    if _print_model(result, as_json):
        return
    table = Table(
        "#",
        "customer",
        "name",
        "segment",
        "country",
        "churn",
        "band",
        "value",
        "at risk",
        "days quiet",
        "top driver",
        title=f"{len(result.rows)} of {_matching(result.matching)} matching customers "
        f"(scored {_date(result.scored_at)}, model {result.model_version})",
    )
    for r in result.rows:
        table.add_row(
            str(r.rank),
            r.customer_id,
            r.name,
            r.segment,
            r.country,
            f"{r.probability:.0%}",
            r.risk_band,
            fmt(r.lifetime_value),
            fmt(r.revenue_at_risk),
            fmt(r.days_since_last_order),
            r.top_driver or "",
        )
    console.print(table)
    for note in result.notes:
        err.print(f"note: {note}", markup=False, highlight=False)


@app.command("segments")
def segments_command(
    by: Annotated[
        str,
        typer.Option(
            help="segment, country, city, acquisition_channel, marketing_opt_in, signup_year, risk_band or all."
        ),
    ] = "segment",
    segment: Annotated[str | None, typer.Option(help="Only this segment.")] = None,
    country: Annotated[str | None, typer.Option(help="Only this country.")] = None,
    since: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"], help="Order metrics from this date (default: the 365 days to the scoring date)."
        ),
    ] = None,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Churn risk, revenue at risk, order value and late deliveries per group of customers."""
    from winback.data.lookups import SegmentArgs, segment_aggregates
    from winback.data.shaping import format_value as fmt

    report = segment_aggregates(_engine(), SegmentArgs(by=by, segment=segment, country=country, since=since))
    if _print_model(report, as_json):
        return
    table = Table(
        by,
        "customers",
        "mean churn",
        "high+critical",
        "revenue",
        "revenue at risk",
        "orders",
        "mean order",
        "late share",
        title=f"{_date(report.window_start)} to {_date(report.as_of)}, scores of {_date(report.scored_at)}",
    )
    for r in report.rows:
        table.add_row(
            r.group,
            fmt(r.customers),
            fmt(r.mean_probability),
            fmt(r.high_risk_share),
            fmt(r.revenue),
            fmt(r.revenue_at_risk),
            fmt(r.orders),
            fmt(r.mean_order_value),
            fmt(r.late_delivery_share),
        )
    console.print(table)


@offers_app.command("list")
def offers_list(
    customer: Annotated[str | None, typer.Option(help="Only offers to this customer.")] = None,
    status: Annotated[str | None, typer.Option(help="draft, approved, sent, rejected or redeemed.")] = None,
    offer_type: Annotated[str | None, typer.Option("--type", help="Only this kind of offer.")] = None,
    since: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Created on or after.")] = None,
    limit: Annotated[int, typer.Option(help="How many offers to list.")] = 20,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Offers made so far and how they turned out."""
    from winback.data.lookups import OfferHistoryArgs, offer_history
    from winback.data.shaping import format_value as fmt

    history = offer_history(
        _engine(),
        OfferHistoryArgs(customer_id=customer, status=status, offer_type=offer_type, since=since, limit=limit),
    )
    if _print_model(history, as_json):
        return
    o = history.outcomes
    if not o.offers:
        console.print("no offers match these filters yet")
        return
    console.print(
        f"{o.offers:,} offers · "
        + ", ".join(f"{k} {v}" for k, v in o.by_status.items() if v)
        + f" · redemption rate {fmt(o.redemption_rate) or 'n/a'} · reorder within 30 days "
        f"{fmt(o.reorder_rate) or 'n/a'}",
        highlight=False,
    )
    table = Table("offer", "customer", "created", "by", "type", "value", "status", "events", "reordered")
    for r in history.rows:
        table.add_row(
            r.offer_id,
            r.customer_id,
            _date(r.created_at),
            r.created_by,
            r.offer_type,
            fmt(r.value),
            r.status,
            str(r.events),
            "yes" if r.ordered_within_30d else "no",
        )
    console.print(table)


@offers_app.command("draft")
def offers_draft(
    top: Annotated[
        int, typer.Option(min=1, max=10_000, help="Draft for the N customers with the most revenue at risk.")
    ] = 20,
    segment: Annotated[str | None, typer.Option(help="Only this segment.")] = None,
    channel: Annotated[str, typer.Option(help="email or sms.")] = "email",
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Requests in flight (vLLM batches them).")] = 8,
    actor: Annotated[str, typer.Option(help="Recorded as the drafter.")] = "assistant",
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Templates only, no model.")] = False,
) -> None:
    """Draft win-back offers within the policy for the top-N at-risk customers (resumable)."""
    from winback.llm.backend import LlmBackend, connect_llm
    from winback.tools.offers.batch import draft_batch
    from winback.tools.offers.drafting import OfferDrafter

    if channel not in {"email", "sms"}:
        raise UserError(f"channel must be email or sms, not {channel!r}")
    settings = get_settings()
    engine = _engine()
    if no_llm:
        backend = LlmBackend(None, "none", False, "--no-llm: templates only")
    else:
        err.print("connecting to the LLM (the embedded server takes about a minute to start)...", highlight=False)
        backend = connect_llm(settings, max_tokens=160)
    if backend.note:
        err.print(f"note: {backend.note}", markup=False, highlight=False)
    drafter = OfferDrafter(engine, settings, backend.llm, structured=backend.structured)
    try:
        with Progress(
            SpinnerColumn(), TextColumn("drafting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
        ) as bar:
            task = bar.add_task("drafting", total=top)
            report = draft_batch(
                engine, drafter, top, segment, channel, concurrency, actor, progress=lambda _: bar.advance(task)
            )
    finally:
        backend.close(settings)
    table = Table("outcome", "customers", title=f"{report.asked} customers in {report.seconds:.0f} s")
    table.add_row("drafted", str(report.drafted))
    for source, n in sorted(report.sources.items()):
        table.add_row(f"  written by {source}", str(n))
    table.add_row("skipped: already have an offer", str(report.already_offered))
    for reason, n in report.no_offer.most_common():
        table.add_row(f"no offer: {reason}", str(n))
    for note, n in report.notes.most_common():
        table.add_row(f"note: {note}", str(n))
    if report.failed:
        table.add_row("failed", str(len(report.failed)))
    console.print(table)
    share = report.first_try_valid_share
    if share is not None and backend.llm is not None:
        console.print(f"written by {backend.kind}; model drafts valid at first try: {share:.0%}", highlight=False)
    for failure in report.failed[:5]:
        err.print(f"failed: {failure}", markup=False, highlight=False)


def _matching(count: int) -> str:
    from winback.data.lookups.at_risk import COUNT_CAP

    return f"more than {COUNT_CAP:,}" if count > COUNT_CAP else f"{count:,}"


def _date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


@app.command("stats")
def stats_command(
    as_of: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Reference date (default: latest order).")
    ] = None,
    quiet_days: Annotated[int, typer.Option(min=1, help="Days without an order that count as quiet.")] = 90,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Row counts, date ranges and the share of customers with no recent order."""
    from winback.data.stats import collect_stats

    stats = collect_stats(_engine(), as_of=as_of, quiet_days=quiet_days)
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "tables": {
                        t.name: {"rows": t.rows, "first": _date(t.first), "last": _date(t.last)} for t in stats.tables
                    },
                    "reference_date": _date(stats.reference_date),
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
        )
        return
    table = Table("table", "rows", "from", "to", title="winback database")
    for t in stats.tables:
        table.add_row(t.name, f"{t.rows:,}", _date(t.first), _date(t.last))
    console.print(table)
    if stats.segments:
        console.print("segments: " + ", ".join(f"{k} {v:,}" for k, v in stats.segments.items()))
    console.print(
        f"customers with no order in the {stats.quiet_days} days before {_date(stats.reference_date) or 'today'}: "
        f"{stats.quiet_customers:,} of {stats.customers:,} ({stats.quiet_share:.1%})"
    )
    if stats.risk_bands:
        scored = sum(stats.risk_bands.values())
        console.print(
            f"churn risk (model {stats.model_version}, scored {stats.scored_at:%Y-%m-%d %H:%M}): "
            + ", ".join(f"{band} {n:,} ({n / scored:.1%})" for band, n in stats.risk_bands.items())
        )
    else:
        console.print("churn risk: not scored yet (run `winback train` and `winback score`)")


@app.command("ask")
def ask_command(
    question: Annotated[str, typer.Argument(help='Your question, e.g. "who is most likely to churn?".')],
    role: Annotated[str, ROLE_OPTION] = "cs_staff",
    session: Annotated[
        str | None, typer.Option(help="Continue this conversation (its id is printed after each answer).")
    ] = None,
    user: Annotated[str, typer.Option(help="Who is asking (recorded with the conversation and any offer).")] = "cli",
    planner: Annotated[
        str | None, typer.Option(help="router, router+llm, llm or tools (default: WINBACK_ASSISTANT_PLANNER).")
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print one JSON object: answer, tool_calls, data, planner, session_id, latency_ms."
        ),
    ] = False,
) -> None:
    """Ask the assistant; tool steps show on stderr as they run, the answer streams on stdout."""
    from winback.assistant import Assistant

    if planner is not None and planner not in ("router", "router+llm", "llm", "tools"):
        raise typer.BadParameter("choose router, router+llm, llm or tools", param_hint="--planner")
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
            err.print(
                f"[dim]{'✓' if call.ok else '✗'} {call.name}: {call.result.summary} ({call.seconds:.2f} s)[/]",
                highlight=False,
                markup=True,
            )
        elif event.kind == "token":
            sys.stdout.write(event.data["text"])
            sys.stdout.flush()
        elif event.kind == "replace":
            sys.stdout.write("\n\n(replaced by the tool results)\n" + event.data["text"])
    assert turn is not None
    if as_json:
        sys.stdout.write(json.dumps(turn.to_dict(), default=str, ensure_ascii=False) + "\n")
        return
    sys.stdout.write("\n")
    if turn.session_id:
        err.print(
            f"[dim]{turn.latency_ms:,} ms · session {turn.session_id} (continue with --session {turn.session_id})[/]",
            highlight=False,
        )


users_app = typer.Typer(help="Who may sign in to the web UI, and with which role.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, ROLE_OPTION] = "cs_staff",
    password: Annotated[
        str | None, typer.Option(help="At least 10 characters; default: a random one, printed once.")
    ] = None,
    replace: Annotated[bool, typer.Option(help="Reset an existing user's role and password.")] = False,
) -> None:
    """Add a user (the password is stored only as a scrypt hash)."""
    from winback.ui.users import UserStore

    settings = get_settings()
    given = UserStore(settings.users_file).add(name, role, password, replace)  # type: ignore[arg-type]
    console.print(
        f"user {name} ({role}) saved in {settings.users_file}" + ("" if password else f"; password: {given}"),
        highlight=False,
    )


@users_app.command("list")
def users_list() -> None:
    """Users and roles (never passwords)."""
    from winback.ui.users import UserStore

    for user in UserStore(get_settings().users_file).users().values():  # type: ignore[arg-type]
        console.print(f"{user.name}\t{user.role.value}", highlight=False)


@users_app.command("remove")
def users_remove(name: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    from winback.ui.users import UserStore

    UserStore(get_settings().users_file).remove(name)  # type: ignore[arg-type]
    console.print(f"user {name} removed")


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 7860,
) -> None:
    """Start the web UI: chat, at-risk table, customer cards with offers, manager view (sign-in required)."""
    from winback.ui.app import App, launch

    settings = get_settings()
    ui = App(settings)
    password = ui.users.ensure_admin()
    if password:
        console.print(
            f"[bold]first start: created user 'admin' with password {password}[/] — it is shown only "
            f"this once; add people with `winback users add NAME --role cs_staff|support_agent|manager|admin`",
            highlight=False,
        )
    console.print(f"winback UI on http://{host}:{port} (Ctrl+C to stop)", highlight=False)
    launch(ui, host, port, block=True)


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
        err.print(f"error: {message}", markup=False, highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
