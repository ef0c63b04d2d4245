"""churn_scores: snapshot of each customer's figures at scoring time

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=12, scale=2)
COLUMNS = (
    ("lifetime_value", MONEY),
    ("spend_365d", MONEY),
    ("orders_365d", sa.Integer()),
    ("deliveries_365d", sa.Integer()),
    ("late_deliveries_365d", sa.Integer()),
    ("last_order_at", sa.DateTime()),
)


INDEX = "ix_churn_scores_scored_at_probability"


def upgrade() -> None:
    with op.batch_alter_table("churn_scores") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    op.create_index(INDEX, "churn_scores", ["scored_at", "probability"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="churn_scores")
    with op.batch_alter_table("churn_scores") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
