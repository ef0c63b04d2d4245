"""The shop's "now" for things that happen to the data (campaign sends, outcome windows): a demo shop has
its own clock (`demo_state.as_of`, moved by `winback demo advance`), a real shop the wall clock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, inspect, select

from winback.data.schema import DemoState


def is_demo(connection: Connection) -> bool:
    return inspect(connection).has_table(DemoState.__tablename__)


def shop_now(engine: Engine | Connection) -> datetime:
    if isinstance(engine, Engine):
        with engine.connect() as connection:
            return shop_now(connection)
    if is_demo(engine):
        as_of = engine.execute(select(DemoState.as_of)).scalar_one_or_none()
        if as_of is not None:
            return as_of
    return datetime.now().replace(microsecond=0)
