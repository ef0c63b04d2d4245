"""offers: expected cost, redeem code, validity and what wrote the draft

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = (
    ("expected_cost", sa.Numeric(precision=12, scale=2)),
    ("redeem_code", sa.String(length=32)),
    ("valid_until", sa.DateTime()),
    ("draft_source", sa.String(length=16)),
)


def upgrade() -> None:
    with op.batch_alter_table("offers") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("offers") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
