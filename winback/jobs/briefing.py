"""The daily briefing, one page per role: who crossed into high risk and why (grouped by driver), revenue
newly at risk, campaign results that came in, complaint themes that grew, and the role's open alerts.
Every figure comes from the assistant's own tools, called with the reader's role (so personal data is
masked as in the chat), and the page is checked against their outputs like any answer (grounding.py).
Shown in the UI's Briefing tab, and e-mailed (HTML with a plain-text part and the chart as an image) to
the users who subscribed, once a day each."""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from winback.assistant.grounding import GroundingReport, check_grounding
from winback.data.clock import shop_now
from winback.data.lookups.common import reference_date
from winback.data.schema import BriefingSend, BriefingSubscription, Campaign
from winback.errors import UserError
from winback.jobs.alerts import list_alerts
from winback.jobs.notify import staff_message
from winback.jobs.runs import utc_now
from winback.offers.channels import SendFailed, open_channel
from winback.roles import Role, parse_role
from winback.tools import Services, ToolContext, default_registry
from winback.tools.base import ToolResult
from winback.tools.names import ToolName

CAMPAIGN_DAYS = 7  # campaigns whose window closed this recently are news
GROWTH = 1.2  # a theme "grew" when its latest full month has at least this many times the month before ...
MIN_GROWTH_TEXTS = 5  # ... and at least this many texts
CROSSERS_SHOWN = 10
ROLE_TITLES = {
    Role.CS_STAFF: "customer success",
    Role.SUPPORT_AGENT: "support",
    Role.MANAGER: "managers",
    Role.ADMIN: "administrators",
}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class BriefingError(UserError, ValueError):
    pass


@dataclass
class Section:
    title: str
    lines: list[str]  # plain text, one point each
    table: dict[str, Any] | None = None  # {"columns", "rows"} shown under the lines


@dataclass
class Briefing:
    role: Role
    day: date
    sections: list[Section]
    chart_png: bytes | None
    evidence: list[str] = field(repr=False)
    figures: dict[str, Any] = field(default_factory=dict)  # the headline counts, for tests and the e-mail subject
    grounding: GroundingReport = field(default_factory=GroundingReport)

    @property
    def title(self) -> str:
        return f"winback daily briefing for {ROLE_TITLES[self.role]} — {self.day:%Y-%m-%d}"

    def text(self) -> str:
        parts = [self.title, ""]
        for number, section in enumerate(self.sections, 1):
            parts.append(f"{number}. {section.title}")
            parts += [f"   - {line}" for line in section.lines]
            if section.table and section.table["rows"]:
                parts.append("   " + " | ".join(section.table["columns"]))
                parts += ["   " + " | ".join(_cell(v) for v in row) for row in section.table["rows"]]
            parts.append("")
        parts.append("Open winback for the details; change your subscription in the Briefing tab.")
        return "\n".join(parts)

    def html(self, image_src: str | None = None) -> str:
        """The page as e-mail-safe HTML (inline styles, no scripts); `image_src` is the chart's address:
        "cid:chart" in the e-mail, a data: URI on screen."""
        out = [
            '<div style="font-family:Arial,Helvetica,sans-serif;max-width:760px;color:#1f2937">',
            f'<h2 style="margin:0 0 4px 0">{html.escape(self.title)}</h2>',
            "<p style=\"margin:0 0 16px 0;color:#6b7280\">Figures from winback's own tools, as of the data's latest day.</p>",
        ]
        for section in self.sections:
            out.append(
                f'<h3 style="margin:18px 0 6px 0;border-bottom:1px solid #e5e7eb">{html.escape(section.title)}</h3>'
            )
            out.append('<ul style="margin:0;padding-left:20px">')
            out += [f'<li style="margin:2px 0">{html.escape(line)}</li>' for line in section.lines]
            out.append("</ul>")
            if section.title.startswith("Crossed") and image_src and self.chart_png:
                out.append(
                    f'<img src="{html.escape(image_src)}" alt="customers by top driver" style="max-width:100%;margin:8px 0">'
                )
            if section.table and section.table["rows"]:
                out.append(_html_table(section.table))
        out.append(
            '<p style="color:#6b7280;font-size:12px;margin-top:20px">Change your subscription in winback\'s Briefing tab.</p></div>'
        )
        return "\n".join(out)

    def html_on_screen(self) -> str:
        src = f"data:image/png;base64,{base64.b64encode(self.chart_png).decode()}" if self.chart_png else None
        return self.html(src)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    return "" if value is None else str(value)


def _html_table(data: dict[str, Any]) -> str:
    head = "".join(
        f'<th style="text-align:left;padding:4px 8px;border-bottom:1px solid #d1d5db;white-space:nowrap">{html.escape(c)}</th>'
        for c in data["columns"]
    )
    rows = "".join(
        "<tr>"
        + "".join(
            f'<td style="padding:4px 8px;border-bottom:1px solid #f3f4f6;white-space:nowrap">{html.escape(_cell(v))}</td>'
            for v in row
        )
        + "</tr>"
        for row in data["rows"]
    )
    return f'<table style="border-collapse:collapse;font-size:13px;margin:8px 0"><tr>{head}</tr>{rows}</table>'


