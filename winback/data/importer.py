"""Load a user's CSV export into one contract table, validating every row.

Streaming: the file is read in batches (default 5,000 rows), so memory stays bounded whatever its size.
Each batch is validated (types, ranges, allowed values, foreign keys, duplicate keys within the file
and against the database); valid rows of a batch are inserted in one transaction, rejected rows are
reported with their line number and reason and written to `<file>.rejects.csv` beside the input.
With `all_or_nothing`, the whole file is one transaction that is rolled back if any row is rejected.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    select,
    tuple_,
)
from sqlalchemy.exc import DataError, IntegrityError

from winback.data.bulk import bulk_insert
from winback.data.db import require_contract
from winback.data.exporter import spreadsheet_safe
from winback.data.plain_text import address_problem, control_problem
from winback.data.risk_bands import RISK_BANDS
from winback.data.schema import CONTRACT_TABLES, OFFER_STATUSES, ORDER_STATUSES, TICKET_STATUSES, Base
from winback.errors import UserError

DEFAULT_BATCH = 5_000
LOOKUP_CHUNK = 500  # keys per IN (...) lookup, well under SQLite's parameter limit

# Ranges and vocabularies mirror the CHECK constraints in schema.py; checking them here lets a bad
# row be reported with a readable reason instead of failing the batch in the database.
RANGES: dict[tuple[str, str], tuple[float | None, float | None]] = {
    ("orders", "total_amount"): (0, None),
    ("orders", "discount_amount"): (0, None),
    ("order_items", "quantity"): (1, None),
    ("order_items", "line_no"): (1, None),
    ("order_items", "unit_price"): (0, None),
    ("reviews", "rating"): (1, 5),
    ("support_tickets", "satisfaction"): (1, 5),
    ("offers", "value"): (0, None),
    ("offers", "churn_probability_at_creation"): (0, 1),
    ("churn_scores", "probability"): (0, 1),
    ("churn_scores", "order_probability_90d"): (0, 1),
    ("churn_scores", "predicted_value_12m"): (0, None),
}
VOCABULARIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("orders", "status"): ORDER_STATUSES,
    ("support_tickets", "status"): TICKET_STATUSES,
    ("offers", "status"): OFFER_STATUSES,
    ("churn_scores", "risk_band"): RISK_BANDS,
}
ADDRESS_COLUMNS = {("customers", "email")}  # one plain address each, never repaired into another
MAY_BE_EMPTY = {"title", "body", "message", "subject"}  # free text: an empty string is a value, not a gap
TRUE = {"true", "t", "yes", "y", "1"}
FALSE = {"false", "f", "no", "n", "0"}


class ImportFileError(UserError, RuntimeError):
    """The file as a whole cannot be imported (unknown table, missing columns, unreadable); nothing was written."""


class RowError(ValueError):
    """One value of one row is invalid; the message is the reason shown to the user."""


@dataclass
class Rejection:
    line: int
    reason: str
    values: list[str]


@dataclass
class ImportReport:
    table: str
    path: Path
    rows_read: int = 0
    rows_inserted: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    rejected: int = 0
    rejects_path: Path | None = None
    ignored_columns: list[str] = field(default_factory=list)
    rolled_back: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.rejected == 0


# -- value parsing --------------------------------------------------------------------------------


def _parse_datetime(text: str, date_format: str | None) -> datetime:
    try:
        value = datetime.strptime(text, date_format) if date_format else datetime.fromisoformat(text)
    except ValueError:
        expected = f"format {date_format!r}" if date_format else "ISO 8601, e.g. 2024-03-01 14:30:00"
        raise RowError(f"unparsable date {text!r} (expected {expected})") from None
    if value.tzinfo is not None:  # the contract stores naive UTC
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _parse_decimal(text: str, column: Column[Any]) -> Decimal:
    try:
        value = Decimal(text.replace(",", "") if text.count(".") == 1 else text)
    except InvalidOperation:
        raise RowError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise RowError(f"{text!r} is not a finite number")
    scale = column.type.scale or 0  # type: ignore[attr-defined]  # only Numeric columns come here
    precision = column.type.precision or 38  # type: ignore[attr-defined]  # (see scale)
    value = value.quantize(Decimal(1).scaleb(-scale))
    if value.adjusted() >= precision - scale:
        raise RowError(f"{text!r} is too large")
    return value


def _parse_integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        as_float = float(text)
    except ValueError:
        raise RowError(f"{text!r} is not a whole number") from None
    if not as_float.is_integer():
        raise RowError(f"{text!r} is not a whole number")
    return int(as_float)


def _parse_boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise RowError(f"{text!r} is not a yes/no value (use true/false, 1/0 or yes/no)")


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RowError(f"invalid JSON ({exc.msg})") from None


def _converter(table: Table, column: Column[Any], date_format: str | None) -> Callable[[str], Any]:
    kind = column.type
    rng = RANGES.get((table.name, column.name))
    vocabulary = VOCABULARIES.get((table.name, column.name))
    if isinstance(kind, DateTime):
        base: Callable[[str], Any] = lambda t: _parse_datetime(t, date_format)  # noqa: E731  (a parser picked per column)
    elif isinstance(kind, Numeric):
        base = lambda t: _parse_decimal(t, column)  # noqa: E731  (a parser picked per column)
        if not kind.asdecimal:
            decimal_base = base
            base = lambda t: float(decimal_base(t))  # noqa: E731  (a parser picked per column)
    elif isinstance(kind, Integer):
        base = _parse_integer
    elif isinstance(kind, Boolean):
        base = _parse_boolean
    elif isinstance(kind, JSON):
        base = _parse_json
    elif isinstance(kind, String):
        length = kind.length
        long_text = isinstance(kind, Text)  # a review's body may break lines; a name or a subject may not
        is_address = (table.name, column.name) in ADDRESS_COLUMNS

        def base(t: str) -> str:
            if length is not None and len(t) > length:
                raise RowError(f"text longer than {length} characters")
            problem = address_problem(t) if is_address else control_problem(t, long_text)
            if problem:
                raise RowError(problem)
            return t.replace("\r\n", "\n") if long_text else t
    else:  # pragma: no cover - every contract type is listed above
        base = str

    def convert(text: str) -> Any:
        value = base(text)
        if vocabulary is not None:
            value = value.strip().lower()
            if value not in vocabulary:
                raise RowError(f"{text!r} is not one of {', '.join(vocabulary)}")
        if rng is not None:
            low, high = rng
            if (low is not None and value < low) or (high is not None and value > high):
                bounds = f"{low}..{high}" if high is not None else f">= {low}"
                raise RowError(f"{text} is outside {bounds}")
        return value

    return convert


# -- the import -----------------------------------------------------------------------------------


@dataclass
class _Plan:
    table: Table
    positions: dict[str, int]  # contract column -> index in the CSV row
    converters: dict[str, Callable[[str], Any]]
    required: set[str]
    key: list[str]
    foreign_keys: list[tuple[str, Table, str]]  # (column, parent table, parent column)
    width: int


def _plan(table: Table, header: list[str], mapping: dict[str, str], date_format: str | None) -> tuple[_Plan, list[str]]:
    renamed = [mapping.get(h.strip(), h.strip()) for h in header]
    seen: set[str] = set()
    for name in renamed:
        if name in seen:
            raise ImportFileError(f"column {name!r} appears twice in the header (after --map)")
        seen.add(name)
    columns = {c.name: c for c in table.columns}
    unknown_targets = sorted(set(mapping.values()) - set(columns))
    if unknown_targets:
        raise ImportFileError(f"--map names columns that {table.name} does not have: {', '.join(unknown_targets)}")
    optional = {c.name for c in table.columns if c.nullable or c.autoincrement is True}
    missing = [c for c in columns if c not in seen and c not in optional]
    if missing:
        raise ImportFileError(
            f"{table.name} needs column(s) {', '.join(missing)} that the file lacks "
            f"(header: {', '.join(header)}); map yours with --map their_col=contract_col"
        )
    positions = {name: i for i, name in enumerate(renamed) if name in columns}
    ignored = [h for h, name in zip(header, renamed, strict=True) if name not in columns]
    plan = _Plan(
        table=table,
        positions=positions,
        converters={name: _converter(table, columns[name], date_format) for name in positions},
        required={c.name for c in table.columns if not c.nullable and c.name in positions},
        key=[c.name for c in table.primary_key.columns if c.name in positions],
        foreign_keys=[
            (fk.parent.name, fk.column.table, fk.column.name)
            for fk in table.foreign_keys
            if fk.parent.name in positions
        ],
        width=len(header),
    )
    return plan, ignored


def _convert_row(plan: _Plan, values: list[str]) -> dict[str, Any]:
    if len(values) != plan.width:
        raise RowError(f"expected {plan.width} fields, found {len(values)} (a missing or extra column)")
    row: dict[str, Any] = {}
    problems: list[str] = []
    for name, position in plan.positions.items():
        text = values[position]
        if text.strip() == "" and not (name in MAY_BE_EMPTY and name in plan.required):
            if name in plan.required:
                problems.append(f"missing value for required column {name}")
            row[name] = None
            continue
        try:
            row[name] = plan.converters[name](text if name in MAY_BE_EMPTY else text.strip())
        except RowError as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        raise RowError("; ".join(problems))
    return row


def _existing(
    connection: Connection, table: Table, columns: list[str], keys: set[tuple[Any, ...]]
) -> set[tuple[Any, ...]]:
    """Which of `keys` (tuples over `columns`) already exist in `table`."""
    found: set[tuple[Any, ...]] = set()
    cols = [table.c[c] for c in columns]
    key_list = list(keys)
    for start in range(0, len(key_list), LOOKUP_CHUNK):
        chunk = key_list[start : start + LOOKUP_CHUNK]
        condition = cols[0].in_([k[0] for k in chunk]) if len(cols) == 1 else tuple_(*cols).in_(chunk)
        found.update(tuple(r) for r in connection.execute(select(*cols).where(condition)))
    return found


def _lookup(
    connection: Connection, table: Table, key: str, extra: list[str], keys: set[tuple[Any, ...]]
) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """For each of `keys` present in `table`, the values of its `extra` columns."""
    found: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    key_list = [k[0] for k in keys]
    columns = [table.c[key], *(table.c[e] for e in extra)]
    for start in range(0, len(key_list), LOOKUP_CHUNK):
        condition = table.c[key].in_(key_list[start : start + LOOKUP_CHUNK])
        for row in connection.execute(select(*columns).where(condition)):
            found[(row[0],)] = tuple(row[1:])
    return found


def _shared_references(plan: _Plan, parent: Table, column: str) -> list[str]:
    """Reference columns the row and its parent both carry (e.g. customer_id on a review and its order)."""
    parent_refs = {fk.parent.name for fk in parent.foreign_keys}
    return [name for name, _, _ in plan.foreign_keys if name != column and name in parent_refs]


def _validate_batch(
    connection: Connection, plan: _Plan, batch: list[tuple[int, list[str]]]
) -> tuple[list[dict[str, Any]], list[Rejection]]:
    rejections: list[Rejection] = []
    converted: list[tuple[int, list[str], dict[str, Any]]] = []
    for line, values in batch:
        try:
            converted.append((line, values, _convert_row(plan, values)))
        except RowError as exc:
            rejections.append(Rejection(line, str(exc), values))

    # duplicate keys: within the batch, and against rows already in the database (earlier batches included)
    if plan.key:
        keys = {tuple(row[k] for k in plan.key) for _, _, row in converted}
        in_db = _existing(connection, plan.table, plan.key, keys)
        first_line: dict[tuple[Any, ...], int] = {}
        kept = []
        for line, values, row in converted:
            key = tuple(row[k] for k in plan.key)
            label = ", ".join(f"{k}={row[k]}" for k in plan.key)
            if key in in_db:
                rejections.append(Rejection(line, f"duplicate key {label}: already in the database", values))
            elif key in first_line:
                rejections.append(Rejection(line, f"duplicate key {label}: same as line {first_line[key]}", values))
            else:
                first_line[key] = line
                kept.append((line, values, row))
        converted = kept

    # foreign keys: the referenced row must already be in the database, and agree on shared references
    # (a review's order must belong to the review's customer)
    for column, parent, parent_column in plan.foreign_keys:
        shared = _shared_references(plan, parent, column)
        wanted = {(row[column],) for _, _, row in converted if row[column] is not None}
        present = _lookup(connection, parent, parent_column, shared, wanted)
        kept = []
        for line, values, row in converted:
            value = row[column]
            if value is None:
                kept.append((line, values, row))
                continue
            if (value,) not in present:
                rejections.append(Rejection(line, f"{column} {value!r} does not exist in {parent.name}", values))
                continue
            clash = [
                f"{column} {value!r} belongs to {name} {theirs!r}, not {row[name]!r}"
                for name, theirs in zip(shared, present[(value,)], strict=True)
                if row.get(name) is not None and theirs != row[name]
            ]
            if clash:
                rejections.append(Rejection(line, "; ".join(clash), values))
            else:
                kept.append((line, values, row))
        converted = kept

    rows = [row for _, _, row in converted]
    if rows:
        lines = {id(row): (line, values) for line, values, row in converted}
        rejections += _insert_batch(connection, plan.table, rows, lines)
    return rows, rejections


def _insert_batch(
    connection: Connection, table: Table, rows: list[dict[str, Any]], lines: dict[int, tuple[int, list[str]]]
) -> list[Rejection]:
    """Insert `rows`; if the database refuses the batch, insert row by row to find and reject the culprits.

    Rows are removed from `rows` in place when rejected, so the caller's count of inserted rows stays true.
    """
    savepoint = connection.begin_nested()
    try:
        bulk_insert(connection, table, rows)
        savepoint.commit()
        return []
    except (IntegrityError, DataError):
        savepoint.rollback()
    rejections = []
    accepted = []
    for row in rows:
        nested = connection.begin_nested()
        try:
            connection.execute(table.insert(), row)
            nested.commit()
            accepted.append(row)
        except (IntegrityError, DataError) as exc:
            nested.rollback()
            line, values = lines[id(row)]
            message = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            rejections.append(Rejection(line, f"refused by the database: {message}", values))
    rows[:] = accepted
    return rejections


class _PlannerStatistics:
    """Keeps PostgreSQL's planner statistics fresh while a table grows during an import.

    Without it the planner still believes a freshly filled table is empty and answers every duplicate-key
    lookup with a sequential scan, which makes a large import quadratic. SQLite needs nothing.
    """

    def __init__(self, connection: Connection, plan: _Plan) -> None:
        self.connection = connection
        self.table = plan.table
        self.enabled = connection.dialect.name == "postgresql"
        self.since = 0
        self.threshold = 10_000
        if self.enabled:
            for name in {self.table.name, *(parent.name for _, parent, _ in plan.foreign_keys)}:
                self._analyze(name)

    def _analyze(self, name: str) -> None:
        if self.connection.in_transaction():
            self.connection.exec_driver_sql(f'ANALYZE "{name}"')
        else:
            with self.connection.begin():
                self.connection.exec_driver_sql(f'ANALYZE "{name}"')

    def grew(self, rows: int) -> None:
        if not self.enabled:
            return
        self.since += rows
        if self.since >= self.threshold:
            self._analyze(self.table.name)
            self.threshold *= 2  # geometric: a handful of ANALYZE runs even for 10 million rows
            self.since = 0


def _open_private(path: Path) -> TextIO:
    """A new file only the owner can read, never through a symlink (someone else's link cannot redirect it)."""
    try:
        if path.is_symlink():
            path.unlink()  # our own output name: a link planted there is removed, its target untouched
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise ImportFileError(f"cannot write the rejects file {path}: {exc.strerror}") from None
    return os.fdopen(descriptor, "w", newline="", encoding="utf-8")


def _records(handle: Any, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line number, fields) of each CSV record; blank lines are skipped."""
    reader = csv.reader(handle, delimiter=delimiter)
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(f"line {start}: malformed CSV ({exc})") from None
        if values:
            yield start, values


def import_csv(
    engine: Engine,
    table_name: str,
    path: Path,
    mapping: dict[str, str] | None = None,
    batch_size: int = DEFAULT_BATCH,
    all_or_nothing: bool = False,
    date_format: str | None = None,
    encoding: str = "utf-8-sig",
    delimiter: str = ",",
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import `path` into `table_name`; see the module docstring for the transaction rules."""
    if table_name not in CONTRACT_TABLES:
        raise ImportFileError(f"unknown table {table_name!r}; choose one of {', '.join(CONTRACT_TABLES)}")
    if not path.is_file():
        raise ImportFileError(f"no such file: {path}")
    require_contract(engine)
    table = Base.metadata.tables[table_name]
    report = ImportReport(table=table_name, path=path)
    started = time.perf_counter()
    rejects_path = path.with_name(path.name + ".rejects.csv")
    rejects_file = None
    rejects_writer = None

    def reject(rejections: list[Rejection], header: list[str]) -> None:
        nonlocal rejects_file, rejects_writer
        if not rejections:
            return
        if rejects_writer is None:
            rejects_file = _open_private(rejects_path)
            rejects_writer = csv.writer(rejects_file)
            rejects_writer.writerow(["line", "reason", *header])
        for r in sorted(rejections, key=lambda r: r.line):  # for people to read in a spreadsheet: no formulas
            rejects_writer.writerow([r.line, spreadsheet_safe(r.reason), *(spreadsheet_safe(str(v)) for v in r.values)])
        report.rejected += len(rejections)
        if len(report.rejections) < 1000:  # keep a bounded sample in memory; the file has them all
            report.rejections.extend(rejections[: 1000 - len(report.rejections)])

    try:
        with path.open(newline="", encoding=encoding) as handle:
            records = _records(handle, delimiter)
            try:
                _, header = next(records)
            except StopIteration:
                raise ImportFileError(f"{path} is empty (no header row)") from None
            plan, report.ignored_columns = _plan(table, header, mapping or {}, date_format)
            if rejects_path.exists():
                rejects_path.unlink()  # a stale file from an earlier run would mislead
            outer = engine.connect()
            transaction = outer.begin() if all_or_nothing else None
            try:
                batch: list[tuple[int, list[str]]] = []
                statistics = _PlannerStatistics(outer, plan)

                def flush() -> None:
                    report.rows_read += len(batch)
                    if all_or_nothing:
                        rows, rejections = _validate_batch(outer, plan, batch)
                    else:
                        with outer.begin():
                            rows, rejections = _validate_batch(outer, plan, batch)
                    report.rows_inserted += len(rows)
                    statistics.grew(len(rows))
                    reject(rejections, header)
                    if progress:
                        progress(len(batch))
                    batch.clear()

                for line, values in records:
                    batch.append((line, values))
                    if len(batch) >= batch_size:
                        flush()
                if batch:
                    flush()
                if transaction is not None:
                    if report.rejected:
                        transaction.rollback()
                        report.rolled_back = True
                        report.rows_inserted = 0
                    else:
                        transaction.commit()
            finally:
                outer.close()
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"{path} is not valid {encoding} text near byte {exc.start}; re-save it as UTF-8 or pass --encoding"
        ) from None
    finally:
        if rejects_file is not None:
            rejects_file.close()
    report.rejects_path = rejects_path if report.rejected else None
    report.seconds = time.perf_counter() - started
    return report
