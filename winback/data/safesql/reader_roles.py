"""A PostgreSQL role that can only read the contract tables: the third wall for model-written SQL.

Even if a statement slipped past validation and the read-only session, this role has no privilege to
write, no access to tables outside the contract (demo_truth included), read-only transactions by default
and a statement timeout. Creating it needs a user allowed to create roles (the database owner or a superuser).
"""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from winback.data.schema import CONTRACT_TABLES
from winback.errors import UserError

DEFAULT_READER = "winback_reader"


class ReaderRoleError(UserError, RuntimeError):
    pass


def create_reader_role(
    engine: Engine, name: str = DEFAULT_READER, password: str | None = None, timeout_s: float = 5.0
) -> str:
    """Create (or reset) the role and return the URL to put in WINBACK_READONLY_DATABASE_URL."""
    if engine.dialect.name != "postgresql":
        raise ReaderRoleError("a SELECT-only role is a PostgreSQL feature; SQLite is opened read-only instead")
    if not name.replace("_", "").isalnum():
        raise ReaderRoleError(f"role name {name!r} must be letters, digits and underscores")
    password = password or secrets.token_urlsafe(24)
    database = engine.url.database
    with engine.begin() as connection:
        exists = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first()
        verb = "ALTER" if exists else "CREATE"
        quoted_password = connection.execute(text("SELECT quote_literal(:p)"), {"p": password}).scalar_one()
        connection.execute(
            text(f'{verb} ROLE "{name}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD {quoted_password}')
        )
        connection.execute(text(f'ALTER ROLE "{name}" SET default_transaction_read_only = on'))
        connection.execute(text(f'ALTER ROLE "{name}" SET statement_timeout = {int(timeout_s * 1000)}'))
        connection.execute(text(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{name}"'))
        connection.execute(text(f'GRANT CONNECT ON DATABASE "{database}" TO "{name}"'))
        connection.execute(text(f'GRANT USAGE ON SCHEMA public TO "{name}"'))
        tables = ", ".join(f'"{t}"' for t in CONTRACT_TABLES)
        connection.execute(text(f'GRANT SELECT ON {tables} TO "{name}"'))
    return make_url(engine.url).set(username=name, password=password).render_as_string(hide_password=False)
