"""PostgreSQL's own wall for free SQL: login-less reader roles, one per data-visibility level, with
column-level SELECT grants on the contract tables only.

`winback_read_public` may read every contract column except the personal ones (customers.name/email,
offers.subject/message, offer_events.details); `winback_read_personal` may read every contract column.
Neither may read the chat tables, demo_truth or anything else winback keeps, nor write. The application's
role is made a member of both, so each free-SQL statement runs after `SET LOCAL ROLE` to the reader of the
caller's role (winback.data.safesql.readonly). `set_config()` is revoked from PUBLIC, so a statement cannot
switch the role back (`set_config('role', ...)` is `SET ROLE` as a function).

Creating the roles needs CREATEROLE (or a superuser) and, for the set_config revoke, a superuser: run
`winback db create-reader` once as such a user, naming the application's role with `--member` when it
is not the one connecting.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from winback.data.schema import CONTRACT_TABLES, PERSONAL_COLUMNS, Base
from winback.errors import UserError

PUBLIC_READER = "winback_read_public"
PERSONAL_READER = "winback_read_personal"
READERS = (PUBLIC_READER, PERSONAL_READER)
SET_CONFIG = "pg_catalog.set_config(text, text, boolean)"


class ReaderRoleError(UserError, RuntimeError):
    pass


@dataclass(frozen=True)
class ReaderSetup:
    members: tuple[str, ...]  # roles that may SET ROLE to the readers
    set_config_revoked: bool  # readers cannot run set_config()


def reader_for(personal_data: bool) -> str:
    return PERSONAL_READER if personal_data else PUBLIC_READER


def _ident(connection: Connection, name: str) -> str:
    return str(connection.execute(text("SELECT quote_ident(:n)"), {"n": name}).scalar_one())


def create_reader_roles(engine: Engine, members: tuple[str, ...] = ()) -> ReaderSetup:
    """Create (or refresh) both reader roles and their grants; make the connecting role and `members`
    members of them. Idempotent. Raises ReaderRoleError with one line when the user may not."""
    if engine.dialect.name != "postgresql":
        raise ReaderRoleError("reader roles are a PostgreSQL feature; SQLite free SQL runs under an authorizer")
    try:
        with engine.begin() as connection:
            me = str(connection.execute(text("SELECT current_user")).scalar_one())
            database = _ident(connection, str(connection.execute(text("SELECT current_database()")).scalar_one()))
            for reader in READERS:
                if connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": reader}).first() is None:
                    connection.execute(text(f"CREATE ROLE {reader} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"))
                connection.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {reader}"))
                connection.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {reader}"))
                connection.execute(text(f"GRANT CONNECT ON DATABASE {database} TO {reader}"))
                connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {reader}"))
            for table in CONTRACT_TABLES:
                everything = [c.name for c in Base.metadata.tables[table].columns]
                visible = [c for c in everything if c not in PERSONAL_COLUMNS[table]]
                connection.execute(text(f"GRANT SELECT ON {table} TO {PERSONAL_READER}"))
                columns = ", ".join(_ident(connection, c) for c in visible)
                connection.execute(text(f"GRANT SELECT ({columns}) ON {table} TO {PUBLIC_READER}"))
            granted = []
            for member in dict.fromkeys((me, *members)):
                quoted = _ident(connection, member)
                for reader in READERS:
                    connection.execute(text(f"GRANT {reader} TO {quoted}"))
                granted.append(member)
    except Exception as exc:
        if isinstance(exc, UserError):
            raise
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise ReaderRoleError(
            f"could not create the reader roles ({reason}); run `winback db create-reader` as a superuser "
            "or a role with CREATEROLE, with --member <application role>"
        ) from None
    return ReaderSetup(tuple(granted), _revoke_set_config(engine, granted))


def _revoke_set_config(engine: Engine, members: list[str]) -> bool:
    """Take set_config() from PUBLIC (its owner, a superuser, can), give it back to the application roles."""
    try:
        with engine.begin() as connection:
            connection.execute(text(f"REVOKE EXECUTE ON FUNCTION {SET_CONFIG} FROM PUBLIC"))
            for member in members:
                connection.execute(text(f"GRANT EXECUTE ON FUNCTION {SET_CONFIG} TO {_ident(connection, member)}"))
    except Exception:
        pass  # not a superuser: readers_ready() reports it
    with engine.connect() as connection:
        return not any(_reader_may_set_config(connection, reader) for reader in READERS)


def _reader_may_set_config(connection: Connection, reader: str) -> bool:
    return bool(
        connection.execute(
            text("SELECT has_function_privilege(:r, :f, 'EXECUTE')"), {"r": reader, "f": SET_CONFIG}
        ).scalar_one()
    )


def readers_problem(connection: Connection) -> str | None:
    """Why free SQL may not run on this connection, in one line; None when the walls stand."""
    for reader in READERS:
        row = connection.execute(
            text("SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = :r"), {"r": reader}
        ).first()
        if row is None or not row[0]:
            return (
                f"free SQL on PostgreSQL needs the reader role {reader}, and this connection's role may not use it; "
                "run `winback db create-reader` (as a superuser or a role with CREATEROLE)"
            )
        if _reader_may_set_config(connection, reader):
            return (
                f"free SQL is off: {reader} may still call set_config() and so switch roles; a superuser must run "
                "`winback db create-reader` (it revokes set_config from PUBLIC)"
            )
    return None
