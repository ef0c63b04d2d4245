"""Alembic migrations of the data contract, driven from code (`winback db upgrade`)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Migrate; on PostgreSQL also (re)create the reader roles free SQL runs as, with grants for the new
    schema. Returns why the reader roles could not be made (free SQL then stays off), or None."""
    log.debug("migrating %s to %s", engine.url.render_as_string(hide_password=True), revision)
    command.upgrade(alembic_config(engine), revision)
    if engine.dialect.name != "postgresql":
        return None
    from winback.data.safesql.reader_roles import ReaderRoleError, create_reader_roles

    try:
        setup = create_reader_roles(engine)
    except ReaderRoleError as exc:
        log.warning("%s", exc)
        return str(exc)
    if not setup.set_config_revoked:
        return "the reader roles may still call set_config(); a superuser must run `winback db create-reader`"
    return None


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
