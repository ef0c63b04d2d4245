"""A small shop with secrets planted where free SQL must never reach, on three engines: SQLite, PostgreSQL
with the superuser the tests start, and PostgreSQL with a non-superuser application role (the reader roles
made by a superuser, as a DBA would, with `--member` for the application)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, insert, select, text
from sqlalchemy.engine import make_url

from winback.config import Settings
from winback.data.db import make_engine
from winback.data.demo.seed import seed_demo
from winback.data.migrate import upgrade
from winback.data.safesql.reader_roles import create_reader_roles
from winback.data.schema import ChatMessage, ChatSession, Customer, Offer

CHAT_SECRET = "CHATSECRET-" + uuid.uuid4().hex[:8]
APP_ROLE = "winback_app_test"


@dataclass
class WalledShop:
    kind: str  # sqlite, postgres-superuser, postgres-app
    url: str
    engine: Engine
    secrets: list[str]  # names, e-mails, chat text, offer text: none may come back to a role without PII

    def settings(self, **overrides: object) -> Settings:
        values: dict[str, object] = {"database_url": self.url, "sql_timeout_s": 2, "sql_calls_per_minute": 10_000}
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]  # pydantic-settings takes keyword values


def plant_secrets(engine: Engine) -> list[str]:
    """A chat that holds a customer's e-mail, an offer addressed by name; returns every secret string."""
    with engine.begin() as connection:
        customer = connection.execute(select(Customer).limit(1)).one()
        now = datetime(2026, 11, 1, 12, 0)
        connection.execute(
            insert(ChatSession).values(
                session_id="S-secret", user_name="sam", role="support_agent", title="x", created_at=now, updated_at=now
            )
        )
        connection.execute(
            insert(ChatMessage).values(
                session_id="S-secret",
                position=0,
                sender="assistant",
                content=f"{CHAT_SECRET} write to {customer.email}",
                created_at=now,
                tool_calls=[{"name": "get_customer_profile", "text": f"{CHAT_SECRET} {customer.email}"}],
            )
        )
        connection.execute(
            insert(Offer).values(
                offer_id="OF-secret",
                customer_id=customer.customer_id,
                created_at=now,
                created_by="sam",
                offer_type="discount",
                value=10,
                channel="email",
                subject=f"For you, {customer.name}",
                message=f"Dear {customer.name}, OFFERSECRET",
                status="draft",
            )
        )
        rows = connection.execute(select(Customer.name, Customer.email)).all()
    secrets = [CHAT_SECRET, "OFFERSECRET"]
    for name, email in rows:
        secrets += [name, email]
    return secrets


def _shop(url: str, kind: str) -> Iterator[WalledShop]:
    engine = make_engine(url)
    if kind != "postgres-app":
        upgrade(engine)
    seed_demo(engine, customers=60, seed=5)
    shop = WalledShop(kind, url, engine, plant_secrets(engine))
    yield shop
    engine.dispose()


@pytest.fixture(scope="module")
def sqlite_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WalledShop]:
    path: Path = tmp_path_factory.mktemp("walls") / "shop.db"
    yield from _shop(f"sqlite:///{path}", "sqlite")


def _database(server: str, owner: str | None = None) -> tuple[str, str]:
    name = f"w_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"' + (f" OWNER {owner}" if owner else "")))
    admin.dispose()
    return name, make_url(server).set(database=name).render_as_string(hide_password=False)


def _drop(server: str, name: str) -> None:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def postgres_shop(postgres_server: str) -> Iterator[WalledShop]:
    name, url = _database(postgres_server)
    try:
        yield from _shop(url, "postgres-superuser")
    finally:
        _drop(postgres_server, name)


def app_role_url(postgres_server: str, database: str) -> str:
    """A LOGIN, non-superuser, non-CREATEROLE role owning `database`: what a production app runs as."""
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}).first() is None:
            connection.execute(text(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEROLE PASSWORD 'app-pw-1'"))
    admin.dispose()
    return (
        make_url(postgres_server)
        .set(username=APP_ROLE, password="app-pw-1", database=database)
        .render_as_string(hide_password=False)
    )


@pytest.fixture(scope="module")
def postgres_app_shop(postgres_server: str) -> Iterator[WalledShop]:
    app_role_url(postgres_server, "postgres")  # the role must exist before it owns a database
    name, superuser_url = _database(postgres_server, owner=APP_ROLE)
    url = app_role_url(postgres_server, name)
    app = make_engine(url)
    problem = upgrade(app)  # the application migrates its own database; it may not create roles
    assert problem and "could not create the reader roles" in problem
    app.dispose()
    dba = make_engine(superuser_url)
    create_reader_roles(dba, members=(APP_ROLE,))  # what a DBA runs once: winback db create-reader --member
    dba.dispose()
    try:
        yield from _shop(url, "postgres-app")
    finally:
        _drop(postgres_server, name)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("postgres-app", marks=pytest.mark.postgres),
    ]
)
def walled_shop(request: pytest.FixtureRequest) -> WalledShop:
    fixture = {"sqlite": "sqlite_shop", "postgres": "postgres_shop", "postgres-app": "postgres_app_shop"}
    return request.getfixturevalue(fixture[request.param])
