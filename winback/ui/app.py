"""The web UI (Gradio Blocks): a streaming chat with visible tool steps, the at-risk table, the customer
card with its drivers chart, timeline and offer editor, and the manager view. Every action runs with the
logged-in user's role; every offer decision is recorded under their name."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import gradio as gr
import pandas as pd
from gradio.components.chatbot import OptionDict
from starlette.middleware import Middleware

from winback.assistant import Assistant
from winback.assistant.planning.calls import CONFIRM
from winback.config import Settings
from winback.data.conversations import list_sessions, load_own_messages
from winback.data.lookups.at_risk import AtRiskSort
from winback.data.risk_bands import RISK_BANDS
from winback.errors import UserError
from winback.jobs.runs import RUN_COLUMNS
from winback.jobs.scheduler import JOB_COLUMNS
from winback.offers.drafting import Channel
from winback.tools.at_risk import COLUMNS as AT_RISK_COLUMNS
from winback.ui.operations import ALERT_COLUMNS, Operations
from winback.ui.results import latest_table, narrow_tables, persona_columns
from winback.ui.signin import LOCKOUT_S, MAX_FAILURES, SignInBook, SignInGuard, write_audit_to
from winback.ui.users import User, UserStore
from winback.ui.views import CAMPAIGN_COLUMNS, Views, metric_chart

log = logging.getLogger(__name__)
EXAMPLES = {
    "Customer success": [
        "Who is most likely to churn?",
        "Top 10 gold customers at risk in France",
        "Why is the second one at risk?",
        "And her tickets?",
    ],
    "Support": [
        "Draft a win-back email for the first one",
        "Which offer can C-1042 get?",
        "What did C-1042 write to support?",
    ],
    "Manager": [
        "What drives churn among premium customers?",
        "Revenue at risk by country",
        "What do unhappy customers complain about?",
        "How many orders were returned last month?",
    ],
}
CSS = """
.wb-header {display:flex; justify-content:space-between; align-items:center}
.wb-band {font-size: 1.1em}
footer {display:none !important}
/* tables in the chat: one line per cell (never "Ger/man/y"), the table scrolls sideways instead */
#chatbot table {display:block; overflow-x:auto; max-width:100%; border-collapse:collapse; font-size:0.92em}
#chatbot table th, #chatbot table td {white-space:nowrap; word-break:keep-all; overflow-wrap:normal; padding:4px 10px}
#chatbot table th.wb-sortable {cursor:pointer; user-select:none}
#chatbot table th[data-sort="asc"]::after {content:" ▲"}
#chatbot table th[data-sort="desc"]::after {content:" ▼"}
#chatbot td.wb-customer-id {cursor:pointer; text-decoration:underline dotted}
#chatbot .wb-table-filter {margin:4px 0; padding:3px 6px; font-size:0.9em; width:16em}
"""
CHAT_TABLES_JS = (Path(__file__).parent / "static" / "chat_tables.js").read_text(encoding="utf-8")
STREAM_EVERY_S = 0.15  # at most this often an update for answer text alone (20 users share two cores)
TABLE_COLUMNS = ["churn %" if c == "churn" else c for c in AT_RISK_COLUMNS]  # views.at_risk shows percent


class App:
    def __init__(self, settings: Settings, assistant: Assistant | None = None) -> None:
        self.settings = settings
        self.assistant = assistant or Assistant(settings)
        self.views = Views(self.assistant.services, self.assistant.registry)
        self.operations = Operations(self.assistant.services)
        assert settings.users_file is not None
        self.users = UserStore(settings.users_file)
        self.signin = SignInBook(self.users, settings.ui_session_hours * 3600)
        write_audit_to(settings.data_dir / "audit.log")

    # -- who is asking ------------------------------------------------------------------------------
    def user(self, request: gr.Request | None) -> User:
        name = getattr(request, "username", None) if request is not None else None
        user = self.users.users().get(name or "")
        if user is None:
            raise gr.Error("You are not signed in (or your account was removed). Reload the page to sign in.")
        return user

    async def authenticate(self, name: str, password: str) -> bool:
        """Gradio's sign-in check: throttled, locked out after repeated failures, audited, the hashing off the
        event loop (winback.ui.signin)."""
        return await self.signin.authenticate_async(name, password) is not None

    # -- chat ---------------------------------------------------------------------------------------
    def chat(
        self, message: str, history: list[Any], session_id: str | None, request: gr.Request
    ) -> Iterator[tuple[Any, ...]]:
        """One turn, streamed: tool steps, the answer (its tables narrowed to the persona's columns), the
        charts; the turn's last table goes whole to the Results tab."""
        user = self.user(request)
        history = list(history or [])
        history.append(
            gr.ChatMessage(role="user", content=message if len(message) <= 2_000 else message[:2_000] + " …")
        )
        answer = gr.ChatMessage(role="assistant", content="")
        raw = ""  # the answer as the assistant wrote it; the chat shows it with the tables narrowed
        steps: dict[str, gr.ChatMessage] = {}
        results: tuple[Any, Any] = (gr.update(), gr.update())
        yield history, session_id, "", gr.update(), *results
        shown = time.monotonic()
        try:
            for event in self.assistant.stream(message, session_id, user.role, user.name):
                if event.kind == "planner":
                    history.append(
                        gr.ChatMessage(
                            role="assistant",
                            content=event.data["detail"],
                            metadata={"title": _planned_by(event.data), "status": "done"},
                        )
                    )
                elif event.kind == "tool_start":
                    step = gr.ChatMessage(
                        role="assistant",
                        content=f"arguments: `{json.dumps(event.data['args'], default=str)}`",
                        metadata={"title": f"Used tool {event.data['name']}", "status": "pending"},
                    )
                    steps[event.data["name"]] = step
                    history.append(step)
                elif event.kind == "tool_end":
                    call = event.data["call"]
                    step = steps.get(call.name) or gr.ChatMessage(role="assistant", content="", metadata={})
                    step.content = (
                        f"arguments: `{json.dumps(call.args, default=str)}`\n\n"
                        f"{'✓' if call.ok else '✗'} {call.result.summary} ({call.seconds:.2f} s)"
                    )
                    step.metadata = {
                        "title": f"Used tool {call.name}",
                        "status": "done",
                        "duration": round(call.seconds, 2),
                    }
                elif event.kind == "token":
                    if answer not in history:
                        history.append(answer)
                    raw += event.data["text"]
                    answer.content = narrow_tables(raw, user.role)
                elif event.kind == "replace":
                    raw = event.data["text"]
                    answer.content = narrow_tables(raw, user.role)
                elif event.kind == "done":
                    session_id = event.data["turn"].session_id or session_id
                    if event.data["turn"].intent == CONFIRM:  # the readings it asked about, one click each
                        answer.options = confirm_options(event.data["turn"].answer)
                    for call in event.data["turn"].tool_calls:  # answers over groups or time carry their chart
                        spec = call.result.data.get("chart") if call.ok else None
                        if spec and spec.get("type"):
                            history.append(gr.ChatMessage(role="assistant", content=gr.Plot(metric_chart(spec))))
                    results = self._results(event.data["turn"].tool_calls, user)
                if event.kind == "token" and time.monotonic() - shown < STREAM_EVERY_S:
                    continue  # lines that arrive together are sent together: each update re-sends the chat
                shown = time.monotonic()
                yield history, session_id, "", gr.update(), *results
        except UserError as exc:
            history.append(gr.ChatMessage(role="assistant", content=f"**Problem:** {exc}"))
        except Exception as exc:
            log.exception("chat turn failed")
            history.append(
                gr.ChatMessage(
                    role="assistant",
                    content=f"**Problem:** something went wrong ({type(exc).__name__}); "
                    "the details are in the server log. Try again or rephrase.",
                )
            )
        yield history, session_id, "", gr.update(choices=self.session_choices(request)), *results

    def pick_option(
        self, history: list[Any], session_id: str | None, evt: gr.SelectData, request: gr.Request
    ) -> Iterator[tuple[Any, ...]]:
        """A click on one of the readings an answer asked about sends it as the next turn ("yes", "2")."""
        yield from self.chat(str(evt.value), history, session_id, request)

    def _results(self, tool_calls: list[Any], user: User) -> tuple[Any, Any]:
        """The Results tab's table (every column) and its column chooser (the persona's columns ticked)."""
        found = latest_table(tool_calls)
        if found is None:
            return gr.update(), gr.update()
        frame, columns = found
        shown = persona_columns(user.role, columns)
        return frame, gr.update(choices=columns, value=shown)

    def result_columns(self, frame: pd.DataFrame, chosen: list[str], request: gr.Request) -> Any:
        """The Results table with only the chosen columns (the full table stays in the state)."""
        self.user(request)
        if frame is None or not len(frame.columns):
            return gr.update()
        keep = [c for c in frame.columns if c in (chosen or [])] or list(frame.columns)
        return frame[keep]

    def result_pick(self, frame: pd.DataFrame, evt: gr.SelectData, request: gr.Request) -> tuple[Any, ...]:
        """A click on a customer id in the Results table opens their card (any other cell does nothing)."""
        self.user(request)
        column = frame.columns[evt.index[1]] if isinstance(evt.index, list | tuple) and len(frame.columns) else None
        if column != "customer":
            return (gr.update(),) * 6
        customer = str(evt.value)
        return (customer, *self.card(customer, request))

    # -- alerts, briefing, jobs ---------------------------------------------------------------------
    def alerts(self, include_done: bool, request: gr.Request) -> pd.DataFrame:
        return self.operations.alerts(self.user(request).role, include_done)

    def alert_act(self, action: str, alert_id: str, hours: float, request: gr.Request) -> str:
        user = self.user(request)
        try:
            return "✓ " + self.operations.act(user.role, user.name, alert_id or "", action, float(hours or 24))
        except UserError as exc:
            return f"✗ {exc}"

    def alert_ack(self, alert_id: str, hours: float, request: gr.Request) -> str:
        return self.alert_act("acknowledge", alert_id, hours, request)

    def alert_snooze(self, alert_id: str, hours: float, request: gr.Request) -> str:
        return self.alert_act("snooze", alert_id, hours, request)

    def briefing(self, request: gr.Request) -> tuple[str, str]:
        user = self.user(request)
        try:
            return self.operations.briefing(user.role, user.name)
        except UserError as exc:
            return "", f"**Problem:** {exc}"

    def briefing_subscribe(self, email: str, request: gr.Request) -> str:
        user = self.user(request)
        try:
            return self.operations.subscribe(user.role, user.name, email or "")
        except UserError as exc:
            return f"✗ {exc}"

    def briefing_unsubscribe(self, request: gr.Request) -> str:
        return self.operations.unsubscribe(self.user(request).name)

    def jobs(self, request: gr.Request) -> tuple[Any, Any, str]:
        user = self.user(request)
        try:
            jobs, runs = self.operations.jobs(user.role)
        except UserError as exc:
            return pd.DataFrame(columns=JOB_COLUMNS), pd.DataFrame(columns=RUN_COLUMNS), f"✗ {exc}"
        return jobs, runs, ""

    def job_control(self, action: str, name: str, request: gr.Request) -> str:
        user = self.user(request)
        try:
            return "✓ " + self.operations.control(user.role, name or "", action)
        except UserError as exc:
            return f"✗ {exc}"

    def job_run(self, name: str, request: gr.Request) -> str:
        return self.job_control("run", name, request)

    def job_pause(self, name: str, request: gr.Request) -> str:
        return self.job_control("pause", name, request)

    def job_resume(self, name: str, request: gr.Request) -> str:
        return self.job_control("resume", name, request)

    def feedback(self, session_id: str | None, evt: gr.LikeData, request: gr.Request) -> None:
        """Thumbs up/down on an answer, stored with the message and the user's name."""
        from winback.data.conversations import record_feedback

        user = self.user(request)
        value = evt.value if isinstance(evt.value, list) else [evt.value]  # a group of consecutive messages
        texts = [v.get("text", "") if isinstance(v, dict) else str(v) for v in value]
        engine = self.assistant.services.engine

        def shown(content: str) -> str:  # what the chat showed of a stored answer
            return narrow_tables(content, user.role)

        if session_id and not any(
            record_feedback(engine, session_id, t, bool(evt.liked), user.name, shown) for t in reversed(texts)
        ):
            gr.Info("Only answers can be rated, not tool steps.")

    def session_choices(self, request: gr.Request) -> list[tuple[str, str]]:
        user = self.user(request)
        return [
            (f"{s.updated_at:%d %b %H:%M} · {s.title or '(empty)'}", s.session_id)
            for s in list_sessions(self.assistant.services.engine, user.name, limit=30)
        ]

    def open_session(self, session_id: str | None, request: gr.Request) -> tuple[list[Any], str | None]:
        user = self.user(request)
        if not session_id:
            return [], None
        history: list[Any] = []
        try:
            messages = load_own_messages(self.assistant.services.engine, session_id, user.name, user.role.value)
        except UserError as exc:
            log.warning("%s tried to open session %s: %s", user.name, session_id, exc)
            return [gr.ChatMessage(role="assistant", content=f"**Problem:** {exc}")], None
        for m in messages:
            if m.sender == "assistant":
                for call in m.tool_calls:
                    history.append(
                        gr.ChatMessage(
                            role="assistant",
                            content=f"arguments: `{json.dumps(call.get('args'), default=str)}`\n\n"
                            f"{'✓' if call.get('ok') else '✗'} {call.get('summary')}",
                            metadata={"title": f"Used tool {call.get('name')}", "status": "done"},
                        )
                    )
            shown = m.content if m.sender == "user" else narrow_tables(m.content, user.role)
            history.append(gr.ChatMessage(role="user" if m.sender == "user" else "assistant", content=shown))
        log.info("%s reopened session %s", user.name, session_id)
        return history, session_id

    # -- at risk and the customer card --------------------------------------------------------------
    def at_risk(
        self,
        segment: str,
        country: str,
        bands: list[str],
        min_value: float | None,
        inactive: float | None,
        population: str,
        sort: str,
        limit: float,
        request: gr.Request,
    ) -> tuple[pd.DataFrame, str]:
        user = self.user(request)
        screen = self.views.at_risk(
            user.role,
            user.name,
            segment or None,
            country or None,
            bands,
            min_value,
            int(inactive) if inactive else None,
            population,
            sort,
            int(limit),
        )
        if not screen.ok or screen.frame is None:
            return pd.DataFrame(columns=TABLE_COLUMNS), f"**Problem:** {screen.message}"
        return screen.frame, screen.message

    def pick_row(self, frame: pd.DataFrame, evt: gr.SelectData, request: gr.Request) -> str:
        """The customer id of the clicked row of the at-risk table."""
        return self._clicked_row(frame, evt, request)[1]

    def pick_first_cell(self, frame: pd.DataFrame, evt: gr.SelectData, request: gr.Request) -> str:
        """The id of the clicked row of the alerts or jobs table (its first column)."""
        return self._clicked_row(frame, evt, request)[0]

    def _clicked_row(self, frame: pd.DataFrame, evt: gr.SelectData, request: gr.Request) -> list[str]:
        self.user(request)  # every callback checks who is signed in, even one that only reads the page
        row = evt.row_value if getattr(evt, "row_value", None) else frame.iloc[evt.index[0]].tolist()
        return [str(v) for v in row]

    def card(self, customer_id: str, request: gr.Request) -> tuple[Any, ...]:
        user = self.user(request)
        screen = self.views.customer(user.role, user.name, customer_id)
        if not screen.ok:
            return (
                f"**Problem:** {screen.message}",
                "",
                None,
                pd.DataFrame(columns=["date", "what", "ref", "details"]),
                gr.update(selected="customer"),
            )
        assert screen.extra is not None
        return (screen.message, screen.extra["card"], screen.figure, screen.frame, gr.update(selected="customer"))

    def draft(self, customer_id: str, channel: str, request: gr.Request) -> tuple[str, str, str, str]:
        user = self.user(request)
        if not customer_id.strip():
            return "", "", "", "**Problem:** open a customer first."
        screen = self.views.draft_offer(user.role, user.name, customer_id, channel)
        if not screen.ok or not screen.extra:
            return "", "", "", f"**Problem:** {screen.message}"
        offer = screen.extra["offer"]
        return offer["offer_id"], offer["subject"], offer["message"], f"✓ {screen.message}\n\nPolicy check: passed."

    def open_offer(self, offer_id: str, request: gr.Request) -> tuple[str, str, str]:
        """Load a saved offer for review by id (an approver opens someone else's draft this way)."""
        user = self.user(request)
        if not (offer_id or "").strip():
            return "", "", "**Problem:** type an offer id such as OF-20261124-1A2B3C4D."
        try:
            screen = self.views.open_offer(user.role, offer_id.strip())
        except UserError as exc:
            return "", "", f"✗ {exc}"
        assert screen.extra is not None
        offer = screen.extra["offer"]
        return offer["subject"], offer["message"], screen.message

    def save(self, offer_id: str, subject: str, message: str, request: gr.Request) -> str:
        user = self.user(request)
        if not offer_id:
            return "**Problem:** draft an offer first."
        screen = self.views.save_offer(user.role, user.name, offer_id, subject, message)
        return ("✓ " if screen.ok else "✗ ") + screen.message

    def check(self, offer_id: str, subject: str, message: str, request: gr.Request) -> str:
        user = self.user(request)
        if not offer_id:
            return "Draft an offer first."
        try:
            problems, note = self.views.check_offer(user.role, offer_id, subject, message)
        except UserError as exc:
            return f"✗ {exc}"
        result = (
            "✓ Policy check: passed." if not problems else "✗ Policy check:\n" + "\n".join(f"- {p}" for p in problems)
        )
        return result + (f"\n\n{note}" if note else "")

    def decide(self, action: str, offer_id: str, subject: str, message: str, request: gr.Request) -> str:
        user = self.user(request)
        if not offer_id:
            return "**Problem:** draft an offer first."
        try:
            return "✓ " + self.views.decide(user.role, user.name, offer_id, action, subject, message).message
        except UserError as exc:
            return f"✗ {exc}"

    def approve(self, offer_id: str, subject: str, message: str, request: gr.Request) -> str:
        return self.decide("approve", offer_id, subject, message, request)

    def reject(self, offer_id: str, subject: str, message: str, request: gr.Request) -> str:
        return self.decide("reject", offer_id, subject, message, request)

    # -- manager ------------------------------------------------------------------------------------
    def manager(self, request: gr.Request) -> tuple[Any, ...]:
        user = self.user(request)
        out = self.views.manager(user.role, user.name)
        return (out["risk"], out["revenue"], out["drivers"], out["themes"], out["themes_trend"], out["themes_text"])

    # -- campaigns ----------------------------------------------------------------------------------
    def campaign_list(self, request: gr.Request) -> pd.DataFrame:
        self.user(request)
        return self.views.campaigns()

    def campaign_report(self, name: str, request: gr.Request) -> tuple[str, Any]:
        user = self.user(request)
        try:
            screen = self.views.campaign_report(user.role, user.name, name or "")
        except UserError as exc:
            return str(exc), None
        return screen.message, screen.figure

    def campaign_pick(self, frame: pd.DataFrame, evt: gr.SelectData, request: gr.Request) -> str:
        self.user(request)
        row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        return str(frame.iloc[row, 0])

    def campaign_start(
        self, name: str, top: float, segment: str, bands: list[str], holdout: float, rank: str, request: gr.Request
    ) -> str:
        user = self.user(request)
        args = {
            "name": name,
            "top": int(top or 200),
            "segment": segment,
            "risk_bands": bands,
            "holdout": holdout,
            "rank": rank,
        }
        try:
            return self.views.start_campaign(user.role, user.name, args).message
        except UserError as exc:
            return str(exc)

    def campaign_step(self, step: str, name: str, request: gr.Request) -> str:
        """Approve a campaign's drafts or send its approved offers, as the signed-in user."""
        user = self.user(request)
        run = self.views.approve_campaign if step == "approve" else self.views.send_campaign
        try:
            return run(user.role, user.name, name or "").message
        except UserError as exc:
            return str(exc)

    def campaign_approve(self, name: str, request: gr.Request) -> str:
        return self.campaign_step("approve", name, request)

    def campaign_send(self, name: str, request: gr.Request) -> str:
        return self.campaign_step("send", name, request)

    def whoami(self, request: gr.Request) -> str:
        user = self.user(request)
        return f"Signed in as **{user.name}** ({user.role.value.replace('_', ' ')})"

    # -- layout -------------------------------------------------------------------------------------
    def build(self) -> gr.Blocks:
        choices = self.views.choices()
        with gr.Blocks(title="winback") as blocks:
            with gr.Row(elem_classes="wb-header"):
                gr.Markdown("## winback — retention assistant")
                who = gr.Markdown()
                gr.Button("Sign out", link="/logout", size="sm", scale=0)
            with gr.Tabs() as tabs:
                with gr.Tab("Chat", id="chat"):
                    session = gr.State(None)
                    with gr.Row():
                        with gr.Column(scale=1, min_width=240):
                            new_chat = gr.Button("+ New chat", variant="secondary")
                            past = gr.Dropdown(label="Past conversations", choices=[], interactive=True)
                        with gr.Column(scale=4):
                            chatbot = gr.Chatbot(
                                label="winback",
                                height=560,
                                elem_id="chatbot",
                                placeholder="Ask about your customers: who is at risk, why, what they wrote, which offer.",
                            )
                            box = gr.Textbox(
                                placeholder="Ask a question and press Enter",
                                show_label=False,
                                elem_id="chat-input",
                                submit_btn=True,
                                max_lines=6,
                            )
                            for persona, examples in EXAMPLES.items():
                                gr.Examples(examples, inputs=box, label=persona)
                with gr.Tab("Results", id="results"):
                    gr.Markdown(
                        "The last table the assistant answered with, every column: pick the columns, sort by a "
                        "header, filter with the search box; click a customer id to open their card."
                    )
                    result_frame = gr.State(None)
                    result_cols = gr.CheckboxGroup(label="Columns", choices=[], elem_id="results-columns")
                    result_table = gr.Dataframe(
                        interactive=False, elem_id="results-table", show_search="filter", max_height=640, wrap=False
                    )
                with gr.Tab("At risk", id="atrisk"):
                    with gr.Row():
                        segment = gr.Dropdown([""] + choices["segments"], value="", label="Segment")
                        country = gr.Dropdown([""] + choices["countries"], value="", label="Country")
                        bands = gr.CheckboxGroup(list(RISK_BANDS), label="Risk band")
                        min_value = gr.Number(label="Min lifetime value", value=None, minimum=0)
                        inactive = gr.Number(label="No order for (days)", value=None, minimum=0)
                    with gr.Row():
                        population = gr.Radio(["active", "lapsed", "all"], value="active", label="Customers")
                        sort = gr.Dropdown(
                            list(get_args(AtRiskSort)),
                            value="probability",
                            label="Rank by",
                        )
                        limit = gr.Slider(10, 500, value=50, step=10, label="Rows")
                        refresh = gr.Button("Show", variant="primary", elem_id="atrisk-show")
                    summary = gr.Markdown()
                    table = gr.Dataframe(
                        headers=TABLE_COLUMNS,
                        interactive=False,
                        elem_id="atrisk-table",
                        show_search="filter",
                        max_height=600,
                        wrap=True,
                    )
                with gr.Tab("Customer", id="customer"):
                    with gr.Row():
                        customer = gr.Textbox(label="Customer id", placeholder="C-1042", elem_id="customer-id", scale=3)
                        open_btn = gr.Button("Open", elem_id="customer-open", scale=1)
                    headline = gr.Markdown(elem_classes="wb-band", elem_id="customer-headline")
                    with gr.Row():
                        with gr.Column(scale=3):
                            card = gr.Markdown(elem_id="customer-card")
                        with gr.Column(scale=2):
                            drivers = gr.Plot(label="Why this customer may leave", elem_id="drivers-chart")
                    timeline = gr.Dataframe(
                        headers=["date", "what", "ref", "details"], interactive=False, label="Timeline", max_height=300
                    )
                    with gr.Group():
                        gr.Markdown("### Offer")
                        with gr.Row():
                            channel = gr.Radio(list(get_args(Channel)), value="email", label="Channel")
                            draft_btn = gr.Button("Draft offer", variant="primary", elem_id="draft-offer")
                        with gr.Row():
                            offer_id = gr.Textbox(
                                label="Offer", placeholder="drafted here, or type an id to review", elem_id="offer-id"
                            )
                            offer_open_btn = gr.Button("Open offer", elem_id="offer-open", scale=0)
                        subject = gr.Textbox(label="Subject", elem_id="offer-subject")
                        message = gr.Textbox(label="Message", lines=10, elem_id="offer-message")
                        status = gr.Markdown(elem_id="offer-status")
                        with gr.Row():
                            check_btn = gr.Button("Check against policy", elem_id="offer-check")
                            save_btn = gr.Button("Save edit", elem_id="offer-save")
                            approve_btn = gr.Button("Approve", variant="primary", elem_id="offer-approve")
                            reject_btn = gr.Button("Reject", variant="stop", elem_id="offer-reject")
                with gr.Tab("Manager", id="manager"):
                    manager_btn = gr.Button("Refresh", elem_id="manager-refresh")
                    with gr.Row():
                        risk_plot = gr.Plot(label="Churn risk over time")
                        revenue_plot = gr.Plot(label="Revenue at risk by segment")
                    with gr.Row():
                        drivers_plot = gr.Plot(label="Top churn drivers")
                        trend_plot = gr.Plot(label="Complaint themes over time")
                    themes_md = gr.Markdown()
                    themes_table = gr.Dataframe(interactive=False, label="Complaint themes")

                with gr.Tab("Campaigns", id="campaigns"):
                    with gr.Row():
                        campaigns_btn = gr.Button("Refresh", elem_id="campaigns-refresh", scale=0)
                        campaign_name = gr.Textbox(
                            label="Campaign", placeholder="name, or empty for the newest", elem_id="campaign-name"
                        )
                        report_btn = gr.Button("Report", variant="primary", elem_id="campaign-report", scale=0)
                    campaigns_table = gr.Dataframe(
                        headers=CAMPAIGN_COLUMNS, interactive=False, elem_id="campaigns-table"
                    )
                    with gr.Row():
                        with gr.Column(scale=3):
                            report_md = gr.Markdown(elem_id="campaign-report-text")
                        with gr.Column(scale=2):
                            curve_plot = gr.Plot(label="Ordered again: treatment vs holdout", elem_id="campaign-curve")
                    with gr.Accordion("New campaign (managers)", open=False):
                        with gr.Row():
                            new_name = gr.Textbox(label="Name", placeholder="e.g. december-gold")
                            new_top = gr.Number(label="Customers", value=200, minimum=10, maximum=5000)
                            new_segment = gr.Dropdown([""] + choices["segments"], value="", label="Segment")
                            new_bands = gr.CheckboxGroup(list(RISK_BANDS), label="Risk band")
                            new_holdout = gr.Slider(0.05, 0.5, value=0.2, step=0.05, label="Holdout share")
                            new_rank = gr.Dropdown(
                                ["probability", "revenue_at_risk", "incremental_value"],
                                value="probability",
                                label="Rank by",
                            )
                        start_btn = gr.Button("Start campaign (drafts for approval)", elem_id="campaign-start")
                    with gr.Row():
                        approve_all_btn = gr.Button("Approve its drafts", elem_id="campaign-approve")
                        send_btn = gr.Button("Send approved offers", variant="stop", elem_id="campaign-send")
                    campaign_status = gr.Markdown(elem_id="campaign-status")

                with gr.Tab("Alerts", id="alerts"):
                    with gr.Row():
                        alerts_btn = gr.Button("Refresh", elem_id="alerts-refresh", scale=0)
                        alerts_done = gr.Checkbox(label="Also acknowledged and snoozed", value=False)
                    alerts_table = gr.Dataframe(
                        headers=ALERT_COLUMNS, interactive=False, elem_id="alerts-table", wrap=True, max_height=480
                    )
                    with gr.Row():
                        alert_id = gr.Textbox(label="Alert", placeholder="click a row", elem_id="alert-id", scale=3)
                        snooze_hours = gr.Number(label="Snooze (hours)", value=24, minimum=0.1, maximum=2160, scale=1)
                        ack_btn = gr.Button("Acknowledge", variant="primary", elem_id="alert-ack", scale=1)
                        snooze_btn = gr.Button("Snooze", elem_id="alert-snooze", scale=1)
                    alert_status = gr.Markdown(elem_id="alert-status")
                with gr.Tab("Briefing", id="briefing"):
                    with gr.Row():
                        briefing_btn = gr.Button("Show today's briefing", variant="primary", elem_id="briefing-show")
                        briefing_email = gr.Textbox(label="E-mail me this every morning at", scale=3)
                        subscribe_btn = gr.Button("Subscribe", elem_id="briefing-subscribe", scale=0)
                        unsubscribe_btn = gr.Button("Unsubscribe", elem_id="briefing-unsubscribe", scale=0)
                    briefing_status = gr.Markdown(elem_id="briefing-status")
                    briefing_html = gr.HTML(elem_id="briefing-page")
                with gr.Tab("Jobs", id="jobs"):
                    gr.Markdown("Scheduled jobs and their runs (managers and admins); an admin can run or pause a job.")
                    jobs_btn = gr.Button("Refresh", elem_id="jobs-refresh", scale=0)
                    jobs_table = gr.Dataframe(headers=JOB_COLUMNS, interactive=False, elem_id="jobs-table", wrap=True)
                    with gr.Row():
                        job_name = gr.Textbox(label="Job", placeholder="click a row", elem_id="job-name", scale=3)
                        job_run_btn = gr.Button("Run now", variant="primary", elem_id="job-run", scale=1)
                        job_pause_btn = gr.Button("Pause", elem_id="job-pause", scale=1)
                        job_resume_btn = gr.Button("Resume", elem_id="job-resume", scale=1)
                    job_status = gr.Markdown(elem_id="job-status")
                    runs_table = gr.Dataframe(
                        headers=RUN_COLUMNS, interactive=False, label="Runs", elem_id="runs-table", wrap=True
                    )

            blocks.load(self.whoami, None, who).then(self.session_choices, None, past, show_progress="hidden")
            box.submit(
                self.chat,
                [box, chatbot, session],
                [chatbot, session, box, past, result_frame, result_cols],
                concurrency_id="chat",
                api_name="chat",
            ).then(self.result_columns, [result_frame, result_cols], result_table, show_progress="hidden")
            chatbot.option_select(
                self.pick_option,
                [chatbot, session],
                [chatbot, session, box, past, result_frame, result_cols],
                concurrency_id="chat",
            ).then(self.result_columns, [result_frame, result_cols], result_table, show_progress="hidden")
            result_cols.input(self.result_columns, [result_frame, result_cols], result_table)
            alerts_btn.click(self.alerts, [alerts_done], alerts_table)
            alerts_done.change(self.alerts, [alerts_done], alerts_table)
            alerts_table.select(self.pick_first_cell, [alerts_table], alert_id)
            ack_btn.click(self.alert_ack, [alert_id, snooze_hours], alert_status).then(
                self.alerts, [alerts_done], alerts_table
            )
            snooze_btn.click(self.alert_snooze, [alert_id, snooze_hours], alert_status).then(
                self.alerts, [alerts_done], alerts_table
            )
            briefing_btn.click(self.briefing, None, [briefing_html, briefing_status])
            subscribe_btn.click(self.briefing_subscribe, [briefing_email], briefing_status)
            unsubscribe_btn.click(self.briefing_unsubscribe, None, briefing_status)
            jobs_btn.click(self.jobs, None, [jobs_table, runs_table, job_status])
            jobs_table.select(self.pick_first_cell, [jobs_table], job_name)
            for button, action in (
                (job_run_btn, self.job_run),
                (job_pause_btn, self.job_pause),
                (job_resume_btn, self.job_resume),
            ):
                button.click(action, [job_name], job_status, concurrency_id="draft").then(
                    self.jobs, None, [jobs_table, runs_table, job_status]
                )
            chatbot.like(self.feedback, [session], None)
            new_chat.click(lambda: ([], None, None), None, [chatbot, session, past])
            past.select(self.open_session, [past], [chatbot, session])
            filters = [segment, country, bands, min_value, inactive, population, sort, limit]
            refresh.click(self.at_risk, filters, [table, summary])
            card_outputs = [headline, card, drivers, timeline, tabs]
            table.select(self.pick_row, [table], customer).then(self.card, [customer], card_outputs)
            result_table.select(self.result_pick, [result_table], [customer, *card_outputs])
            open_btn.click(self.card, [customer], card_outputs)
            customer.submit(self.card, [customer], card_outputs)
            draft_btn.click(
                self.draft, [customer, channel], [offer_id, subject, message, status], concurrency_id="draft"
            )
            offer_open_btn.click(self.open_offer, [offer_id], [subject, message, status])
            check_btn.click(self.check, [offer_id, subject, message], status)
            save_btn.click(self.save, [offer_id, subject, message], status)
            approve_btn.click(self.approve, [offer_id, subject, message], status)
            reject_btn.click(self.reject, [offer_id, subject, message], status)
            manager_btn.click(
                self.manager, None, [risk_plot, revenue_plot, drivers_plot, themes_table, trend_plot, themes_md]
            )
            campaigns_btn.click(self.campaign_list, None, campaigns_table)
            campaigns_table.select(self.campaign_pick, [campaigns_table], campaign_name).then(
                self.campaign_report, [campaign_name], [report_md, curve_plot]
            )
            report_btn.click(self.campaign_report, [campaign_name], [report_md, curve_plot])
            start_btn.click(
                self.campaign_start,
                [new_name, new_top, new_segment, new_bands, new_holdout, new_rank],
                campaign_status,
                concurrency_id="draft",
            ).then(self.campaign_list, None, campaigns_table)
            approve_all_btn.click(self.campaign_approve, [campaign_name], campaign_status)
            send_btn.click(self.campaign_send, [campaign_name], campaign_status, concurrency_id="draft")
        return blocks


def launch(app: App, host: str = "127.0.0.1", port: int = 7860, block: bool = True) -> gr.Blocks:
    """Build and start the UI on host:port with the user store's logins; long work (drafting) runs beside
    other sessions' requests (`WINBACK_UI_CONCURRENCY` at once, the rest queue)."""
    blocks = app.build()
    blocks.queue(default_concurrency_limit=app.settings.ui_concurrency, max_size=200)
    # uvicorn (under Gradio) rewrites the client address from X-Forwarded-For only for these peers; its
    # default trusts loopback, where anyone on the machine could forge an address for the lockout and audit
    os.environ["FORWARDED_ALLOW_IPS"] = app.settings.trusted_proxies
    blocks.launch(
        server_name=host,
        server_port=port,
        auth=app.authenticate,  # type: ignore[arg-type]  # a coroutine function: Gradio awaits it (routes.login)
        auth_message="winback — sign in with the account your administrator gave you. After "
        f"{MAX_FAILURES} failed attempts a name is locked for {LOCKOUT_S / 60:.0f} minutes.",
        app_kwargs={"middleware": [Middleware(SignInGuard, book=app.signin)]},
        prevent_thread_lock=not block,
        show_error=False,
        quiet=True,
        css=CSS,
        js=CHAT_TABLES_JS,
        theme=gr.themes.Soft(),
        footer_links=[],
    )
    return blocks


def confirm_options(answer: str) -> list[OptionDict]:
    """Buttons for an answer that asked which reading to run: "yes" for the first, its number for others."""
    numbers = sorted({int(n) for n in re.findall(r"\*\*(\d)\*\*", answer)})
    first = [OptionDict(value="yes", label="Yes, run it")]
    return first + [OptionDict(value=str(n), label=f"Run reading {n}") for n in numbers]


def _planned_by(data: dict[str, Any]) -> str:
    """The planner step's title: who decided this turn (the detail says why)."""
    if data.get("planner") == "tools":
        return "Planned by the model (native tool calling)"
    return {"rule": "Decided by a rule", "model": "Planned by the model"}.get(
        data.get("decided_by", ""), "Planned by the rules"
    )
