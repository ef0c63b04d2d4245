"""churn_scores: the next-order and 12-month-value predictions beside each churn probability

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COLUMNS = ("order_probability_90d", "expected_next_order_at", "predicted_value_12m")


def upgrade() -> None:
    with op.batch_alter_table("churn_scores") as batch:
        batch.add_column(sa.Column("order_probability_90d", sa.Numeric(6, 5, asdecimal=False), nullable=True))
        batch.add_column(sa.Column("expected_next_order_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("predicted_value_12m", sa.Numeric(12, 2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("churn_scores") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
