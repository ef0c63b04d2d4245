"""The `winback` command line: set up the database, load data, inspect it.

Every command reads the settings from winback.config (env vars WINBACK_*, winback.toml). Errors that
are the user's to fix print one line on stderr and exit with status 2 (rejected rows: status 1).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import OperationalError, ArgumentError

from winback.config import get_settings
from winback.errors import UserError

app = typer.Typer(help="winback: a retention assistant.", no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Create and migrate the database.", no_args_is_help=True)
import_app = typer.Typer(help="Load your own data into the contract tables.", no_args_is_help=True)
export_app = typer.Typer(help="Write the contract tables out.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")

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


@app.command("seed")
def seed_command(
    customers: Annotated[int, typer.Option(help="How many customers to simulate.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same shop, byte for byte.")] = 7,
    as_of: Annotated[
        Optional[datetime], typer.Option(formats=["%Y-%m-%d"], help="Last day of the simulated history.")
    ] = None,
    replace: Annotated[bool, typer.Option(help="Empty the contract tables first (destroys their data).")] = False,
    workers: Annotated[Optional[int], typer.Option(help="Simulation processes (default: up to 2).")] = None,
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
    mapping: Annotated[
        Optional[list[str]], typer.Option("--map", help="their_col=contract_col, repeatable.")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Rows validated and committed together.")] = 5_000,
    all_or_nothing: Annotated[
        bool, typer.Option(help="One transaction for the whole file: any rejected row imports nothing.")
    ] = False,
    date_format: Annotated[
        Optional[str], typer.Option(help="strptime format for dates that are not ISO 8601, e.g. %d/%m/%Y.")
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
    tables: Annotated[Optional[list[str]], typer.Option("--table", help="Only these tables (repeatable).")] = None,
) -> None:
    """Export the contract tables as CSV files that `winback import csv` reads back losslessly."""
    from winback.data.exporter import export_csv
    from winback.data.schema import CONTRACT_TABLES

    unknown = sorted(set(tables or []) - set(CONTRACT_TABLES))
    if unknown:
        raise typer.BadParameter(f"unknown table(s) {', '.join(unknown)}", param_hint="--table")
    with _progress() as progress:
        task = progress.add_task(f"exporting to {directory}", total=None)
        counts = export_csv(_engine(), directory, tables or CONTRACT_TABLES, progress=lambda _t, n: progress.advance(task, n))
    for name, rows in counts.items():
        console.print(f"{name:<16} {rows:>10,} rows -> {directory / (name + '.csv')}")

@app.command("train")
def train_command(
    horizon: Annotated[int, typer.Option(min=7, help="Churn = no order in this many days after a cutoff.")] = 90,
    cutoffs: Annotated[int, typer.Option(min=1, help="Historical training cutoffs, one horizon apart.")] = 3,
    members: Annotated[int, typer.Option(min=1, help="Networks in the ensemble.")] = 3,
    seed: Annotated[int, typer.Option(help="Seed: the same data and seed give the same model.")] = 7,
    device: Annotated[Optional[str], typer.Option(help="cpu or cuda (default: cuda when available).")] = None,
) -> None:
    """Train the churn model on historical cutoffs, evaluate it out of time, save a versioned artefact."""
    from winback.model.pipeline import train_churn_model
    from winback.model.train import TrainConfig

    settings = get_settings()
    config = TrainConfig(members=members, seed=seed, device=device)
    with _progress() as progress:
        task = progress.add_task("preparing", total=None)
        report = train_churn_model(
            _engine(), settings.data_dir, horizon, cutoffs, config,
            progress=lambda step: progress.update(task, description=step),
            on_epoch=lambda: progress.advance(task),
        )
    m = report.metrics
    table = Table("metric", "value", title=f"model {report.version}: out-of-time test ({m['rows']:,} customers)")
    for name, label in [("roc_auc", "ROC-AUC"), ("pr_auc", "PR-AUC"), ("brier", "Brier score"),
                        ("ece", "expected calibration error"), ("top_decile_lift", "top-decile lift"),
                        ("positive_rate", "churn rate")]:
        table.add_row(label, f"{m[name]:.3f}")
    console.print(table)
    console.print("top drivers: " + ", ".join(report.global_drivers["feature"].head(6)))
    console.print(f"saved to {report.folder}")


@app.command("score")
def score_command(
    as_of: Annotated[
        Optional[datetime], typer.Option(formats=["%Y-%m-%d"], help="Score as of this date (default: latest order).")
    ] = None,
    chunk_size: Annotated[int, typer.Option(min=100, help="Customers per chunk (bounds memory).")] = 10_000,
    version: Annotated[Optional[str], typer.Option(help="Model version (default: the latest).")] = None,
    customer: Annotated[
        Optional[list[str]], typer.Option("--customer", help="Only print these customers' scores (repeatable).")
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
    table = Table("risk band", "customers", "share", title=f"scored {report.customers:,} customers as of {report.as_of:%Y-%m-%d}")
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
    segment: Annotated[Optional[str], typer.Option(help="Only this segment, e.g. gold.")] = None,
    country: Annotated[Optional[str], typer.Option(help="Only this country.")] = None,
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
    query: Annotated[str, typer.Argument(help="What to look for, in plain words; ids and \"quoted phrases\" match exactly.")],
    k: Annotated[int, typer.Option("-k", "--top", min=1, max=100, help="How many results.")] = 10,
    mode: Annotated[str, typer.Option(help="hybrid, semantic or keyword.")] = "hybrid",
    customer: Annotated[Optional[str], typer.Option(help="Only this customer.")] = None,
    kind: Annotated[Optional[str], typer.Option(help="review or ticket.")] = None,
    min_rating: Annotated[Optional[int], typer.Option()] = None,
    max_rating: Annotated[Optional[int], typer.Option()] = None,
    since: Annotated[Optional[datetime], typer.Option(formats=["%Y-%m-%d"])] = None,
    until: Annotated[Optional[datetime], typer.Option(formats=["%Y-%m-%d"])] = None,
    segment: Annotated[Optional[str], typer.Option()] = None,
    risk_band: Annotated[Optional[str], typer.Option()] = None,
    topic: Annotated[Optional[str], typer.Option(help="Ticket topic, e.g. refund.")] = None,
) -> None:
    """Search reviews and tickets (customer-written text, shown quoted)."""
    from winback.search.search import search_feedback

    if mode not in ("hybrid", "semantic", "keyword"):
        raise typer.BadParameter("choose hybrid, semantic or keyword", param_hint="--mode")
    collection, embedder = _feedback_collection(create=False)
    filters = _filters(customer_id=customer, kind=kind, min_rating=min_rating, max_rating=max_rating,
                       since=since.date() if since else None, until=until.date() if until else None,
                       segment=segment, risk_band=risk_band, topic=topic)
    results = search_feedback(collection, embedder, query, filters, k, mode)  # type: ignore[arg-type]
    if not results:
        console.print("no matching reviews or tickets")
    for r in results:
        console.print(f"{r.score:.2f}  {r.quoted()}", markup=False, highlight=False)


@app.command("themes")
def themes_command(
    max_rating: Annotated[Optional[int], typer.Option(help="Only reviews rated at most this.")] = 2,
    kind: Annotated[Optional[str], typer.Option(help="review or ticket.")] = "review",
    since: Annotated[Optional[datetime], typer.Option(formats=["%Y-%m-%d"])] = None,
    segment: Annotated[Optional[str], typer.Option()] = None,
    risk_band: Annotated[Optional[str], typer.Option()] = None,
    themes: Annotated[Optional[int], typer.Option(help="Number of themes (default: chosen by silhouette).")] = None,
) -> None:
    """Complaint themes in what a group of customers wrote, with size, trend, quotes and churn rate."""
    from winback.search.themes import complaint_themes

    collection, embedder = _feedback_collection(create=False)
    filters = _filters(max_rating=max_rating if kind != "ticket" else None, kind=kind,
                       since=since.date() if since else None, segment=segment, risk_band=risk_band)
    report = complaint_themes(_engine(), collection, embedder, filters, n_themes=themes)
    overall = f"{report.overall_churn_rate:.0%}" if report.overall_churn_rate is not None else "n/a"
    console.print(f"{len(report.themes)} themes in {report.total:,} texts {report.filters}; "
                  f"churn after writing, all of them: {overall}")
    for number, t in enumerate(report.themes, 1):
        churn = f"{t.churn_rate:.0%}" if t.churn_rate is not None else "n/a"
        months = list(t.monthly.items())[-3:]
        trend = ", ".join(f"{m} {n}" for m, n in months)
        console.print(f"\n{number}. {t.label}: {t.size:,} texts ({t.share:.0%}), churn after writing {churn}; "
                      f"latest months: {trend}", markup=False, highlight=False)
        for example in t.examples:
            console.print(f"   {example.quoted()}", markup=False, highlight=False)


@app.command("sql")
def sql_command(
    statement: Annotated[str, typer.Argument(help="One SELECT over the contract tables.")],
    role: Annotated[str, typer.Option(help="Whose permissions: cs_staff, support_agent, manager or admin.")] = "manager",
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
    max_rows: Annotated[int, typer.Option(min=1, max=100_000, help="Row cap (a LIMIT is enforced).")] = 1_000,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds before the query is stopped.")] = 5.0,
) -> None:
    """Run a read-only, validated SQL query; refusals exit with status 2, database errors and timeouts with 3."""
    from winback.data.readonly import QueryFailed, readonly_engine, run_readonly
    from winback.data.sqlguard import SqlRefused, check_sql

    settings = get_settings()
    dialect = "postgresql" if settings.database_url.startswith("postgres") else "sqlite"
    try:
        checked = check_sql(statement, dialect, role, max_rows)
    except SqlRefused as exc:
        err.print(f"refused: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    try:
        result = run_readonly(readonly_engine(settings.database_url, timeout), checked.sql, checked.limit, timeout)
    except QueryFailed as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(3) from None
    if as_json:
        rows = [dict(zip(result.columns, row)) for row in result.rows]
        console.print_json(json.dumps({"columns": result.columns, "rows": rows, "truncated": result.truncated}, default=str))
        return
    table = Table(*result.columns, title=f"{len(result.rows):,} rows{' (truncated)' if result.truncated else ''}")
    for row in result.rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


def _date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


@app.command("stats")
def stats_command(
    as_of: Annotated[
        Optional[datetime], typer.Option(formats=["%Y-%m-%d"], help="Reference date (default: latest order).")
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
                    "tables": {t.name: {"rows": t.rows, "first": _date(t.first), "last": _date(t.last)} for t in stats.tables},
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
