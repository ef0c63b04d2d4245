"""What every named lookup shares: the data's "now", the latest scoring run, and checks on arguments
that turn bad input (an unknown id or segment, a future date, an absurd limit) into a one-line answer."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from winback.data.schema import ChurnScore, Customer, Order
from winback.data.sqlfuncs import as_datetime
from winback.errors import UserError

MAX_ROWS = 500  # the most rows a lookup returns; asking for more is answered with a note, not an error


class InvalidLookup(UserError, ValueError):
    """The arguments cannot be answered as given; the message says why and what would work."""


class CustomerNotFound(InvalidLookup, LookupError):
    pass


@dataclass(frozen=True)
class ScoringRun:
    scored_at: datetime
    model_version: str


def reference_date(connection: Connection | Session) -> datetime:
    """The data's own "now": the latest order (a demo shop ends at its as-of date, a live shop is today)."""
    value = as_datetime(connection.execute(select(func.max(Order.ordered_at))).scalar_one())
    if value is None:
        raise InvalidLookup("the database has no orders yet: seed the demo or import your data first")
    return value


def latest_run(connection: Connection | Session, before: datetime | None = None) -> ScoringRun | None:
    """The latest scoring run (`before`: the latest one before that time, e.g. the run a new one replaced)."""
    query = select(ChurnScore.scored_at, ChurnScore.model_version).order_by(ChurnScore.scored_at.desc()).limit(1)
    if before is not None:
        query = query.where(ChurnScore.scored_at < before)
    row = connection.execute(query).first()
    return ScoringRun(as_datetime(row.scored_at), row.model_version) if row else None  # type: ignore[arg-type]  # scored_at is NOT NULL


def require_run(connection: Connection | Session) -> ScoringRun:
    run = latest_run(connection)
    if run is None:
        raise InvalidLookup("no churn scores yet: run `winback train` and `winback score` first")
    return run


def check_not_after(value: datetime | None, reference: datetime, what: str) -> None:
    if value is not None and value > reference:
        raise InvalidLookup(
            f"{what} {value:%Y-%m-%d} is after the latest data ({reference:%Y-%m-%d}); nothing is known about it yet"
        )


def capped(limit: int, notes: list[str]) -> int:
    if limit > MAX_ROWS:
        notes.append(f"showing at most {MAX_ROWS:,} rows (asked for {limit:,})")
        return MAX_ROWS
    return limit


def resolve_value(connection: Connection | Session, column: Any, value: str, what: str) -> str:
    """Match `value` to a value that exists in `column`, ignoring case; else say which ones exist."""
    known = [str(v) for v in connection.execute(select(column).distinct().order_by(column)).scalars() if v is not None]
    by_lower = {k.lower(): k for k in known}
    found = by_lower.get(value.strip().lower())
    if found is not None:
        return found
    close = difflib.get_close_matches(value.strip().lower(), list(by_lower), n=1, cutoff=0.75)
    hint = f" (did you mean {by_lower[close[0]]!r}?)" if close else ""
    listing = ", ".join(known[:12]) + (f" and {len(known) - 12} more" if len(known) > 12 else "")
    raise InvalidLookup(f"no customers with {what} {value!r}{hint}. Known values: {listing}")


def existing_customer_ids(connection: Connection | Session, candidates: list[str]) -> set[str]:
    """Which of these strings are customer ids (exact match, one query on the primary key)."""
    wanted = sorted({c for c in candidates if c and len(c) <= 64})
    if not wanted:
        return set()
    return set(connection.execute(select(Customer.customer_id).where(Customer.customer_id.in_(wanted))).scalars())


def require_customer(session: Session, customer_id: str) -> Customer:
    row = session.execute(select(Customer).where(Customer.customer_id == customer_id.strip())).scalars().first()
    if row is None:
        raise CustomerNotFound(f"no customer with id {customer_id.strip()!r}")
    return row
