"""Campaigns with holdout groups, one send record per offer, and the offer code an order quoted.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BANDS = "risk_band IN ('low', 'medium', 'high', 'critical')"


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("redeem_code", sa.String(32), nullable=True))
        batch.create_index("ix_orders_redeem_code", ["redeem_code"])
    op.create_table(
        "campaigns",
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("cohort", sa.JSON(), nullable=False),
        sa.Column("holdout_share", sa.Numeric(4, 3, asdecimal=False), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("holdout_share >= 0 AND holdout_share < 1", name="ck_campaigns_holdout_share"),
        sa.CheckConstraint("window_days > 0", name="ck_campaigns_window_days"),
        sa.PrimaryKeyConstraint("campaign_id", name="pk_campaigns"),
    )
    op.create_table(
        "campaign_members",
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("arm", sa.String(16), nullable=False),
        sa.Column("risk_band", sa.String(16), nullable=False),
        sa.Column("churn_probability", sa.Numeric(6, 5, asdecimal=False), nullable=False),
        sa.Column("draw", sa.Numeric(12, 10, asdecimal=False), nullable=False),
        sa.Column("planned_offer_type", sa.String(32), nullable=True),
        sa.Column("offer_id", sa.String(64), nullable=True),
        sa.CheckConstraint("arm IN ('treatment', 'holdout')", name="ck_campaign_members_arm"),
        sa.CheckConstraint(BANDS, name="ck_campaign_members_risk_band"),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.campaign_id"], name="fk_campaign_members_campaign_id_campaigns"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"], name="fk_campaign_members_customer_id_customers"
        ),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.offer_id"], name="fk_campaign_members_offer_id_offers"),
        sa.PrimaryKeyConstraint("campaign_id", "customer_id", name="pk_campaign_members"),
    )
    op.create_index("ix_campaign_members_arm", "campaign_members", ["arm"])
    op.create_index("ix_campaign_members_customer_id", "campaign_members", ["customer_id"])
    op.create_index("ix_campaign_members_offer_id", "campaign_members", ["offer_id"])
    op.create_table(
        "offer_sends",
        sa.Column("offer_id", sa.String(64), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(300), nullable=False),
        sa.Column("provider_id", sa.String(300), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint("channel IN ('smtp', 'outbox', 'webhook')", name="ck_offer_sends_channel"),
        sa.CheckConstraint("status IN ('sending', 'sent', 'failed')", name="ck_offer_sends_status"),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.offer_id"], name="fk_offer_sends_offer_id_offers"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.campaign_id"], name="fk_offer_sends_campaign_id_campaigns"),
        sa.PrimaryKeyConstraint("offer_id", name="pk_offer_sends"),
    )
    op.create_index("ix_offer_sends_campaign_id", "offer_sends", ["campaign_id"])
    op.create_index("ix_offer_sends_status", "offer_sends", ["status"])


def downgrade() -> None:
    op.drop_table("offer_sends")
    op.drop_table("campaign_members")
    op.drop_table("campaigns")
    with op.batch_alter_table("orders") as batch:
        batch.drop_index("ix_orders_redeem_code")
        batch.drop_column("redeem_code")
