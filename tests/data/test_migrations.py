from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from winback.data.db import make_engine
from winback.data.migrate import current_revision, downgrade, head_revision, upgrade
from winback.data.schema import CONTRACT_TABLES, Base


def test_upgrade_creates_every_contract_table_at_head(engine: Engine) -> None:
    assert set(CONTRACT_TABLES) <= set(inspect(engine).get_table_names())
    assert current_revision(engine) == head_revision()


def test_migrations_match_the_orm_exactly(engine: Engine) -> None:
    """A schema change without a migration (or the reverse) fails here."""
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_every_foreign_key_and_filtered_timestamp_is_indexed(engine: Engine) -> None:
    inspector = inspect(engine)
    for table in CONTRACT_TABLES:
        leading = {tuple(ix["column_names"])[0] for ix in inspector.get_indexes(table)}
        leading |= {inspector.get_pk_constraint(table)["constrained_columns"][0]}
        for fk in inspector.get_foreign_keys(table):
            assert fk["constrained_columns"][0] in leading, (table, fk["constrained_columns"])
    for table, column in [
        ("orders", "ordered_at"),
        ("reviews", "created_at"),
        ("support_tickets", "opened_at"),
        ("customers", "signup_at"),
        ("churn_scores", "scored_at"),
        ("offers", "created_at"),
    ]:
        assert any(ix["column_names"][0] == column for ix in inspector.get_indexes(table)), (table, column)


def test_downgrade_to_base_and_back(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    downgrade(engine, "base")
    assert not set(CONTRACT_TABLES) & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()
