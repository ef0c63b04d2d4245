"""Fast bulk inserts shared by the demo generator and the CSV importer.

PostgreSQL gets COPY (an order of magnitude faster than INSERT for millions of rows); other databases
get an executemany INSERT. Both run inside the caller's transaction, so a batch lands whole or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, Connection, Table


def bulk_insert(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    if not rows:
        return 0
    if connection.dialect.name == "postgresql":
        columns = [c.name for c in table.columns if c.name in rows[0]]
        json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
        dbapi = connection.connection.driver_connection
        quoted = ", ".join(f'"{c}"' for c in columns)
        with dbapi.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:  # type: ignore[union-attr]  # psycopg 3 connection under SQLAlchemy: has cursor().copy
            for row in rows:
                copy.write_row([_copy_value(row[c], c in json_columns) for c in columns])
        return len(rows)
    connection.execute(table.insert(), list(rows))
    return len(rows)


def _copy_value(value: Any, is_json: bool) -> Any:
    if is_json and value is not None:
        return json.dumps(value, sort_keys=True)
    return value
