"""The data contract: the tables every part of winback reads, as a typed SQLAlchemy 2 ORM.

The column names here are public: users map their own data onto them (docs/data-contract.md), and
the churn model, SQL tool and search read them. Change them only with an Alembic migration.
Timestamps are naive UTC; money is NUMERIC(12, 2) in the shop's single currency.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from winback.data.risk_bands import RISK_BANDS

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ORDER_STATUSES = ("placed", "shipped", "delivered", "returned", "cancelled")
TICKET_STATUSES = ("open", "pending", "resolved")
OFFER_STATUSES = ("draft", "approved", "sent", "rejected", "redeemed")
CAMPAIGN_ARMS = ("treatment", "holdout")
SEND_CHANNELS = ("smtp", "outbox", "webhook")
# sending: claimed, the channel not yet confirmed (a crash here leaves it unconfirmed, never re-sent blindly)
SEND_STATUSES = ("sending", "sent", "failed")

Money = Numeric(12, 2, asdecimal=True)
# column info marking personal data: only roles with personal-data access read these columns, and the
# database enforces it for free SQL (SQLite authorizer, PostgreSQL column grants: winback.data.safesql)
PERSONAL = {"personal": True}


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Customer(Base):
    """One customer account of the shop."""

    __tablename__ = "customers"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), info=PERSONAL)
    email: Mapped[str] = mapped_column(String(320), info=PERSONAL)
    country: Mapped[str] = mapped_column(String(64), index=True)
    city: Mapped[str] = mapped_column(String(128))
    signup_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    segment: Mapped[str] = mapped_column(String(32), index=True)
    acquisition_channel: Mapped[str] = mapped_column(String(32))
    marketing_opt_in: Mapped[bool] = mapped_column(Boolean)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    # the language messages to this customer are written in (ISO 639-1, migration 0007); None = from country
    language: Mapped[str | None] = mapped_column(String(8))


class Order(Base):
    """One order; `total_amount` is what the customer paid, after `discount_amount`."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(_one_of("status", ORDER_STATUSES), name="status"),
        CheckConstraint("total_amount >= 0", name="total_amount"),
        CheckConstraint("discount_amount >= 0", name="discount_amount"),
        Index(None, "customer_id", "ordered_at"),
    )

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    ordered_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    status: Mapped[str] = mapped_column(String(16))
    total_amount: Mapped[Decimal] = mapped_column(Money)
    discount_amount: Mapped[Decimal] = mapped_column(Money)
    promised_delivery_at: Mapped[datetime | None] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    returned_at: Mapped[datetime | None] = mapped_column(DateTime)
    channel: Mapped[str] = mapped_column(String(32))
    # the offer code the customer quoted at checkout, if any (migration 0009): how a redemption is recorded
    redeem_code: Mapped[str | None] = mapped_column(String(32), index=True)


class OrderItem(Base):
    """One line of an order."""

    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
        # a review names its order and product: finding that line must not scan every line of a product
        Index("ix_order_items_order_product", "order_id", "product_id"),
    )

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), primary_key=True, index=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[str] = mapped_column(String(64), index=True)
    category: Mapped[str] = mapped_column(String(64), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)


class Review(Base):
    """A product or shop review written by a customer (untrusted text)."""

    __tablename__ = "reviews"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),)

    review_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.order_id"), index=True)
    product_id: Mapped[str | None] = mapped_column(String(64))
    rating: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class SupportTicket(Base):
    """A support conversation opened by a customer (untrusted text)."""

    __tablename__ = "support_tickets"
    __table_args__ = (
        CheckConstraint(_one_of("status", TICKET_STATUSES), name="status"),
        CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="satisfaction"),
    )

    ticket_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.order_id"), index=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    channel: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)


class Offer(Base):
    """A retention offer: drafted by the assistant or a person, decided by a person."""

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint(_one_of("status", OFFER_STATUSES), name="status"),
        CheckConstraint("value >= 0", name="value"),
        CheckConstraint(
            "churn_probability_at_creation IS NULL OR churn_probability_at_creation BETWEEN 0 AND 1",
            name="churn_probability_at_creation",
        ),
    )

    offer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    created_by: Mapped[str] = mapped_column(String(128))
    offer_type: Mapped[str] = mapped_column(String(32))
    value: Mapped[Decimal] = mapped_column(Money)
    channel: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(300), info=PERSONAL)  # written to the customer, by name
    message: Mapped[str] = mapped_column(Text, info=PERSONAL)
    status: Mapped[str] = mapped_column(String(16), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    churn_probability_at_creation: Mapped[float | None] = mapped_column(Numeric(6, 5, asdecimal=False))
    # filled by the offer policy (migration 0003): what the offer is expected to cost, how it is redeemed,
    # until when, and what wrote the text ("llm", "llm_repaired", "template", "person")
    expected_cost: Mapped[Decimal | None] = mapped_column(Money)
    redeem_code: Mapped[str | None] = mapped_column(String(32))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime)
    draft_source: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))  # of subject and message (migration 0007)


