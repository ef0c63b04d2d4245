"""customers.language: the language a customer is written to (ISO 639-1, e.g. "de"); empty = from the country.
offers.language: the language the offer's message was written in (validation of later edits uses it).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=True))
    with op.batch_alter_table("offers") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("offers") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("language")
