"""Which texts a search may return: one typed filter, applied as a Chroma `where`, a SQL clause or a test.

An unknown field is refused with the list of known ones, never ignored.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from winback.data.risk_bands import RiskBand
from winback.errors import UserError

EQUALITY_FIELDS = ("customer_id", "kind", "segment", "risk_band", "topic")


def epoch_seconds(value: datetime) -> int:
    """Naive-UTC timestamp as seconds since 1970 (Chroma filters on numbers, not dates)."""
    return int(value.replace(tzinfo=UTC).timestamp())


class SearchError(UserError, ValueError):
    pass


class FeedbackFilter(BaseModel):
    """Which texts to search; every field optional, combined with AND."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str | None = None
    kind: Literal["review", "ticket"] | None = None
    min_rating: int | None = Field(None, ge=1, le=5)
    max_rating: int | None = Field(None, ge=1, le=5)
    since: date | None = None
    until: date | None = None
    segment: str | None = None
    risk_band: RiskBand | Literal["unscored"] | None = None
    topic: str | None = None

    @model_validator(mode="after")
    def _ranges(self) -> FeedbackFilter:
        if self.min_rating and self.max_rating and self.min_rating > self.max_rating:
            raise ValueError("min_rating is above max_rating")
        if self.since and self.until and self.since > self.until:
            raise ValueError("since is after until")
        return self

    @classmethod
    def parse(cls, values: dict[str, Any] | None) -> FeedbackFilter:
        try:
            return cls.model_validate(values or {})
        except ValidationError as exc:
            problems = []
            for e in exc.errors():
                field = ".".join(map(str, e["loc"])) or "filter"
                if e["type"] == "extra_forbidden":
                    problems.append(f"unknown filter field {field!r} (known: {', '.join(cls.model_fields)})")
                else:
                    problems.append(f"{field}: {e['msg']}")
            raise SearchError("; ".join(problems)) from None

    def matches(self, meta: dict[str, Any]) -> bool:
        """The same test as `where()`, on one result's metadata (used to post-filter an over-fetch)."""
        for name in EQUALITY_FIELDS:
            value = getattr(self, name)
            if value is not None and meta.get(name) != value:
                return False
        rating = meta.get("rating")
        if self.min_rating is not None and (rating is None or rating < self.min_rating):
            return False
        if self.max_rating is not None and (rating is None or rating > self.max_rating):
            return False
        created = meta.get("created_at")
        if self.since is not None and (
            created is None or created < epoch_seconds(datetime.combine(self.since, time.min))
        ):
            return False
        return not (
            self.until is not None
            and (created is None or created > epoch_seconds(datetime.combine(self.until, time.max)))
        )

    def where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        for name in EQUALITY_FIELDS:
            value = getattr(self, name)
            if value is not None:
                clauses.append({name: value})
        if self.min_rating is not None:
            clauses.append({"rating": {"$gte": self.min_rating}})
        if self.max_rating is not None:
            clauses.append({"rating": {"$lte": self.max_rating}})
        if self.since is not None:
            clauses.append({"created_at": {"$gte": epoch_seconds(datetime.combine(self.since, time.min))}})
        if self.until is not None:
            clauses.append({"created_at": {"$lte": epoch_seconds(datetime.combine(self.until, time.max))}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def sql(self) -> tuple[str, list[Any]]:
        """The same test as a SQL condition over columns named like the metadata (keyword index)."""
        clauses: list[str] = []
        params: list[Any] = []
        for name in EQUALITY_FIELDS:
            value = getattr(self, name)
            if value is not None:
                clauses.append(f"{name} = ?")
                params.append(value)
        for column, op, value in (
            ("rating", ">=", self.min_rating),
            ("rating", "<=", self.max_rating),
            ("created_at", ">=", epoch_seconds(datetime.combine(self.since, time.min)) if self.since else None),
            ("created_at", "<=", epoch_seconds(datetime.combine(self.until, time.max)) if self.until else None),
        ):
            if value is not None:
                clauses.append(f"{column} {op} ?")
                params.append(value)
        return " AND ".join(clauses) or "1", params
