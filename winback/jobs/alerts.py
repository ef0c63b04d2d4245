"""Alerts: rules in a file (default_alerts.toml, or WINBACK_ALERTS_FILE), evaluated after every scoring
run. A rule raises at most one alert per subject (a customer, or a group such as segment=gold) within its
cool-down, assigned to a role; people acknowledge or snooze alerts, and rules that notify also go out
through WINBACK_NOTIFY_CHANNEL."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import Connection, Engine, and_, insert, or_, select, text, update

from winback.config import Settings
from winback.data.lookups.common import latest_run, reference_date
from winback.data.lookups.risk_changes import risk_crossings
from winback.data.metrics import MetricQuery, Window, load_catalog
from winback.data.metrics.run import run_metric
from winback.data.plain_text import not_utf8
from winback.data.schema import Alert
from winback.errors import UserError
from winback.jobs.notify import staff_message
from winback.jobs.runs import utc_now
from winback.offers.channels import SendFailed, open_channel
from winback.roles import Role, parse_role

DEFAULT_RULES = "default_alerts.toml"
OPEN_OFFER_STATUSES = ("draft", "approved", "sent")
MAX_ALERTS_PER_RULE = 500  # one run never floods the screen: the rest wait for the next evaluation


class AlertsError(UserError, ValueError):
    pass


class RuleBase(BaseModel):
    model_config = {"extra": "forbid"}

    name: str = Field(pattern=r"^[a-z0-9_]{1,64}$")
    description: str = ""
    role: Role
    cooldown_days: float = Field(7.0, gt=0, le=3_650)
    notify: bool = False  # also send through WINBACK_NOTIFY_CHANNEL
    notify_to: list[str] = Field(default_factory=list)  # e-mail addresses, for smtp and outbox channels


class RiskCrossed(RuleBase):
    """Churn probability crossed `threshold` since the previous scoring run, with a 12-month value above."""

    kind: Literal["risk_crossed"]
    threshold: float = Field(gt=0, lt=1)
    min_value: float | None = Field(None, ge=0)


class ReviewWithOpenOffer(RuleBase):
    """A customer with an offer in progress wrote a review rated at most `max_rating` after it was made."""

    kind: Literal["review_with_open_offer"]
    max_rating: int = Field(1, ge=1, le=5)


class MetricJump(RuleBase):
    """A governed measure per group over the last `days` is at least `ratio` times the `days` before."""

    kind: Literal["metric_jump"]
    measure: str
    group_by: str
    days: int = Field(7, ge=1, le=365)
    ratio: float = Field(2.0, gt=1)
    min_rows: int = Field(20, ge=1)  # rows behind each of the two figures (deliveries, reviews ...)

    @field_validator("measure")
    @classmethod
    def _known_measure(cls, value: str) -> str:
        load_catalog().measure(value)
        return value


Rule = Annotated[RiskCrossed | ReviewWithOpenOffer | MetricJump, Field(discriminator="kind")]


class RuleFile(BaseModel):
    rules: list[Rule]

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, rules: list[Rule]) -> list[Rule]:
        names = [r.name for r in rules]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"rule names must be unique: {', '.join(twice)}")
        for rule in rules:
            if isinstance(rule, MetricJump):
                MetricQuery(measure=rule.measure, group_by=[rule.group_by])  # the dimension fits the measure
        return rules


def load_rules(settings: Settings) -> list[Rule]:
    """The rules of WINBACK_ALERTS_FILE, or the built-in ones; a bad file is a one-line error."""
    if settings.alerts_file is not None:
        where = str(settings.alerts_file)
        try:
            raw = Path(settings.alerts_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise AlertsError(f"cannot read the alerts file {where}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise AlertsError(f"alerts file {where}: {not_utf8(exc)}; the rules are not loaded until it is") from None
    else:
        where = f"the built-in {DEFAULT_RULES}"
        raw = resources.files("winback.jobs").joinpath(DEFAULT_RULES).read_text(encoding="utf-8")
    try:
        return RuleFile.model_validate(tomllib.loads(raw)).rules
    except tomllib.TOMLDecodeError as exc:
        raise AlertsError(f"alerts file {where}: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(p) for p in first["loc"])
        raise AlertsError(f"alerts file {where}: {place}: {first['msg']}") from None
    except Exception as exc:  # a catalog name that does not exist (LookupError, ValueError)
        raise AlertsError(f"alerts file {where}: {exc}") from None


# ------------------------------------------------------------------------------------------- evaluation
@dataclass
class Candidate:
    subject: str
    customer_id: str | None
    title: str
    details: dict[str, Any]


@dataclass
class Evaluation:
    scored_at: datetime | None
    fired: dict[str, list[str]] = field(default_factory=dict)  # rule -> new alert ids
    repeated: dict[str, int] = field(default_factory=dict)  # rule -> candidates inside their cool-down
    notified: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self.fired.values())

    def summary(self) -> str:
        parts = [f"{rule} {len(ids)}" for rule, ids in self.fired.items()]
        return f"{self.total} new alerts" + (f" ({', '.join(parts)})" if parts else "")


def evaluate(engine: Engine, settings: Settings, rules: list[Rule] | None = None) -> Evaluation:
    """Every rule over the data as it is now; new alerts are written, repeats within a cool-down are not."""
    rules = load_rules(settings) if rules is None else rules
    now = utc_now()
    with engine.connect() as connection:
        run = latest_run(connection)
    evaluation = Evaluation(run.scored_at if run else None)
    for rule in rules:
        candidates = list(_candidates(rule, engine, settings))[:MAX_ALERTS_PER_RULE]
        fired = _record(engine, rule, candidates, now, evaluation.scored_at)
        evaluation.fired[rule.name] = fired
        evaluation.repeated[rule.name] = len(candidates) - len(fired)
    if settings.notify_channel:
        evaluation.notified = notify_pending(engine, settings, rules, evaluation.notes)
    return evaluation


def _candidates(rule: Rule, engine: Engine, settings: Settings) -> Iterator[Candidate]:
    if isinstance(rule, RiskCrossed):
        with engine.connect() as connection:
            changes = risk_crossings(connection, rule.threshold, rule.min_value)
        for c in changes.crossings:
            value = c.predicted_value_12m if c.predicted_value_12m is not None else c.lifetime_value
            yield Candidate(
                c.customer_id,
                c.customer_id,
                f"{c.customer_id} crossed {rule.threshold:.0%} churn risk: {c.probability_before:.1%} → "
                f"{c.probability:.1%} ({c.segment}, {c.country}; expected 12-month value {value:,.2f})",
                {
                    "probability_before": c.probability_before,
                    "probability": c.probability,
                    "risk_band": c.risk_band,
                    "value_12m": value,
                    "revenue_at_risk": c.revenue_at_risk,
                    "top_driver": c.top_driver,
                },
            )
    elif isinstance(rule, ReviewWithOpenOffer):
        yield from _reviews_with_open_offers(engine, rule)
    else:
        yield from _metric_jumps(engine, settings, rule)


def _reviews_with_open_offers(engine: Engine, rule: ReviewWithOpenOffer) -> Iterator[Candidate]:
    statuses = ", ".join(f"'{s}'" for s in OPEN_OFFER_STATUSES)
    rows = _rows(
        engine,
        "SELECT r.customer_id, r.review_id, r.rating, r.created_at, f.offer_id, f.status, f.created_at AS offered_at "
        "FROM reviews r JOIN offers f ON f.customer_id = r.customer_id "
        f"WHERE f.status IN ({statuses}) AND r.rating <= :max_rating AND r.created_at >= f.created_at "
        "ORDER BY r.customer_id, r.created_at DESC, r.review_id",
        max_rating=rule.max_rating,
    )
    seen: set[str] = set()
    for row in rows:  # the latest such review per customer
        if row.customer_id in seen:
            continue
        seen.add(row.customer_id)
        yield Candidate(
            row.customer_id,
            row.customer_id,
            f"{row.customer_id} wrote a {row.rating}-star review (review {row.review_id}) while offer "
            f"{row.offer_id} is {row.status}",
            {"review_id": row.review_id, "rating": row.rating, "offer_id": row.offer_id, "offer_status": row.status},
        )


def _metric_jumps(engine: Engine, settings: Settings, rule: MetricJump) -> Iterator[Candidate]:
    with engine.connect() as connection:
        today = reference_date(connection).date()
    recent = Window(kind="between", start=today - timedelta(days=rule.days - 1), end=today)
    before = Window(
        kind="between", start=today - timedelta(days=2 * rule.days - 1), end=today - timedelta(days=rule.days)
    )
    figures = []
    for window in (recent, before):
        query = MetricQuery(measure=rule.measure, group_by=[rule.group_by], window=window)
        result = run_metric(settings, engine, query, Role.ADMIN)
        figures.append({row.groups[0]: row for row in result.rows})
    now, earlier = figures
    label = load_catalog().measure(rule.measure).label
    for group, row in sorted(now.items(), key=lambda item: str(item[0])):
        old = earlier.get(group)
        if row.value is None or old is None or old.value is None or min(row.base, old.base) < rule.min_rows:
            continue
        if row.value > 0 and row.value >= rule.ratio * old.value:  # from nothing to something counts too
            times = f"{row.value / old.value:.1f}× the" if old.value else "up from"
            yield Candidate(
                f"{rule.group_by}={group}",
                None,
                f"{label} of {rule.group_by.replace('_', ' ')} {group}: {_figure(row.value)} in the {rule.days} days "
                f"to {today}, {times} {_figure(old.value)} of the {rule.days} days before",
                {
                    "group": group,
                    "value": row.value,
                    "value_before": old.value,
                    "rows": row.base,
                    "rows_before": old.base,
                    "window": f"{recent.start} → {recent.end}",
                    "window_before": f"{before.start} → {before.end}",
                },
            )


def _figure(value: float) -> str:
    return f"{value:.1%}" if 0 <= value <= 1 else f"{value:,.2f}"


def _rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(text(sql), params))


def _record(
    engine: Engine, rule: Rule, candidates: list[Candidate], now: datetime, scored_at: datetime | None
) -> list[str]:
    """Write the candidates that have no alert of this rule within its cool-down; their ids, in order."""
    if not candidates:
        return []
    since = now - timedelta(days=rule.cooldown_days)
    fired = []
    with engine.begin() as connection:
        recent = _recent_subjects(connection, rule.name, since)
        for candidate in candidates:
            if candidate.subject in recent:
                continue
            alert_id = _alert_id(rule.name, candidate.subject, now)
            connection.execute(
                insert(Alert).values(
                    alert_id=alert_id,
                    rule=rule.name,
                    subject=candidate.subject,
                    customer_id=candidate.customer_id,
                    role=rule.role.value,
                    title=candidate.title,
                    details=candidate.details,
                    fired_at=now,
                    scored_at=scored_at,
                    status="open",
                )
            )
            recent.add(candidate.subject)
            fired.append(alert_id)
    return fired


def _recent_subjects(connection: Connection, rule: str, since: datetime) -> set[str]:
    query = select(Alert.subject).where(Alert.rule == rule, Alert.fired_at >= since)
    return set(connection.execute(query).scalars())


def _alert_id(rule: str, subject: str, when: datetime) -> str:
    digest = hashlib.sha256(f"{rule}|{subject}|{when.isoformat()}".encode()).hexdigest()[:12]
    return f"AL-{when:%Y%m%d}-{digest}"


# -------------------------------------------------------------------------------------------- the screen
@dataclass(frozen=True)
class AlertView:
    alert_id: str
    rule: str
    subject: str
    customer_id: str | None
    role: str
    title: str
    details: dict[str, Any]
    fired_at: datetime
    status: str  # open, acknowledged, snoozed (a snooze that has run out reads as open)
    snoozed_until: datetime | None
    acted_by: str | None
    notified_at: datetime | None


def list_alerts(engine: Engine, role: str | Role, include_done: bool = False, limit: int = 200) -> list[AlertView]:
    """Alerts for a role (an admin sees every role's), newest first; acknowledged ones and snoozes still
    running only with `include_done`."""
    role = parse_role(role)
    now = utc_now()
    query = select(*Alert.__table__.c).order_by(Alert.fired_at.desc(), Alert.alert_id).limit(limit)
    if role is not Role.ADMIN:
        query = query.where(Alert.role == role.value)
    if not include_done:
        query = query.where(or_(Alert.status == "open", and_(Alert.status == "snoozed", Alert.snoozed_until <= now)))
    with engine.connect() as connection:
        rows = list(connection.execute(query))
    return [
        AlertView(
            r.alert_id,
            r.rule,
            r.subject,
            r.customer_id,
            r.role,
            r.title,
            r.details or {},
            r.fired_at,
            "open" if r.status == "snoozed" and r.snoozed_until and r.snoozed_until <= now else r.status,
            r.snoozed_until,
            r.acted_by,
            r.notified_at,
        )
        for r in rows
    ]


def act_on(
    engine: Engine,
    alert_id: str,
    user: str,
    role: str | Role,
    action: Literal["acknowledge", "snooze", "reopen"],
    hours: float = 24.0,
) -> str:
    """Acknowledge, snooze (for `hours`) or reopen an alert of one's own role (an admin: any). The new status."""
    role = parse_role(role)
    with engine.begin() as connection:
        found = connection.execute(select(Alert.role).where(Alert.alert_id == alert_id)).scalar_one_or_none()
        if found is None:
            raise AlertsError(f"no alert with id {alert_id!r}")
        if role is not Role.ADMIN and found != role.value:
            raise AlertsError(f"alert {alert_id} is for the {found} role; the {role.value} role may not act on it")
        if not 0 < hours <= 24 * 90:
            raise AlertsError("snooze for between a minute and 90 days")
        now = utc_now()
        status = {"acknowledge": "acknowledged", "snooze": "snoozed", "reopen": "open"}[action]
        connection.execute(
            update(Alert)
            .where(Alert.alert_id == alert_id)
            .values(
                status=status,
                snoozed_until=now + timedelta(hours=hours) if action == "snooze" else None,
                acted_by=user,
                acted_at=now,
            )
        )
    return status


# ------------------------------------------------------------------------------------------ notifications
def notify_pending(engine: Engine, settings: Settings, rules: list[Rule], notes: list[str]) -> int:
    """Send the open alerts of notifying rules that have not gone out yet; each alert once. A channel that
    is down stops the run (the rest go out next time); returns how many went out."""
    assert settings.notify_channel is not None
    wanted = {r.name: r for r in rules if r.notify}
    if not wanted:
        return 0
    query = select(*Alert.__table__.c).where(
        Alert.rule.in_(list(wanted)), Alert.notified_at.is_(None), Alert.status == "open"
    )
    with engine.connect() as connection:
        pending = list(connection.execute(query.order_by(Alert.fired_at, Alert.alert_id)))
    if not pending:
        return 0
    channel = open_channel(settings.notify_channel, settings)
    sent = 0
    try:
        for alert in pending:
            rule = wanted[alert.rule]
            text_body = _alert_text(alert)
            recipients = [""] if channel.name == "webhook" else rule.notify_to  # a webhook has no addressee
            if not recipients:
                notes.append(f"rule {rule.name} notifies, but lists no notify_to address")
                continue
            provider = None
            for n, to in enumerate(recipients):
                key = f"{alert.alert_id}.{n}" if len(recipients) > 1 else alert.alert_id
                message, payload = staff_message(settings, key, to, f"[winback alert] {alert.title}", text_body)
                payload |= {
                    "kind": "alert",
                    "alert_id": alert.alert_id,
                    "rule": alert.rule,
                    "role": alert.role,
                    "subject_id": alert.subject,
                    "details": alert.details,
                }
                try:
                    provider = channel.send(message, payload) or provider
                except SendFailed as exc:
                    notes.append(f"alert {alert.alert_id} not sent: {exc}")
                    if exc.channel_down:
                        return sent
                    continue
            with engine.begin() as connection:
                connection.execute(
                    update(Alert)
                    .where(Alert.alert_id == alert.alert_id)
                    .values(notified_at=utc_now(), notified_id=(provider or "")[:300] or None)
                )
            sent += 1
    finally:
        channel.close()
    return sent


def _alert_text(alert: Any) -> str:
    details = "\n".join(f"  {k.replace('_', ' ')}: {v}" for k, v in (alert.details or {}).items() if v is not None)
    return (
        f"{alert.title}\n\nRule: {alert.rule} (for the {alert.role} role)\nRaised: {alert.fired_at:%Y-%m-%d %H:%M} UTC\n"
        f"{details}\n\nAcknowledge or snooze it in winback's Alerts tab, or: winback alerts ack {alert.alert_id}\n"
    )