# ------------------------------------------------------------------------------------------------ compose
def compose(services: Services, role: str | Role, user: str = "briefing") -> Briefing:
    role = parse_role(role)
    registry = default_registry()
    ctx = ToolContext(services, role, actor=f"briefing:{user}")
    engine = services.engine
    with engine.connect() as connection:
        day = reference_date(connection).date()
    evidence: list[str] = []

    def call(tool: str, args: dict[str, Any]) -> ToolResult:
        result = registry.call(tool, args, ctx).result
        evidence.append(result.text)
        return result

    risk = call(ToolName.RISK_CHANGES, {"limit": CROSSERS_SHOWN})
    sections = [_risk_section(risk), _campaign_section(engine, call), _theme_section(call)]
    alerts = list_alerts(engine, role)
    evidence += [a.title for a in alerts]
    sections.append(_alert_section(alerts))
    briefing = Briefing(
        role,
        day,
        sections,
        _chart(risk.data.get("drivers")),
        evidence,
        {
            "crossed": risk.data.get("crossed", 0),
            "revenue_newly_at_risk": risk.data.get("revenue_newly_at_risk", 0.0),
            "open_alerts": len(alerts),
        },
    )
    briefing.grounding = check_grounding(briefing.text(), evidence, briefing.title)
    return briefing


def _risk_section(risk: ToolResult) -> Section:
    if not risk.ok:
        return Section("Crossed into high risk", [risk.summary])
    crossed = risk.data["crossed"]
    lines = [
        f"{crossed:,} customers crossed into high risk ({risk.data['compared']}); "
        f"revenue newly at risk: {risk.data['revenue_newly_at_risk']:,.2f}."
    ]
    for driver, customers, at_risk in risk.data["drivers"]["rows"][:6]:
        lines.append(f"{driver}: {customers:,} customer{'' if customers == 1 else 's'}, {at_risk:,.2f} at risk")
    table = risk.data["table"] if crossed else None
    if table:
        keep = ["customer", "segment", "country", "churn before", "churn now", "revenue at risk", "top driver"]
        index = [table["columns"].index(c) for c in keep]
        table = {"columns": keep, "rows": [[row[i] for i in index] for row in table["rows"]]}
    return Section("Crossed into high risk, and why", lines, table)


def _campaign_section(engine: Engine, call: Any) -> Section:
    now = shop_now(engine)
    with engine.connect() as connection:
        closed = list(
            connection.execute(
                select(Campaign.campaign_id)
                .where(Campaign.closed_at.is_not(None), Campaign.closed_at >= now - timedelta(days=CAMPAIGN_DAYS))
                .order_by(Campaign.closed_at.desc())
            ).scalars()
        )
    if not closed:
        return Section("Campaign results that came in", ["No campaign window closed this past week."])
    lines = []
    for campaign_id in closed:
        report = call(ToolName.CAMPAIGN_REPORT, {"campaign": campaign_id})
        data = report.data if report.ok else {}
        arms = data.get("arms", {})
        if not report.ok or not arms:
            lines.append(f"{campaign_id}: {report.summary}")
            continue
        t, h = arms["treatment"], arms["holdout"]
        lift = f"lift {data['lift'] * 100:+.1f} points" if data.get("lift") is not None else "no lift measured"
        ci = f" (95 % interval {data['ci'][0] * 100:+.1f} to {data['ci'][1] * 100:+.1f})" if data.get("ci") else ""
        lines.append(
            f"{campaign_id}: {t['saved']:,} of {t['members']:,} treated and {h['saved']:,} of {h['members']:,} held out "
            f"ordered again; {lift}{ci}. {data.get('note', '')}"
        )
    return Section("Campaign results that came in", lines)


def _theme_section(call: Any) -> Section:
    themes = call(ToolName.COMPLAINT_THEMES, {"kind": "review"})
    if not themes.ok:
        return Section("Complaint themes that grew", [themes.summary])
    grew = []
    for label, monthly in (themes.data.get("monthly") or {}).items():
        months = sorted(monthly.items())[-2:]
        if len(months) == 2:
            (before_month, before), (latest_month, latest) = months
            if latest >= MIN_GROWTH_TEXTS and latest >= GROWTH * max(before, 1):
                grew.append((latest / max(before, 1), label, before_month, before, latest_month, latest))
    if not grew:
        return Section("Complaint themes that grew", ["No complaint theme grew month on month."])
    lines = [
        f"{label}: {before:,} complaints in {before_month}, {latest:,} in {latest_month}"
        for _, label, before_month, before, latest_month, latest in sorted(grew, reverse=True)[:5]
    ]
    return Section("Complaint themes that grew", lines)


def _alert_section(alerts: list[Any]) -> Section:
    if not alerts:
        return Section("Your open alerts", ["No open alerts."])
    lines = [f"{len(alerts):,} open alerts; the newest:"] + [a.title for a in alerts[:5]]
    return Section("Your open alerts", lines)


