"""Template databases for the data tests: what a fixture puts into a database (the migrations, a seeded shop)
is built once per test run and cloned for each test, instead of being built again for every test.

On PostgreSQL the template is a database of its own, named after what builds it and a fingerprint of the code
(so a server kept between runs, WINBACK_TEST_POSTGRES_URL, never serves a stale one), built under an advisory
lock (the workers of one run share a server) and cloned with CREATE DATABASE ... TEMPLATE. On SQLite it is a
file in this run's temporary folder, copied.
"""

from __future__ import annotations

import hashlib
import inspect
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

from tests.shop_cache import code_fingerprint
from winback.data.db import make_engine

Build = Callable[[Engine], object]
_sqlite: dict[str, Path] = {}


def _fingerprint(name: str, build: Build) -> str:
    source = Path(inspect.getfile(build)).read_bytes()
    return hashlib.sha256(
        f"{code_fingerprint()}|{name}|{build.__module__}.{build.__qualname__}".encode() + source
    ).hexdigest()[:12]


def sqlite(folders: pytest.TempPathFactory, name: str, build: Build) -> Path:
    """The SQLite template file `name` of this run (built on first use)."""
    key = f"{name}-{_fingerprint(name, build)}"
    if key not in _sqlite:
        path = folders.mktemp(f"template-{name}") / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        build(engine)
        engine.dispose()
        _sqlite[key] = path
    return _sqlite[key]


def _admin(server: str) -> Engine:
    return create_engine(server, isolation_level="AUTOCOMMIT")


def postgres_clone(server: str, name: str, build: Build) -> str:
    """URL of a new database cloned from the template `name` on `server` (built there on first use)."""
    template = f"tpl_{name.replace('-', '_')}_{_fingerprint(name, build)}"
    admin = _admin(server)
    try:
        with admin.connect() as connection:
            if (
                connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": template}).first()
                is None
            ):
                lock = int.from_bytes(hashlib.sha256(template.encode()).digest()[:4], "big")
                connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock})
                try:
                    exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": template})
                    if exists.first() is None:
                        _build_template(connection, server, template, build)
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock})
            clone = f"t_{uuid.uuid4().hex[:12]}"
            connection.execute(text(f'CREATE DATABASE "{clone}" TEMPLATE "{template}"'))
    finally:
        admin.dispose()
    return make_url(server).set(database=clone).render_as_string(hide_password=False)


def _build_template(connection: Connection, server: str, template: str, build: Build) -> None:
    building = f"{template}_building"
    connection.execute(text(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
    connection.execute(text(f'CREATE DATABASE "{building}"'))
    engine = make_engine(make_url(server).set(database=building).render_as_string(hide_password=False))
    try:
        build(engine)
    finally:
        engine.dispose()
    connection.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{template}"'))


def drop(server: str, url: str) -> None:
    admin = _admin(server)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()
