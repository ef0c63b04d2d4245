"""Alembic environment: the engine comes from winback (see winback.data.migrate), never from an ini file."""

from alembic import context

from winback.data.schema import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # `alembic` CLI use: build the engine from winback's settings
    from winback.data.db import make_engine

    engine = make_engine()

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
