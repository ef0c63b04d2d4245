"""Tables people can read: the columns each persona needs first (the rest stay a click away on the Results
tab), in the chat as in the tab. The chat's tables are the answer's own markdown tables narrowed to these
columns; the browser script (static/chat_tables.js) makes them sortable and filterable and their ids open
the customer card."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from winback.roles import Role
from winback.tools.at_risk import COLUMNS as AT_RISK_COLUMNS

# who needs which columns of the ranked list first: staff who call people, agents who write to them,
# managers who weigh value
PERSONA_COLUMNS: dict[Role, list[str]] = {
    Role.CS_STAFF: ["#", "customer", "segment", "country", "churn", "band", "days since order", "top driver"],
    Role.SUPPORT_AGENT: ["#", "customer", "name", "country", "churn", "band", "next order", "top driver"],
    Role.MANAGER: ["#", "customer", "segment", "country", "churn", "band", "lifetime value", "revenue at risk"],
    Role.ADMIN: list(AT_RISK_COLUMNS),
}
TABLE_LINE = re.compile(r"^\|.*\|\s*$")


def persona_columns(role: Role, columns: list[str]) -> list[str]:
    """The columns a persona sees first: their choice for the ranked list, every column of other tables."""
    if columns != list(AT_RISK_COLUMNS):
        return list(columns)
    return [c for c in PERSONA_COLUMNS[role] if c in columns]


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def narrow_tables(text: str, role: Role) -> str:
    """The answer with each markdown table narrowed to the persona's columns (whole lines only: a table
    still streaming in is narrowed line by line as it arrives)."""
    lines = text.split("\n")
    out: list[str] = []
    keep: list[int] | None = None
    for line in lines:
        if not TABLE_LINE.match(line):
            keep = None
            out.append(line)
            continue
        cells = _cells(line)
        if keep is None:  # a table's header
            wanted = persona_columns(role, cells)
            keep = [cells.index(c) for c in wanted] if wanted != cells else None
            if keep is None:
                keep = list(range(len(cells)))
        if set(line.replace("|", "").strip()) <= {"-", ":", " "}:  # the rule under the header
            out.append("|" + "|".join("---" for _ in keep) + "|")
        else:
            out.append("| " + " | ".join(cells[i] if i < len(cells) else "" for i in keep) + " |")
    return "\n".join(out)


def latest_table(tool_calls: list[Any]) -> tuple[pd.DataFrame, list[str]] | None:
    """The last table a turn's tools returned, whole, for the Results tab (every column, raw values so they
    sort as numbers), with the columns shown by default; None when no tool returned a table."""
    for call in reversed(tool_calls):
        table = call.result.data.get("table") if call.ok else None
        if table and table.get("rows"):
            frame = pd.DataFrame(table["rows"], columns=table["columns"])
            if "churn" in frame.columns and pd.api.types.is_numeric_dtype(frame["churn"]):
                frame["churn"] = (frame["churn"] * 100).round(1)
            return frame, list(table["columns"])
    return None
