"""The values each metric dimension takes in this database, so a question can name them ("delivery delay
tickets", "dresses", "in Lyon") and only values that exist are read as filters."""

from __future__ import annotations

from sqlalchemy import Connection

from winback.data.metrics.catalog import Dialect, load_catalog
from winback.data.metrics.run import known_values

MAX_VALUES = 500  # a dimension with more values than this is not read from free text (ids, dates)


def metric_vocabulary(connection: Connection, dialect: str) -> dict[str, list[str]]:
    catalog = load_catalog()
    sql_dialect: Dialect = "postgresql" if dialect == "postgresql" else "sqlite"
    values: dict[str, list[str]] = {}
    for dimension in catalog.dimensions.values():
        if dimension.timed:
            continue
        entity = next((e for e in catalog.entities.values() if dimension.available_for(e)), None)
        if entity is None:
            continue
        known = known_values(connection, catalog, dimension, entity, sql_dialect)
        if len(known) <= MAX_VALUES:
            values[dimension.name] = [str(v) for v in known]
    return values
