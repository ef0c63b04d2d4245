"""churn_scores.lapsed: outside the model's population at scoring time, indexed with the ranking

Revision ID: 0004
Revises: 0003
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEX = "ix_churn_scores_scored_at_lapsed_probability"


def upgrade() -> None:
    with op.batch_alter_table("churn_scores") as batch:
        batch.add_column(sa.Column("lapsed", sa.Boolean(), nullable=True))
    # existing scores: lapsed relative to the data's latest order, the reference date scoring uses
    connection = op.get_bind()
    end = connection.execute(sa.text("SELECT MAX(ordered_at) FROM orders")).scalar()
    if end is not None:
        if isinstance(end, str):
            end = datetime.fromisoformat(end)
        connection.execute(
            sa.text("UPDATE churn_scores SET lapsed = (COALESCE(last_order_at, (SELECT signup_at FROM customers c "
                    "WHERE c.customer_id = churn_scores.customer_id)) <= :cutoff)"),
            {"cutoff": end - timedelta(days=365)},
        )
    op.create_index(INDEX, "churn_scores", ["scored_at", "lapsed", "probability"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="churn_scores")
    with op.batch_alter_table("churn_scores") as batch:
        batch.drop_column("lapsed")
