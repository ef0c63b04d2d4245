"""What each review and ticket says, scored from its search embedding: topics and sentiment per text.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SCORE = sa.Numeric(5, 4, asdecimal=False)


def upgrade() -> None:
    op.create_table(
        "text_signals",
        sa.Column("source_kind", sa.String(16), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("written_at", sa.DateTime(), nullable=False),
        sa.Column("content_hash", sa.String(32), nullable=False),
        *(
            sa.Column(name, SCORE, nullable=False)
            for name in ("price_elsewhere", "delivery", "quality", "sizing", "service", "sentiment")
        ),
        sa.PrimaryKeyConstraint("source_kind", "source_id", name="pk_text_signals"),
    )
    op.create_index("ix_text_signals_customer_id_written_at", "text_signals", ["customer_id", "written_at"])


def downgrade() -> None:
    op.drop_index("ix_text_signals_customer_id_written_at", "text_signals")
    op.drop_table("text_signals")
