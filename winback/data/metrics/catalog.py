"""The metrics catalog (catalog.toml) as typed objects: entities, measures and dimensions, each defined
once with its definition in words. Loading checks that every reference resolves, so a typo in the file
fails at start-up, not in a user's answer."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

CATALOG_FILE = Path(__file__).with_name("catalog.toml")
MeasureKind = Literal["count", "money", "share", "number", "rating"]
Dialect = Literal["sqlite", "postgresql"]


class CatalogError(ValueError):
    """catalog.toml names something that does not exist."""


@dataclass(frozen=True)
class Entity:
    name: str
    from_sql: str
    where: str | None
    time: str | None  # the column a time window applies to; None: no window (the latest scoring run)
    time_words: str
    scores_joined: bool  # the latest churn scores are already in FROM (alias s)
    noun: str  # what one row is ("orders", "deliveries"): the base a share or mean is taken over
    verbs: tuple[str, ...] = ()  # what happens to one row ("opened", "came back"): words a question may use


@dataclass(frozen=True)
class Measure:
    name: str
    entity: str
    sql: str
    kind: MeasureKind
    label: str
    definition: str
    where: str | None = None
    words: tuple[str, ...] = ()
    better: Literal["higher", "lower"] = "higher"  # which way is good: "the worst return rate" is the highest
    per_item: str | None = None  # the same figure over order lines, for a category ("sales of shoes")


@dataclass(frozen=True)
class Dimension:
    name: str
    sql: str
    label: str
    sqlite: str | None = None
    entities: tuple[str, ...] | None = None  # None: every entity (it reads the customer)
    by_entity: dict[str, str] = field(default_factory=dict)
    needs: str | None = None  # a join (catalog [joins]) this dimension reads
    timed: bool = False  # reads the entity's time column
    ordered: bool = False  # groups sort by the value (months, years), not by the measure
    values_in_order: tuple[str, ...] = ()
    words: tuple[str, ...] = ()

    def available_for(self, entity: Entity) -> bool:
        if self.timed and entity.time is None:
            return False
        return self.entities is None or entity.name in self.entities

    def expression(self, entity: Entity, dialect: Dialect) -> str:
        sql = self.by_entity.get(entity.name) or (self.sqlite if dialect == "sqlite" and self.sqlite else self.sql)
        return sql.replace("{time}", entity.time or "NULL")


@dataclass(frozen=True)
class Catalog:
    entities: dict[str, Entity]
    measures: dict[str, Measure]
    dimensions: dict[str, Dimension]
    joins: dict[str, str]

    def measure(self, name: str) -> Measure:
        try:
            return self.measures[name]
        except KeyError:
            raise CatalogError(f"unknown measure {name!r} (known: {', '.join(self.measures)})") from None

    def dimension(self, name: str) -> Dimension:
        try:
            return self.dimensions[name]
        except KeyError:
            raise CatalogError(f"unknown dimension {name!r} (known: {', '.join(self.dimensions)})") from None

    def entity_of(self, measure: Measure) -> Entity:
        return self.entities[measure.entity]

    def dimensions_for(self, measure: Measure) -> list[Dimension]:
        entity = self.entity_of(measure)
        return [d for d in self.dimensions.values() if d.available_for(entity)]


def _tuple(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


@lru_cache(maxsize=4)
def load_catalog(path: Path = CATALOG_FILE) -> Catalog:
    spec = tomllib.loads(path.read_text(encoding="utf-8"))
    entities = {
        name: Entity(
            name,
            e["from"],
            e.get("where"),
            e.get("time"),
            e.get("time_words", name),
            bool(e.get("scores_joined", False)),
            e.get("noun", name),
            _tuple(e.get("verbs")),
        )
        for name, e in spec["entities"].items()
    }
    measures = {
        name: Measure(
            name,
            m["entity"],
            m["sql"],
            m["kind"],
            m["label"],
            m["definition"],
            m.get("where"),
            _tuple(m.get("words")),
            m.get("better", "higher"),
            m.get("per_item"),
        )
        for name, m in spec["measures"].items()
    }
    dimensions = {
        name: Dimension(
            name,
            d["sql"],
            d["label"],
            d.get("sqlite"),
            _tuple(d["entities"]) if "entities" in d else None,
            dict(d.get("by_entity", {})),
            d.get("needs"),
            bool(d.get("timed", False)),
            bool(d.get("ordered", False)),
            _tuple(d.get("values_in_order")),
            _tuple(d.get("words")),
        )
        for name, d in spec["dimensions"].items()
    }
    joins = {name: j["sql"] for name, j in spec.get("joins", {}).items()}
    catalog = Catalog(entities, measures, dimensions, joins)
    _check(catalog)
    return catalog


def _check(catalog: Catalog) -> None:
    owners: dict[str, str] = {}
    for measure in catalog.measures.values():
        for word in measure.words:
            other = owners.setdefault(word.lower(), measure.name)
            if other != measure.name:
                raise CatalogError(f"the word {word!r} names two measures: {other} and {measure.name}")
        if measure.entity not in catalog.entities:
            raise CatalogError(f"measure {measure.name!r} counts over unknown entity {measure.entity!r}")
        if measure.better not in ("higher", "lower"):
            raise CatalogError(f"measure {measure.name!r}: better is 'higher' or 'lower', not {measure.better!r}")
        if measure.per_item is not None and measure.per_item not in catalog.measures:
            raise CatalogError(f"measure {measure.name!r}: per_item names unknown measure {measure.per_item!r}")
    for dimension in catalog.dimensions.values():
        for entity in (dimension.entities or ()) + tuple(dimension.by_entity):
            if entity not in catalog.entities:
                raise CatalogError(f"dimension {dimension.name!r} names unknown entity {entity!r}")
        if dimension.needs and dimension.needs not in catalog.joins:
            raise CatalogError(f"dimension {dimension.name!r} needs unknown join {dimension.needs!r}")
