"""What the screens show, computed without a screen (so it is testable): every figure comes from a tool
through the registry (role check, e-mail masking) or a named lookup; charts are plotly figures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from sqlalchemy import func, select

from winback.data.lookups import customer_timeline
from winback.data.risk_bands import RISK_BANDS
from winback.data.schema import ChurnScore
from winback.data.untrusted import inert, inert_cell
from winback.roles import Role, may_see_pii
from winback.tools import Services, ToolContext, ToolRegistry
from winback.tools.markdown import cell, pct
from winback.tools.names import ToolName

BAND_COLOURS = dict(zip(RISK_BANDS, ("#5b9e6f", "#e0b84f", "#e07b39", "#c23b3b"), strict=True))  # low to critical


@dataclass
class Screen:
    """One panel's content, or the reason it is empty (shown instead of a stack trace)."""

    ok: bool
    message: str = ""
    frame: pd.DataFrame | None = None
    figure: go.Figure | None = None
    extra: dict[str, Any] | None = None


def _bar(spec: dict[str, Any], horizontal: bool = False) -> go.Figure:
    if horizontal:
        figure = go.Figure(
            go.Bar(
                x=spec["x"],
                y=spec["y"],
                orientation="h",
                marker_color=["#c23b3b" if v > 0 else "#5b9e6f" for v in spec["x"]],
            )
        )
        figure.update_yaxes(autorange="reversed")
        figure.update_xaxes(title=spec.get("x_title", ""))
    else:
        figure = go.Figure(go.Bar(x=spec["x"], y=spec["y"], marker_color="#3b6fc2"))
        figure.update_yaxes(title=spec.get("y_title", ""))
    figure.update_layout(title=spec.get("title", ""), height=360, margin={"l": 10, "r": 10, "t": 50, "b": 10})
    return figure


def metric_chart(spec: dict[str, Any]) -> go.Figure:
    """A metric answer's chart spec (the metric_query tool's `chart`: bar or line, one series or several)."""
    kind = go.Scatter if spec.get("type") == "line" else go.Bar
    extra: dict[str, Any] = {"mode": "lines+markers"} if kind is go.Scatter else {}
    figure = go.Figure()
    if spec.get("series"):
        for name, values in spec["series"].items():
            figure.add_trace(kind(x=spec["x"], y=values, name=str(name), **extra))
        figure.update_layout(legend_title_text=spec.get("series_title", ""))
    else:
        figure.add_trace(kind(x=spec["x"], y=spec["y"], marker_color="#3b6fc2", **extra))
    figure.update_xaxes(title=spec.get("x_title", ""))
    figure.update_yaxes(
        title=spec.get("y_title", ""), tickformat=".1%" if "(share)" in spec.get("y_title", "") else None
    )
    figure.update_layout(title=spec.get("title", ""), height=360, margin={"l": 10, "r": 10, "t": 50, "b": 10})
    return figure