class OfferEvent(Base):
    """Append-only audit trail of everything done to an offer: never updated, never deleted."""

    __tablename__ = "offer_events"

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.offer_id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    # an edit keeps the text it replaced (previous_subject): personal, like the offer's own text
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, info=PERSONAL)


class Campaign(Base):
    """A win-back campaign (migration 0009): a cohort chosen by the at-risk filters, split at random into a
    treatment arm that gets offers and a holdout arm that does not, so the effect can be measured."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("holdout_share >= 0 AND holdout_share < 1", name="holdout_share"),
        CheckConstraint("window_days > 0", name="window_days"),
    )

    campaign_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the name people give it
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(128))
    # how the cohort was chosen: {"top": 600, "rank": "probability", "segment": ..., "bands": [...], ...}
    cohort: Mapped[dict[str, Any]] = mapped_column(JSON)
    holdout_share: Mapped[float] = mapped_column(Numeric(4, 3, asdecimal=False))
    seed: Mapped[int] = mapped_column(Integer)  # of the holdout split: with it the split can be recomputed
    window_days: Mapped[int] = mapped_column(Integer)  # outcomes count from started_at for this many days
    started_at: Mapped[datetime | None] = mapped_column(DateTime)  # the first send: the window opens
    # migration 0012: set by the campaigns job once the window has closed, with the report as it stood then
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class CampaignMember(Base):
    """One customer of a campaign, in one arm; holdout members get no offer but their outcomes are recorded."""

    __tablename__ = "campaign_members"
    __table_args__ = (
        CheckConstraint(_one_of("arm", CAMPAIGN_ARMS), name="arm"),
        CheckConstraint(_one_of("risk_band", RISK_BANDS), name="risk_band"),
    )

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.campaign_id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), primary_key=True, index=True)
    arm: Mapped[str] = mapped_column(String(16), index=True)
    risk_band: Mapped[str] = mapped_column(String(16))  # the stratum of the split
    churn_probability: Mapped[float] = mapped_column(Numeric(6, 5, asdecimal=False))
    # the uniform draw from (seed, campaign, customer) that placed the member: the lowest draws of each risk
    # band form its holdout, so anyone can re-derive the split
    draw: Mapped[float] = mapped_column(Numeric(12, 10, asdecimal=False))
    # what the policy would offer this member at creation, in either arm: lift per offer type compares like
    # with like (treated members of a type against holdout members the policy would have given that type)
    planned_offer_type: Mapped[str | None] = mapped_column(String(32))
    offer_id: Mapped[str | None] = mapped_column(ForeignKey("offers.offer_id"), index=True)  # treatment only


class OfferSend(Base):
    """The one send of an offer through a channel: claimed before the channel is called, so a message goes
    out at most once; a failure is kept with its attempt count and retried later."""

    __tablename__ = "offer_sends"
    __table_args__ = (
        CheckConstraint(_one_of("channel", SEND_CHANNELS), name="channel"),
        CheckConstraint(_one_of("status", SEND_STATUSES), name="status"),
    )

    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.offer_id"), primary_key=True)
    campaign_id: Mapped[str | None] = mapped_column(ForeignKey("campaigns.campaign_id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[str] = mapped_column(String(300))  # our Message-ID (RFC 5322), fixed before sending
    provider_id: Mapped[str | None] = mapped_column(String(300))  # what the channel answered, when it says
    claimed_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)  # wall clock, even in a demo shop
    last_error: Mapped[str | None] = mapped_column(Text, info=PERSONAL)  # a server's reply may quote the address


class ChurnScore(Base):
    """One customer's churn probability from one model version at one time."""

    __tablename__ = "churn_scores"
    __table_args__ = (
        CheckConstraint("probability BETWEEN 0 AND 1", name="probability"),
        CheckConstraint(_one_of("risk_band", RISK_BANDS), name="risk_band"),
        Index(None, "customer_id", "scored_at"),
        Index(None, "scored_at", "probability"),  # a run's ranking: the at-risk list reads it from the top
        Index(None, "scored_at", "lapsed", "probability"),  # the same ranking among active (or lapsed) customers
    )

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), primary_key=True, index=True)
    model_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    scored_at: Mapped[datetime] = mapped_column(DateTime, primary_key=True, index=True)
    probability: Mapped[float] = mapped_column(Numeric(6, 5, asdecimal=False))
    risk_band: Mapped[str] = mapped_column(String(16), index=True)
    drivers: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # the customer's figures on the scoring reference date, so lists and segment reports read one table
    lifetime_value: Mapped[Decimal | None] = mapped_column(Money)
    spend_365d: Mapped[Decimal | None] = mapped_column(Money)
    orders_365d: Mapped[int | None] = mapped_column(Integer)
    deliveries_365d: Mapped[int | None] = mapped_column(Integer)
    late_deliveries_365d: Mapped[int | None] = mapped_column(Integer)
    last_order_at: Mapped[datetime | None] = mapped_column(DateTime)
    # no order and no sign-up in the year before the reference date: outside the model's population (0004)
    lapsed: Mapped[bool | None] = mapped_column(Boolean)
    # the model's heads (0011): when the customer orders next and what they will spend in the next 12 months
    order_probability_90d: Mapped[float | None] = mapped_column(Numeric(6, 5, asdecimal=False))
    expected_next_order_at: Mapped[datetime | None] = mapped_column(DateTime)
    predicted_value_12m: Mapped[Decimal | None] = mapped_column(Money)


