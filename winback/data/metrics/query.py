"""A structured metric query: which measure, grouped how, filtered how, over which window, sorted and cut.
It is what slots or the model fill (under the JSON schema `metric_query_schema` gives) and what the
compiler turns into SQL; names are checked against the catalog, values against the database."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from winback.data.metrics.catalog import Catalog, load_catalog

WindowKind = Literal[
    "all",
    "last_days",
    "last_months",
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "this_year",
    "last_year",
    "year",
    "month",
    "between",
]
MAX_GROUPS = 500


class Window(BaseModel):
    """A time window, relative to the data's reference date (the latest order) unless it names dates."""

    kind: WindowKind = "all"
    n: int | None = Field(None, ge=1, le=3_650, description="days or months, for last_days / last_months")
    year: int | None = Field(None, ge=1990, le=2100, description="for year and month")
    month: int | None = Field(None, ge=1, le=12, description="for month")
    start: date | None = Field(None, description="for between: the first day")
    end: date | None = Field(None, description="for between: the last day (included)")

    @model_validator(mode="after")
    def _complete(self) -> Window:
        needed = {"last_days": ["n"], "last_months": ["n"], "year": ["year"], "month": ["year", "month"]}
        needed["between"] = ["start"]
        missing = [name for name in needed.get(self.kind, []) if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.kind} window needs {' and '.join(missing)}")
        if self.kind == "between" and self.end is not None and self.start is not None and self.end < self.start:
            raise ValueError(f"the window ends ({self.end}) before it starts ({self.start})")
        return self


class Filter(BaseModel):
    dimension: str = Field(description="a dimension name from the catalog")
    values: list[str] = Field(min_length=1, max_length=20)
    exclude: bool = Field(False, description="true: everything except these values")
    share: bool = Field(
        False, description="true: measure the share of rows with these values (count measures), not only those rows"
    )


class MetricQuery(BaseModel):
    measure: str = Field(description="a measure name from the catalog")
    group_by: list[str] = Field(default_factory=list, max_length=2, description="up to two dimension names")
    filters: list[Filter] = Field(default_factory=list, max_length=6)
    window: Window = Field(default_factory=Window)
    inactive_days: int | None = Field(
        None, ge=1, le=3_650, description="only customers with no order in this many days before the reference date"
    )
    sort: Literal["desc", "asc"] | None = Field(None, description="order groups by the measure")
    top_k: int | None = Field(None, ge=1, le=MAX_GROUPS, description="keep only the first k groups")

    @model_validator(mode="after")
    def _names_exist(self) -> MetricQuery:
        catalog = load_catalog()
        measure = catalog.measure(self.measure)
        allowed = {d.name for d in catalog.dimensions_for(measure)}
        for name in [*self.group_by, *(f.dimension for f in self.filters)]:
            catalog.dimension(name)
            if name not in allowed:
                raise ValueError(
                    f"{measure.label} cannot be broken down by {catalog.dimensions[name].label} "
                    f"(it can by: {', '.join(sorted(allowed))})"
                )
        if any(f.share for f in self.filters) and (measure.kind != "count" or measure.sql != "COUNT(*)"):
            raise ValueError(f"a share of rows needs a plain count ({measure.label} is not one)")
        if len(set(self.group_by)) != len(self.group_by):
            raise ValueError("the same dimension twice in group_by")
        if self.window.kind != "all" and catalog.entity_of(measure).time is None:
            raise ValueError(
                f"{measure.label} is read from {catalog.entity_of(measure).time_words}; it has no time window"
            )
        return self


def metric_query_schema(catalog: Catalog | None = None) -> dict[str, Any]:
    """MetricQuery's JSON schema with the catalog's names as enums, for guided decoding."""
    catalog = catalog or load_catalog()
    schema = MetricQuery.model_json_schema()
    dimensions = list(catalog.dimensions)
    schema["properties"]["measure"]["enum"] = list(catalog.measures)
    schema["properties"]["group_by"]["items"] = {"type": "string", "enum": dimensions}
    schema["$defs"]["Filter"]["properties"]["dimension"]["enum"] = dimensions
    return schema