class Views:
    def __init__(self, services: Services, registry: ToolRegistry) -> None:
        self.services = services
        self.registry = registry

    def _call(self, tool: str, args: dict[str, Any], role: Role, user: str) -> Any:
        return self.registry.call(tool, args, ToolContext(self.services, role, user))

    # -- at-risk table ------------------------------------------------------------------------------
    def at_risk(
        self,
        role: Role,
        user: str,
        segment: str | None = None,
        country: str | None = None,
        bands: list[str] | None = None,
        min_value: float | None = None,
        inactive_days: int | None = None,
        population: str = "active",
        sort: str = "probability",
        limit: int = 50,
    ) -> Screen:
        args = {
            "segment": segment or None,
            "country": country or None,
            "risk_bands": bands or None,
            "min_lifetime_value": min_value or None,
            "inactive_days": inactive_days or None,
            "population": population,
            "sort": sort,
            "limit": int(limit),
        }
        call = self._call(ToolName.LIST_AT_RISK, {k: v for k, v in args.items() if v is not None}, role, user)
        if not call.ok:
            return Screen(False, call.result.summary)
        table = call.result.data["table"]
        frame = pd.DataFrame(table["rows"], columns=table["columns"])
        frame["churn"] = (frame["churn"] * 100).round(1)
        frame = frame.rename(columns={"churn": "churn %"})
        return Screen(True, call.result.text.split("\n\n")[0], frame)

    def choices(self) -> dict[str, list[str]]:
        from winback.data.schema import Customer

        with self.services.engine.connect() as connection:
            segments = sorted(connection.scalars(select(Customer.segment).distinct()))
            countries = sorted(connection.scalars(select(Customer.country).distinct()))
        return {"segments": segments, "countries": countries}

    # -- customer card ------------------------------------------------------------------------------
    def customer(self, role: Role, user: str, customer_id: str) -> Screen:
        customer_id = (customer_id or "").strip()
        if not customer_id:
            return Screen(False, "Choose a customer: click a row of the at-risk table or type an id such as C-1042.")
        call = self._call(ToolName.CUSTOMER_PROFILE, {"customer_id": customer_id}, role, user)
        if not call.ok:
            return Screen(False, call.result.summary)
        profile = call.result.data["profile"]
        churn = profile.get("churn")
        figure = _bar(call.result.data["chart"], horizontal=True) if call.result.data.get("chart") else None
        events = customer_timeline(self.services.engine, profile["customer_id"])
        frame = pd.DataFrame(
            [{"date": e.at.strftime("%Y-%m-%d"), "what": e.kind, "ref": e.ref, "details": e.what} for e in events],
            columns=["date", "what", "ref", "details"],
        )
        headline = (
            f"### {profile['customer_id']} · {inert_cell(profile['name'])} · {inert_cell(profile['segment'])}\n"
            + (
                f"**Churn probability {pct(churn['probability'])} — {churn['risk_band']}**"
                + (
                    f" · {pct(churn['order_probability_90d'])} chance of an order within 90 days"
                    if churn.get("order_probability_90d") is not None
                    else ""
                )
                + (
                    f" · predicted 12-month value {cell(churn['predicted_value_12m'])}"
                    if churn.get("predicted_value_12m") is not None
                    else ""
                )
                if churn
                else "**Not scored yet**"
            )
        )
        return Screen(True, headline, frame, figure, {"card": call.result.text, "profile": profile})

    # -- offers -------------------------------------------------------------------------------------
    def draft_offer(self, role: Role, user: str, customer_id: str, channel: str) -> Screen:
        call = self._call(ToolName.DRAFT_OFFER, {"customer_id": customer_id.strip(), "channel": channel}, role, user)
        if not call.ok:
            return Screen(False, call.result.summary)
        offer = call.result.data.get("offer")
        if not offer:
            return Screen(False, call.result.text)
        return Screen(True, call.result.text.split("\n\n")[0], extra={"offer": offer})

    def check_offer(self, role: Role, offer_id: str, subject: str, message: str) -> tuple[list[str], str]:
        """Problems with this text for the saved offer, in words this role may read, and a note when the
        text checked is not the one on screen."""
        from winback.offers.editing import check_offer_text, load_offer, masked_for, shown_text

        engine = self.services.engine
        offer = load_offer(engine, offer_id)
        note = ""
        if not may_see_pii(role):
            # a role that sees initials checks the stored text only: checking typed text would say whether a
            # guessed name is the customer's ("must greet the customer by name" comes and goes)
            if (subject, message) != shown_text(engine, offer, role):
                note = (
                    "Your changes to the text were not kept: this role cannot edit offer text, so the text as "
                    "drafted was checked. To change it, ask the drafter (or reject it with a note)."
                )
            subject, message = offer.subject, offer.message
        problems = check_offer_text(engine, self.services.policy(), offer_id, subject, message)
        return [masked_for(engine, offer.customer_id, role, p) for p in problems], note

    def decide(self, role: Role, user: str, offer_id: str, action: str, subject: str, message: str) -> Screen:
        """Raises OfferEditRefused: wrong role, the drafter or last editor, text or policy problems."""
        from winback.offers.editing import decide_offer

        offer = decide_offer(
            self.services.engine,
            self.services.policy(),
            offer_id,
            action,
            user,
            role=role,
            subject=subject,
            message=message,
        )
        return Screen(True, f"Offer {offer.offer_id} {offer.status} by {offer.decided_by}.")

    def save_offer(self, role: Role, user: str, offer_id: str, subject: str, message: str) -> Screen:
        """A drafter's edit, checked against the policy and saved (the registry checks the role)."""
        args = {"offer_id": offer_id.strip(), "subject": subject, "message": message}
        call = self._call(ToolName.SAVE_OFFER, args, role, user)
        return Screen(call.ok, call.result.summary if not call.ok else call.result.text)

    def open_offer(self, role: Role, offer_id: str) -> Screen:
        """A saved offer for review, its text as this role may read it (names as initials without PII)."""
        from winback.offers.editing import load_offer, shown_text

        offer = load_offer(self.services.engine, offer_id)
        subject, message = shown_text(self.services.engine, offer, role)
        return Screen(
            True,
            f"Offer {offer.offer_id} for {offer.customer_id}: {offer.status}, drafted by {offer.created_by}.",
            extra={"offer": {"offer_id": offer.offer_id, "subject": subject, "message": message}},
        )

    # -- manager view -------------------------------------------------------------------------------
    def risk_over_time(self) -> go.Figure:
        with self.services.engine.connect() as connection:
            rows = connection.execute(
                select(ChurnScore.scored_at, ChurnScore.risk_band, func.count())
                .group_by(ChurnScore.scored_at, ChurnScore.risk_band)
                .order_by(ChurnScore.scored_at)
            ).all()
        frame = pd.DataFrame(rows, columns=["scored_at", "band", "customers"])
        figure = go.Figure()
        for band in RISK_BANDS:
            part = frame[frame["band"] == band]
            figure.add_bar(
                x=[str(t)[:16] for t in part["scored_at"]],
                y=part["customers"],
                name=band,
                marker_color=BAND_COLOURS[band],
            )
        figure.update_layout(
            barmode="stack",
            title="Churn risk per scoring run",
            height=360,
            margin={"l": 10, "r": 10, "t": 50, "b": 10},
            xaxis_type="category",
        )
        return figure

    def manager(self, role: Role, user: str) -> dict[str, Any]:
        segments = self._call(ToolName.SEGMENTS, {"by": "segment"}, role, user)
        drivers = self._call(ToolName.CHURN_DRIVERS, {"top": 8}, role, user)
        themes = self._call(ToolName.COMPLAINT_THEMES, {}, role, user)
        out: dict[str, Any] = {"risk": self.risk_over_time()}
        out["revenue"] = _bar(segments.result.data["chart"]) if segments.ok else None
        out["drivers"] = _bar(drivers.result.data["chart"], horizontal=True) if drivers.ok else None
        if themes.ok:
            table = themes.result.data["table"]
            out["themes"] = pd.DataFrame(table["rows"], columns=table["columns"])
            out["themes_text"] = (
                themes.result.text.split("\n\n")[0] + "\n\n" + themes.result.text.split("Example quotes:")[-1]
            )
            trend = go.Figure()
            for label, monthly in themes.result.data["monthly"].items():
                months = list(monthly.items())[-12:]
                trend.add_scatter(
                    x=[m for m, _ in months], y=[n for _, n in months], mode="lines+markers", name=label[:30]
                )
            trend.update_layout(
                title="Complaint themes per month", height=360, margin={"l": 10, "r": 10, "t": 50, "b": 10}
            )
            out["themes_trend"] = trend
        else:
            out["themes"], out["themes_text"], out["themes_trend"] = None, themes.result.summary, None
        out["notes"] = [c.result.summary for c in (segments, drivers) if not c.ok]
        return out

    # -- campaigns ----------------------------------------------------------------------------------
    def campaigns(self) -> pd.DataFrame:
        """Every campaign (no personal data: names of campaigns, counts and dates)."""
        from winback.offers.campaign_store import campaign_status, list_campaigns

        rows = []
        for c in list_campaigns(self.services.engine):
            status = campaign_status(self.services.engine, c.campaign_id)
            arms = status["arms"]
            rows.append(
                [
                    c.campaign_id,
                    f"{c.created_at:%Y-%m-%d}",
                    c.created_by,
                    arms["treatment"]["members"],
                    arms["holdout"]["members"],
                    arms["treatment"]["offers"].get("draft", 0),
                    arms["treatment"]["offers"].get("approved", 0),
                    arms["treatment"]["offers"].get("sent", 0),
                    f"{c.started_at:%Y-%m-%d}" if c.started_at else "not sent",
                ]
            )
        return pd.DataFrame(rows, columns=CAMPAIGN_COLUMNS)

    def campaign_report(self, role: Role, user: str, name: str) -> Screen:
        call = self._call(ToolName.CAMPAIGN_REPORT, {"campaign": name.strip() or None}, role, user)
        if not call.ok:
            return Screen(False, call.result.summary)
        chart = call.result.data.get("chart")
        return Screen(True, call.result.text, figure=metric_chart(chart) if chart else None)

    def start_campaign(self, role: Role, user: str, args: dict[str, Any]) -> Screen:
        call = self._call(
            ToolName.START_CAMPAIGN, {k: v for k, v in args.items() if v not in (None, "", [])}, role, user
        )
        return Screen(call.ok, call.result.text if call.ok else call.result.summary)

    def approve_campaign(self, role: Role, user: str, name: str) -> Screen:
        """Every draft of the campaign that passes the policy, approved by this user (never their own)."""
        from winback.offers.campaigns import approve_campaign
        from winback.roles import ROLES_THAT_APPROVE

        if role not in ROLES_THAT_APPROVE:
            return Screen(False, f"the {role.value} role may not approve offers; a manager or admin decides")
        result = approve_campaign(self.services.engine, self.services.policy(), name.strip(), user, role)
        refused = "; ".join(f"{reason}: {n}" for reason, n in result.refused.most_common())
        return Screen(
            True,
            f"Approved {result.approved} offers of {name.strip()}"
            + (f" (not approved — {refused})" if refused else "")
            + ".",
        )

    def send_campaign(self, role: Role, user: str, name: str) -> Screen:
        """Send the approved offers through WINBACK_SMTP_URL (managers and admins)."""
        from winback.offers.channels import SmtpChannel
        from winback.offers.sending import send_campaign
        from winback.roles import ROLES_THAT_RUN_CAMPAIGNS

        if role not in ROLES_THAT_RUN_CAMPAIGNS:
            return Screen(False, f"the {role.value} role may not send campaigns; a manager or admin does")
        settings = self.services.settings
        if not settings.smtp_url:
            return Screen(
                False, "no mail server configured: set WINBACK_SMTP_URL, or use `winback campaign send --outbox DIR`"
            )
        report = send_campaign(
            self.services.engine,
            settings,
            self.services.policy(),
            name.strip(),
            SmtpChannel(settings.smtp_url, settings),
        )
        skipped = ", ".join(f"{n} {reason}" for reason, n in report.skipped.most_common())
        lines = [
            f"**Campaign {name.strip()}: {report.sent} sent · {sum(report.skipped.values())} skipped · "
            f"{len(report.failed)} not delivered**"
            + (f" ({report.already_sent} sent by an earlier run)" if report.already_sent else "")
        ]
        if skipped:
            lines.append(f"Skipped: {skipped}.")
        if report.stopped:
            lines.append(f"Stopped: {report.stopped}; nothing else was tried. Press Send again later.")
        if report.failed:
            lines.append("Not delivered:\n" + _failures(report.failed))
            lines.append(
                "Where the reason is in a customer's record or an offer's text, have a support agent correct it, "
                "then press Send again: only these go out."
            )
        return Screen(True, "\n\n".join(lines))


def _failures(failed: dict[str, str], shown: int = 5) -> str:
    """The first failed messages and why, as a list (ids and reasons only, no personal value)."""
    named = "\n".join(f"- {inert(offer_id)}: {inert(reason)}" for offer_id, reason in list(failed.items())[:shown])
    more = len(failed) - shown
    return named + (f"\n- and {more} more (`winback campaign send --json` lists them)" if more > 0 else "")


CAMPAIGN_COLUMNS = ["campaign", "created", "by", "treatment", "holdout", "drafts", "approved", "sent", "sent on"]
