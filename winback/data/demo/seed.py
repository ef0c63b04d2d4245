"""Write the demo shop into a database: customers in fixed-size chunks, each chunk one transaction.

Memory stays bounded (one chunk at a time) and the content depends only on (seed, customers, as_of):
every customer's life comes from its own random stream, so chunking, worker count and database do
not change a byte of it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select

from winback.data.bulk import bulk_insert
from winback.data.db import require_contract
from winback.data.demo.simulate import CustomerSimulator
from winback.data.demo.world import Calendar
from winback.data.schema import CONTRACT_TABLES, Base, Customer, DemoBase, DemoState
from winback.errors import UserError

DEFAULT_AS_OF = datetime(2026, 11, 1)
DEFAULT_CUSTOMERS = 20_000
CHUNK = 2_000
DEMO_TABLES = ("customers", "orders", "order_items", "reviews", "support_tickets")


class SeedError(UserError, RuntimeError):
    pass


@dataclass
class SeedReport:
    customers: int
    rows: dict[str, int]
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def _simulate_chunk(args: tuple[int, datetime, int, int]) -> dict[str, list[dict[str, Any]]]:
    seed, as_of, start, stop = args
    simulator = _simulator(seed, as_of)
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in (*DEMO_TABLES, "demo_truth")}
    for index in range(start, stop):
        life = simulator.simulate(index)
        out["customers"].append(life.customer)
        out["orders"].extend(life.orders)
        out["order_items"].extend(life.order_items)
        out["reviews"].extend(life.reviews)
        out["support_tickets"].extend(life.support_tickets)
        out["demo_truth"].append(life.truth)
    return out


_SIMULATORS: dict[tuple[int, datetime], CustomerSimulator] = {}


def _simulator(seed: int, as_of: datetime) -> CustomerSimulator:
    key = (seed, as_of)
    if key not in _SIMULATORS:
        _SIMULATORS[key] = CustomerSimulator(seed, Calendar.for_as_of(as_of))
    return _SIMULATORS[key]


def _chunks(seed: int, as_of: datetime, customers: int, workers: int) -> Iterator[dict[str, list[dict[str, Any]]]]:
    jobs = [(seed, as_of, s, min(s + CHUNK, customers)) for s in range(0, customers, CHUNK)]
    if workers <= 1 or len(jobs) <= 1:
        yield from map(_simulate_chunk, jobs)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        # results are written in chunk order; at most `workers` + 1 chunks are in flight, bounding memory
        pending = []
        for job in jobs:
            pending.append(pool.submit(_simulate_chunk, job))
            if len(pending) > workers:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


def seed_demo(
    engine: Engine,
    customers: int = DEFAULT_CUSTOMERS,
    seed: int = 7,
    as_of: datetime = DEFAULT_AS_OF,
    replace: bool = False,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> SeedReport:
    """Fill an empty (migrated) database with the demo shop; `replace` empties the contract tables first."""
    if customers < 1:
        raise SeedError("--customers must be at least 1")
    require_contract(engine)
    started = time.perf_counter()
    with engine.begin() as connection:
        existing = connection.execute(select(func.count()).select_from(Customer)).scalar_one()
        if existing and not replace:
            raise SeedError(
                f"the database already holds {existing} customers; seed into an empty database or pass --replace"
            )
        if replace:
            for name in reversed(CONTRACT_TABLES):
                connection.execute(delete(Base.metadata.tables[name]))
        DemoBase.metadata.drop_all(connection)
        DemoBase.metadata.create_all(connection)
        connection.execute(
            insert(DemoState).values(state_id=1, seed=seed, customers=customers, seeded_as_of=as_of, as_of=as_of)
        )

    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    tables = {**{t: Base.metadata.tables[t] for t in DEMO_TABLES}, "demo_truth": DemoBase.metadata.tables["demo_truth"]}
    counts = {name: 0 for name in tables}
    done = 0
    for chunk in _chunks(seed, as_of, customers, workers):
        with engine.begin() as connection:
            for name, table in tables.items():
                counts[name] += bulk_insert(connection, table, chunk[name])
        done += len(chunk["customers"])
        if progress:
            progress(len(chunk["customers"]))
    return SeedReport(customers=done, rows=counts, seconds=time.perf_counter() - started)
