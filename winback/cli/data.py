"""`winback import csv` and `winback export csv`: your own data in and out of the contract tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from winback.cli.common import JsonFlag, emit_json, engine, note, progress, say

import_app = typer.Typer(help="Load your own data into the contract tables.", no_args_is_help=True)
export_app = typer.Typer(help="Write the contract tables out.", no_args_is_help=True)
SHOWN_REJECTIONS = 20


def parse_mappings(mappings: list[str]) -> dict[str, str]:
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
    as_json: JsonFlag = False,
) -> None:
    """Validate and load a CSV into one table; rejected rows go to FILE.rejects.csv (exit status 1)."""
    from winback.data.importer import import_csv

    with progress() as bar:
        task = bar.add_task(f"importing {file.name} into {table}", total=None)
        report = import_csv(
            engine(),
            table,
            file,
            mapping=parse_mappings(mapping or []),
            batch_size=batch_size,
            all_or_nothing=all_or_nothing,
            date_format=date_format,
            encoding=encoding,
            delimiter=delimiter,
            progress=lambda n: bar.advance(task, n),
        )
    if as_json:
        emit_json(
            {
                "table": table,
                "rows_read": report.rows_read,
                "rows_inserted": report.rows_inserted,
                "rejected": report.rejected,
                "rolled_back": report.rolled_back,
                "ignored_columns": report.ignored_columns,
                "rejections": [{"line": r.line, "reason": r.reason} for r in report.rejections],
                "rejects_path": str(report.rejects_path) if report.rejected else None,
                "seconds": round(report.seconds, 2),
            }
        )
    else:
        if report.ignored_columns:
            note(f"ignored columns not in {table}: {', '.join(report.ignored_columns)}")
        for rejection in report.rejections[:SHOWN_REJECTIONS]:
            note(f"line {rejection.line}: {rejection.reason}")
        if report.rejected > SHOWN_REJECTIONS:
            note(f"... and {report.rejected - SHOWN_REJECTIONS:,} more")
        summary = (
            f"{report.rows_inserted:,} of {report.rows_read:,} rows imported into {table} in {report.seconds:.1f} s"
        )
        if report.rolled_back:
            summary += " (--all-or-nothing: rolled back because rows were rejected)"
        say(summary)
    if report.rejected:
        note(f"{report.rejected:,} rows rejected; details in {report.rejects_path}")
        raise typer.Exit(1)


@export_app.command("csv")
def export_csv_command(
    directory: Annotated[Path, typer.Argument(help="Folder to write <table>.csv files into.")],
    tables: Annotated[list[str] | None, typer.Option("--table", help="Only these tables (repeatable).")] = None,
    spreadsheet_safe: Annotated[
        bool,
        typer.Option(
            "--spreadsheet-safe",
            help="Prefix formula-like text cells (=, +, -, @) with ' for Excel/LibreOffice; not lossless.",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Export the contract tables as CSV files that `winback import csv` reads back losslessly (or, with
    --spreadsheet-safe, that a spreadsheet opens without running formulas from customer text)."""
    from winback.data.exporter import export_csv
    from winback.data.schema import CONTRACT_TABLES

    unknown = sorted(set(tables or []) - set(CONTRACT_TABLES))
    if unknown:
        raise typer.BadParameter(f"unknown table(s) {', '.join(unknown)}", param_hint="--table")
    with progress() as bar:
        task = bar.add_task(f"exporting to {directory}", total=None)
        counts = export_csv(
            engine(),
            directory,
            tables or CONTRACT_TABLES,
            progress=lambda _t, n: bar.advance(task, n),
            spreadsheet=spreadsheet_safe,
        )
    if as_json:
        emit_json({name: {"rows": rows, "file": str(directory / f"{name}.csv")} for name, rows in counts.items()})
        return
    for name, rows in counts.items():
        say(f"{name:<16} {rows:>10,} rows -> {directory / (name + '.csv')}")
