"""The schema card: what a model needs to write SQL over the data contract, kept short for a small model.

Generated from the ORM (tables, columns, types, keys, joins), the column meanings in
docs/data-contract.md, the values of low-cardinality columns read from the database, and the worked
examples in winback/prompts/sql_examples.v1.sql. PII columns are marked so the model avoids them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import sqlglot
from sqlalchemy import Boolean, DateTime, Engine, Integer, Numeric, String, Text, func, select

from winback.data.schema import CONTRACT_TABLES, PERSONAL_COLUMNS, Base
from winback.prompts import load_prompt

CONTRACT_DOC = Path(__file__).resolve().parents[3] / "docs" / "data-contract.md"
MAX_LISTED_VALUES = 10
LISTED_COLUMNS = {
    "segment",
    "status",
    "risk_band",
    "channel",
    "acquisition_channel",
    "topic",
    "country",
    "offer_type",
    "category",
}
# JSON blobs a query would not filter or group on (the campaign report is read with `winback campaign report`)
SKIPPED_COLUMNS = {("churn_scores", "drivers"), ("offer_events", "details"), ("campaigns", "outcome")}


@dataclass(frozen=True)
class SqlExample:
    question: str
    sql: str


@lru_cache(maxsize=4)
def sql_examples(dialect: str = "sqlite") -> tuple[SqlExample, ...]:
    """The worked examples of prompts/sql_examples.v1.sql (SQLite), transpiled to `dialect` with sqlglot."""
    examples = []
    for block in re.split(r"\n(?=-- Q: )", load_prompt("sql_examples.v1.sql")):
        match = re.match(r"-- Q: (.+?)\n(.+)", block.strip(), re.S)
        if not match:
            continue
        sql = match.group(2).strip().rstrip(";")
        if dialect != "sqlite":
            sql = sqlglot.transpile(
                sql, read="sqlite", write="postgres" if dialect.startswith("postgres") else dialect
            )[0]
        examples.append(SqlExample(match.group(1).strip(), " ".join(sql.split())))
    return tuple(examples)


def dialect_tips(dialect: str) -> str:
    """The dialect's section of prompts/sql_dialect_tips.v1.txt (date functions differ most)."""
    text = load_prompt("sql_dialect_tips.v1.txt")
    match = re.search(rf"^\[{re.escape(dialect)}\]\n(.*?)(?=^\[|\Z)", text, re.S | re.M)
    return match.group(1).strip() if match else ""


def column_meanings(doc: Path = CONTRACT_DOC) -> dict[tuple[str, str], str]:
    """(table, column) -> meaning, parsed from the contract's markdown tables; empty if the doc is absent."""
    if not doc.is_file():
        return {}
    meanings: dict[tuple[str, str], str] = {}
    table = None
    for line in doc.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## (\w+)", line)
        if heading:
            table = heading.group(1)
            continue
        cell = re.match(r"^\| `(\w+)` \| [^|]* \| (.*) \|$", line)
        if table and cell:
            meanings[(table, cell.group(1))] = cell.group(2).strip()
    return meanings


def _short(meaning: str, has_values: bool) -> str:
    """The first clause of a meaning, outside parentheses; shorter still when the values are listed."""
    meaning = re.sub(r"\s*\((indexed|PII)[^)]*\)", "", meaning).replace("`", "").replace("e.g.", "e.g")
    depth, cut = 0, len(meaning)
    for i, ch in enumerate(meaning):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and meaning.startswith(("; ", ". "), i) or (has_values and depth == 0 and ch in ":,"):
            cut = i
            break
    return meaning[:cut].removesuffix(", e.g").strip()[:90]


def _type(column) -> str:
    kind = column.type
    if isinstance(kind, Boolean):
        return "bool"
    if isinstance(kind, DateTime):
        return "timestamp"
    if isinstance(kind, Numeric):
        return "money" if kind.scale == 2 else "number"
    if isinstance(kind, Integer):
        return "int"
    if isinstance(kind, (String, Text)):
        return "text"
    return "json"


def schema_card(engine: Engine | None = None, dialect: str = "sqlite", examples: int = 3) -> str:
    """The card; `examples` worked queries are appended (the text-to-SQL writer picks its own instead)."""
    meanings = column_meanings()
    values: dict[tuple[str, str], list[str]] = {}
    data_end = None
    if engine is not None:
        with engine.connect() as connection:
            for name in CONTRACT_TABLES:
                for column in Base.metadata.tables[name].columns:
                    if column.name not in LISTED_COLUMNS:
                        continue
                    found = connection.execute(select(column).distinct().limit(MAX_LISTED_VALUES + 1)).scalars().all()
                    if 0 < len(found) <= MAX_LISTED_VALUES:
                        values[(name, column.name)] = sorted(str(v) for v in found if v is not None)
            data_end = connection.execute(select(func.max(Base.metadata.tables["orders"].c.ordered_at))).scalar()
    lines = [f"-- {dialect} database of an online shop. Money in the shop currency; timestamps UTC."]
    if data_end is not None:
        lines.append(f"-- The data ends on {str(data_end)[:10]}: say 'now' = that date, not the clock.")
    for name in CONTRACT_TABLES:
        table = Base.metadata.tables[name]
        lines.append(f"TABLE {name}(")
        for column in table.columns:
            if (name, column.name) in SKIPPED_COLUMNS:
                continue
            notes = []
            if column.primary_key:
                notes.append("PK")
            for fk in column.foreign_keys:
                notes.append(f"-> {fk.target_fullname}")
            if column.name in PERSONAL_COLUMNS[name]:
                notes.append("PII")
            meaning = meanings.get((name, column.name))
            if meaning and not column.primary_key and not column.foreign_keys:
                notes.append(_short(meaning, (name, column.name) in values))
            if (name, column.name) in values:
                notes.append("values: " + ", ".join(values[(name, column.name)]))
            lines.append(f"  {column.name} {_type(column)}" + (f"  -- {'; '.join(notes)}" if notes else ""))
        lines.append(")")
    joins = sorted(
        {
            f"{fk.parent.table.name}.{fk.parent.name} = {fk.target_fullname}"
            for name in CONTRACT_TABLES
            for fk in Base.metadata.tables[name].foreign_keys
        }
    )
    lines.append("-- Joins: " + "; ".join(joins))
    lines.append(
        "-- Late delivery: delivered_at > promised_delivery_at. Revenue: total_amount of orders not cancelled."
    )
    lines.append("-- Latest churn scores: WHERE scored_at = (SELECT MAX(scored_at) FROM churn_scores).")
    for example in sql_examples(dialect)[:examples]:
        lines.append(f"-- Q: {example.question}\n{example.sql};")
    return "\n".join(lines)