def _chart(drivers: dict[str, Any] | None) -> bytes | None:
    """Customers who crossed, by top driver, as a PNG (the e-mail cannot run the UI's plotly)."""
    if not drivers or not drivers["rows"]:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    rows = drivers["rows"][:8][::-1]
    figure, axes = plt.subplots(figsize=(7.5, 0.45 * len(rows) + 1.0), dpi=110)
    try:
        axes.barh([_short(r[0]) for r in rows], [r[1] for r in rows], color="#2563eb")
        axes.set_xlabel("customers who crossed into high risk")
        axes.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)


def _short(label: str, width: int = 48) -> str:
    """A chart label as plain text: one line, and `$` escaped (matplotlib reads `$…$` as math, and a broken
    formula in a label would stop the briefing)."""
    label = " ".join(str(label).split())
    label = label if len(label) <= width else label[: width - 1] + "…"
    return label.replace("$", r"\$")


# -------------------------------------------------------------------------------------- subscriptions
def subscribe(engine: Engine, user: str, role: str | Role, email: str) -> None:
    if not EMAIL.match(email.strip()):
        raise BriefingError(f"{email!r} is not an e-mail address")
    role = parse_role(role)
    with engine.begin() as connection:
        connection.execute(delete(BriefingSubscription).where(BriefingSubscription.user_name == user))
        connection.execute(
            insert(BriefingSubscription).values(
                user_name=user, role=role.value, email=email.strip(), created_at=utc_now()
            )
        )


def unsubscribe(engine: Engine, user: str) -> bool:
    with engine.begin() as connection:
        return bool(
            connection.execute(delete(BriefingSubscription).where(BriefingSubscription.user_name == user)).rowcount
        )


def subscription(engine: Engine, user: str) -> str | None:
    with engine.connect() as connection:
        return connection.execute(
            select(BriefingSubscription.email).where(BriefingSubscription.user_name == user)
        ).scalar_one_or_none()


@dataclass
class SendReport:
    day: date | None = None
    sent: int = 0
    already: int = 0
    failed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{self.sent} briefings sent", f"{self.already} already sent today"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed ({'; '.join(self.failed[:3])})")
        return ", ".join(parts) + (f"; {'; '.join(self.notes)}" if self.notes else "")


def send_briefings(services: Services, channel_spec: str | None = None) -> SendReport:
    """Today's briefing to each subscriber, once: a (user, day) row is claimed before the message goes out and
    given back if it fails, so a re-run sends what is missing and nothing twice."""
    settings = services.settings
    engine = services.engine
    with engine.connect() as connection:
        subscribers = list(
            connection.execute(select(*BriefingSubscription.__table__.c).order_by(BriefingSubscription.user_name))
        )
        day = reference_date(connection).date()
    report = SendReport(day)
    if not subscribers:
        report.notes.append("nobody subscribes")
        return report
    spec = channel_spec or settings.notify_channel or ("smtp" if settings.smtp_url else None)
    if spec is None:
        report.notes.append("no channel: set WINBACK_NOTIFY_CHANNEL or WINBACK_SMTP_URL")
        return report
    channel = open_channel(spec, settings)
    pages: dict[str, Briefing] = {}
    try:
        for sub in subscribers:
            key = f"briefing-{day:%Y%m%d}-{_safe(sub.user_name)}"
            if not _claim(engine, sub.user_name, day, key):
                report.already += 1
                continue
            if sub.role not in pages:  # one page per role, composed when its first subscriber is due
                pages[sub.role] = compose(services, sub.role, sub.user_name)
            page = pages[sub.role]
            message, payload = staff_message(
                settings,
                key,
                sub.email,
                page.title,
                page.text(),
                page.html("cid:chart"),
                {"chart": page.chart_png} if page.chart_png else None,
            )
            payload |= {"kind": "briefing", "role": sub.role, "day": f"{day}", "figures": page.figures}
            try:
                provider = channel.send(message, payload)
            except SendFailed as exc:
                _release(engine, sub.user_name, day)
                report.failed.append(f"{sub.user_name}: {exc}")
                if exc.channel_down:
                    break
                continue
            _confirm(engine, sub.user_name, day, provider)
            report.sent += 1
    finally:
        channel.close()
    return report


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:64]


def _claim(engine: Engine, user: str, day: date, key: str) -> bool:
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(BriefingSend).values(user_name=user, day=f"{day}", sent_at=utc_now(), message_id=key)
            )
        return True
    except IntegrityError:
        return False


def _release(engine: Engine, user: str, day: date) -> None:
    with engine.begin() as connection:
        connection.execute(delete(BriefingSend).where(BriefingSend.user_name == user, BriefingSend.day == f"{day}"))


def _confirm(engine: Engine, user: str, day: date, provider: str | None) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(BriefingSend)
            .where(BriefingSend.user_name == user, BriefingSend.day == f"{day}")
            .values(sent_at=utc_now(), provider_id=(provider or "")[:300] or None)
        )