TEXT_TOPICS: tuple[str, ...] = ("price_elsewhere", "delivery", "quality", "sizing", "service")
"""What a review or ticket can be about, as scored from its search embedding (winback/search/text_signals.py)."""


class TextSignal(Base):
    """What one review or ticket says, read by `winback index` from the embedding it stores for search
    (migration 0010): closeness to each topic in TEXT_TOPICS and a sentiment, each about -1 to 1. Derived
    data that the churn features aggregate; not readable by model-written SQL."""

    __tablename__ = "text_signals"
    __table_args__ = (Index(None, "customer_id", "written_at"),)

    source_kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # "review" or "ticket"
    source_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    written_at: Mapped[datetime] = mapped_column(DateTime)
    content_hash: Mapped[str] = mapped_column(String(32))  # the indexed text's hash: stale rows are re-read
    price_elsewhere: Mapped[float] = mapped_column(Numeric(5, 4, asdecimal=False))
    delivery: Mapped[float] = mapped_column(Numeric(5, 4, asdecimal=False))
    quality: Mapped[float] = mapped_column(Numeric(5, 4, asdecimal=False))
    sizing: Mapped[float] = mapped_column(Numeric(5, 4, asdecimal=False))
    service: Mapped[float] = mapped_column(Numeric(5, 4, asdecimal=False))
    sentiment: Mapped[float] = mapped_column(Numeric(5, 4, asdecimal=False))


class ChatSession(Base):
    """One conversation with the assistant: who held it, with which role (assistant tables, migration 0005;
    not readable by model-written SQL)."""

    __tablename__ = "chat_sessions"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(128), index=True)
    role: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class ChatMessage(Base):
    """One turn's question or answer, with the tool calls behind it: the conversation's memory and audit trail."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        CheckConstraint(_one_of("sender", ("user", "assistant")), name="sender"),
        Index(None, "session_id", "position", unique=True),
    )

    message_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("chat_sessions.session_id"))
    position: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    planner: Mapped[str | None] = mapped_column(String(32))
    # [{name, args, ok, summary, seconds, text}]: what each tool returned, so later turns can be checked against it
    tool_calls: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # what later turns resolve references against: {"customer_ids": [...], "focus": "C-1042"}
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    grounding: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # numbers/ids no tool returned, if any
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    # a person's verdict on an answer (thumbs up/down in the UI, migration 0006): "up" or "down", and who
    feedback: Mapped[str | None] = mapped_column(String(16))
    feedback_by: Mapped[str | None] = mapped_column(String(128))


JOB_RUN_STATUSES = ("running", "ok", "failed")
ALERT_STATUSES = ("open", "acknowledged", "snoozed")


class JobRun(Base):
    """One run of a scheduled job (migration 0012). (job, slot) is unique: the scheduled time a run stands
    for can be claimed once, so two processes that both fire a job at the same slot run it once."""

    __tablename__ = "job_runs"
    __table_args__ = (
        CheckConstraint(_one_of("status", JOB_RUN_STATUSES), name="status"),
        Index(None, "job", "slot", unique=True),
    )

    run_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(64))
    slot: Mapped[datetime] = mapped_column(DateTime)  # the scheduled time (a manual run: when it was asked)
    trigger: Mapped[str] = mapped_column(String(16))  # "schedule" or "manual"
    started_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16))
    rows: Mapped[int | None] = mapped_column(Integer)  # what the job counted (customers scored, alerts fired ...)
    detail: Mapped[str | None] = mapped_column(Text)  # a one-line summary, or the error
    host: Mapped[str] = mapped_column(String(128))  # host:pid of the process that ran it


class Alert(Base):
    """One alert a rule raised (migration 0012), assigned to a role; de-duplicated per rule and subject
    within the rule's cool-down. Not readable by model-written SQL."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(_one_of("status", ALERT_STATUSES), name="status"),
        Index(None, "rule", "subject", "fired_at"),
    )

    alert_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128))  # a customer id, or a group ("segment=gold")
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    role: Mapped[str] = mapped_column(String(32), index=True)  # who it is for
    title: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)  # the figures behind it
    fired_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    scored_at: Mapped[datetime | None] = mapped_column(DateTime)  # the scoring run it was evaluated after
    status: Mapped[str] = mapped_column(String(16))
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime)
    acted_by: Mapped[str | None] = mapped_column(String(128))
    acted_at: Mapped[datetime | None] = mapped_column(DateTime)
    notified_at: Mapped[datetime | None] = mapped_column(DateTime)  # sent by e-mail or webhook
    notified_id: Mapped[str | None] = mapped_column(String(300))  # what the channel called the message


