"""Every UI callback checks the signed-in user on the server (S10, S15): called without a signed-in user,
or as a user removed since, each one refuses before it does anything."""

from __future__ import annotations

import inspect
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest

from winback.config import Settings
from winback.ui.app import App
from winback.ui.users import UserStore


def _callbacks(app: App) -> list[tuple[str, Any]]:
    return [
        (name, method)
        for name, method in inspect.getmembers(app, inspect.ismethod)
        if not name.startswith("_") and "request" in inspect.signature(method).parameters
    ]


def _call(method: Any, request: Any) -> None:
    args = {name: "" for name in inspect.signature(method).parameters if name != "request"}
    args = {
        k: (SimpleNamespace(index=[0], row_value=["1", "C-1"], value="x", liked=True) if k == "evt" else v)
        for k, v in args.items()
    }
    result = method(**args, request=request)
    if inspect.isgenerator(result):
        next(result)


def test_every_callback_refuses_a_request_without_a_signed_in_user(shop_settings: Settings) -> None:
    app = App(shop_settings)
    callbacks = _callbacks(app)
    names = {name for name, _ in callbacks}
    assert {"chat", "card", "draft", "check", "approve", "reject", "open_offer", "save", "open_session"} <= names
    assert {"at_risk", "feedback", "session_choices", "manager", "whoami", "pick_row"} <= names
    assert {"campaign_list", "campaign_report", "campaign_start", "campaign_approve", "campaign_send"} <= names
    assert {"alerts", "alert_ack", "alert_snooze", "pick_first_cell", "briefing", "briefing_subscribe"} <= names
    assert {"briefing_unsubscribe", "jobs", "job_run", "job_pause", "job_resume"} <= names
    assert {"result_columns", "result_pick"} <= names
    UserStore(shop_settings.users_file).add("gone", "admin", "gone-password-1")  # type: ignore[arg-type]
    UserStore(shop_settings.users_file).remove("gone")  # type: ignore[arg-type]
    for request in (None, SimpleNamespace(username=None), SimpleNamespace(username="gone")):
        for name, method in callbacks:
            with pytest.raises(gr.Error, match="not signed in"):
                _call(method, request)
                pytest.fail(f"{name} ran for {request!r}")
