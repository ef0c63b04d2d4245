"""Template databases for the data tests: what a fixture puts into a database (the migrations, a seeded shop)
is built once per test run and cloned for each test, instead of being built again for every test.

On PostgreSQL the template is a database of its own, named after what builds it and a fingerprint of the code
(so a server kept between runs, WINBACK_TEST_POSTGRES_URL, never serves a stale one), built under an advisory
lock (the workers of one run share a server) and cloned with CREATE DATABASE ... TEMPLATE. On SQLite it is a
file in this run's temporary folder, copied.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

from tests.shop_cache import builder_fingerprint
from winback.data.db import make_engine

Build = Callable[[Engine], object]
CloneDatabase = Callable[[str, Build], str]  # the clone_database fixture: (template name, builder) -> URL
_sqlite: dict[str, Path] = {}


def sqlite(folders: pytest.TempPathFactory, name: str, build: Build) -> Path:
    """The SQLite template file `name` of this run (built on first use)."""
    key = f"{name}-{builder_fingerprint(name, build)[:12]}"
    if key not in _sqlite:
        path = folders.mktemp(f"template-{name}") / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        build(engine)
        engine.dispose()
        _sqlite[key] = path
    return _sqlite[key]


@contextmanager
def _admin(server: str) -> Iterator[Connection]:
    """A connection to the server's maintenance database, outside any transaction (CREATE DATABASE needs it)."""
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _url(server: str, database: str) -> str:
    return make_url(server).set(database=database).render_as_string(hide_password=False)


def _exists(connection: Connection, database: str) -> bool:
    return connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": database}).first() is not None


def create(server: str, template: str | None = None) -> str:
    """URL of a new database on `server`: empty, or a clone of the database `template`."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with _admin(server) as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    return _url(server, name)


def postgres_clone(server: str, name: str, build: Build) -> str:
    """URL of a new database cloned from the template `name` on `server` (built there on first use)."""
    template = f"tpl_{name.replace('-', '_')}_{builder_fingerprint(name, build)[:12]}"
    with _admin(server) as connection:
        if not _exists(connection, template):
            lock = int.from_bytes(hashlib.sha256(template.encode()).digest()[:4], "big")
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock})
            try:
                if not _exists(connection, template):  # not built by the other worker meanwhile
                    _build_template(connection, server, template, build)
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock})
    return create(server, template)


def _build_template(connection: Connection, server: str, template: str, build: Build) -> None:
    """Build into a database of another name and rename it when done: a template is never half-built."""
    building = f"{template}_building"
    connection.execute(text(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
    connection.execute(text(f'CREATE DATABASE "{building}"'))
    engine = make_engine(_url(server, building))
    try:
        build(engine)
    finally:
        engine.dispose()
    connection.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{template}"'))


def drop(server: str, url: str) -> None:
    with _admin(server) as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
