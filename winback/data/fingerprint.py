"""Content hashes of tables, equal across SQLite and PostgreSQL for equal data.

Rows are read in primary-key order and each value is written in a canonical form (ISO timestamps,
decimals at the column's scale, JSON with sorted keys), so the hash says "same content", not "same
file". Used to prove the demo generator deterministic, CSV round trips lossless, and to stamp the data
a model was trained on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Engine, Numeric, Table, func, inspect, select

from winback.data.schema import CONTRACT_TABLES, Base, Customer, DemoBase, Order, Review, SupportTicket


def _canonical(column_type: Any) -> Callable[[Any], str]:
    if isinstance(column_type, DateTime):
        return lambda v: v.isoformat(sep=" ") if isinstance(v, datetime) else str(v)
    if isinstance(column_type, Numeric):
        quantum = Decimal(1).scaleb(-(column_type.scale or 0))
        return lambda v: str(Decimal(str(v)).quantize(quantum))
    if isinstance(column_type, Boolean):
        return lambda v: "1" if v else "0"
    if isinstance(column_type, JSON):
        return lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"))
    return str


def table_hash(engine: Engine, table: Table) -> tuple[str, int]:
    """(sha256 hex, row count) of one table's content."""
    encoders = [_canonical(c.type) for c in table.columns]
    order = list(table.primary_key.columns) or list(table.columns)
    digest = hashlib.sha256()
    rows = 0
    with engine.connect() as connection:
        result = connection.execution_options(yield_per=10_000).execute(select(table).order_by(*order))
        for row in result:
            line = "\x1f".join("\x00" if v is None else enc(v) for enc, v in zip(encoders, row, strict=True))
            digest.update(line.encode())
            digest.update(b"\x1e")
            rows += 1
    return digest.hexdigest(), rows


def database_fingerprint(engine: Engine, tables: Iterable[str] | None = None) -> dict[str, str]:
    """Per-table hashes plus an overall one (key "*"), over the contract tables and demo_truth if present."""
    present = set(inspect(engine).get_table_names())
    names = list(tables) if tables is not None else [t for t in (*CONTRACT_TABLES, "demo_truth") if t in present]
    all_tables = {**Base.metadata.tables, **DemoBase.metadata.tables}
    out = {}
    for name in names:
        out[name] = table_hash(engine, all_tables[name])[0]
    overall = hashlib.sha256("".join(f"{k}={v};" for k, v in out.items()).encode()).hexdigest()
    return {**out, "*": overall}


def data_summary_fingerprint(engine: Engine) -> str:
    """A cheap stamp of what a model was trained on: row counts and latest timestamps of the source tables.

    Computed with a few aggregate queries, so it costs the same at a million customers as at a thousand.
    """
    parts = []
    with engine.connect() as connection:
        for table, column in (
            (Customer, Customer.signup_at),
            (Order, Order.ordered_at),
            (Review, Review.created_at),
            (SupportTicket, SupportTicket.opened_at),
        ):
            count, latest = connection.execute(select(func.count(), func.max(column)).select_from(table)).one()
            parts.append(f"{table.__tablename__}:{count}:{latest}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