class BriefingSubscription(Base):
    """A user who gets the daily briefing of their role by e-mail (migration 0012)."""

    __tablename__ = "briefing_subscriptions"

    user_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class BriefingSend(Base):
    """One briefing e-mail (migration 0012): (user, day) is unique, so a day's briefing goes out once."""

    __tablename__ = "briefing_sends"

    user_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD of the data's "now"
    sent_at: Mapped[datetime] = mapped_column(DateTime)
    message_id: Mapped[str] = mapped_column(String(300))
    provider_id: Mapped[str | None] = mapped_column(String(300))


CONTRACT_TABLES: tuple[str, ...] = (
    "customers",
    "orders",
    "order_items",
    "reviews",
    "support_tickets",
    "offers",
    "offer_events",
    "campaigns",
    "campaign_members",
    "offer_sends",
    "churn_scores",
)
"""Contract tables in foreign-key order: load in this order, delete in reverse."""

PERSONAL_COLUMNS: dict[str, frozenset[str]] = {
    table: frozenset(c.name for c in Base.metadata.tables[table].columns if c.info.get("personal"))
    for table in CONTRACT_TABLES
}
"""Per contract table, the columns holding personal data (marked `info=PERSONAL` above)."""


class DemoBase(DeclarativeBase):
    """Tables that exist only in demo databases, kept out of the contract's metadata and migrations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class DemoTruth(DemoBase):
    """What the demo generator knows and a real shop never does: each customer's true churn hazard and causes.

    Hazards are weekly probabilities of leaving. `causes` maps each planted driver to its share of the
    hazard above the base rate at the end of the customer's life (churn, or the as-of date).
    """

    __tablename__ = "demo_truth"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    price_sensitivity: Mapped[float] = mapped_column(Numeric(6, 4, asdecimal=False))
    patience: Mapped[float] = mapped_column(Numeric(6, 4, asdecimal=False))
    base_satisfaction: Mapped[float] = mapped_column(Numeric(6, 4, asdecimal=False))
    orders_per_month: Mapped[float] = mapped_column(Numeric(8, 4, asdecimal=False))
    base_hazard: Mapped[float] = mapped_column(Numeric(8, 6, asdecimal=False))
    final_hazard: Mapped[float] = mapped_column(Numeric(8, 6, asdecimal=False))
    churned: Mapped[bool] = mapped_column(Boolean, index=True)
    churned_at: Mapped[datetime | None] = mapped_column(DateTime)
    primary_cause: Mapped[str | None] = mapped_column(String(32), index=True)
    causes: Mapped[dict[str, float]] = mapped_column(JSON)
    # how the customer answers an offer after the as-of date (docs/demo-shop.md): persuadable, sure_thing,
    # lost_cause or do_not_disturb; `offer_response` = chance a persuadable customer acts on a typical offer
    response_type: Mapped[str] = mapped_column(String(16), index=True)
    offer_response: Mapped[float] = mapped_column(Numeric(6, 4, asdecimal=False))
    reorder_rate: Mapped[float] = mapped_column(Numeric(8, 6, asdecimal=False))  # orders per day without an offer


class DemoState(DemoBase):
    """The demo shop's clock and how it was made: `winback demo advance` moves `as_of` forward."""

    __tablename__ = "demo_state"

    state_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    seed: Mapped[int] = mapped_column(Integer)
    customers: Mapped[int] = mapped_column(Integer)
    seeded_as_of: Mapped[datetime] = mapped_column(DateTime)
    as_of: Mapped[datetime] = mapped_column(DateTime)
