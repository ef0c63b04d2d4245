"""Conversations persist in order on SQLite and PostgreSQL, concurrent writers queue instead of failing,
and unknown sessions are a clear error."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine

from winback.data.conversations import (
    SessionNotFound,
    append_message,
    create_session,
    list_sessions,
    load_messages,
    record_feedback,
    require_chat_tables,
    session_info,
)
from winback.data.db import DatabaseError, make_engine
from winback.data.migrate import head_revision, upgrade


def test_sessions_and_messages_round_trip(engine: Engine) -> None:
    first = create_session(engine, "ana", "cs_staff")
    other = create_session(engine, "bob", "manager", "revenue by segment")
    append_message(engine, first, "user", "who is most likely to churn?")
    append_message(
        engine,
        first,
        "assistant",
        "| 1 | C-7 |",
        planner="router",
        tool_calls=[{"name": "list_at_risk_customers", "args": {"limit": 1}, "ok": True, "text": "C-7"}],
        context={"customer_ids": ["C-7", "C-9"], "focus": None},
        latency_ms=12,
    )
    stored = load_messages(engine, first)
    assert [(m.position, m.sender) for m in stored] == [(1, "user"), (2, "assistant")]
    assert stored[1].tool_calls[0]["name"] == "list_at_risk_customers" and stored[1].context["customer_ids"] == [
        "C-7",
        "C-9",
    ]
    info = session_info(engine, first)
    assert info.title == "who is most likely to churn?" and info.messages == 2  # the first question names it
    assert [s.session_id for s in list_sessions(engine, "ana")] == [first]
    assert {s.session_id for s in list_sessions(engine)} == {first, other}
    assert record_feedback(engine, first, " | 1 | C-7 | ", False, "ana")
    assert not record_feedback(engine, first, "a tool step", True, "ana")
    assert load_messages(engine, first)[1].feedback == "down"
    with pytest.raises(SessionNotFound, match="no conversation"):
        append_message(engine, "missing", "user", "hello")


def test_concurrent_turns_all_land(engine: Engine) -> None:
    sessions = [create_session(engine, f"user{n}", "cs_staff") for n in range(6)]

    def turns(session: str) -> None:
        for n in range(10):
            append_message(engine, session, "user" if n % 2 == 0 else "assistant", f"message {n}")

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(turns, sessions))
    for session in sessions:
        assert [m.position for m in load_messages(engine, session)] == list(range(1, 11))


def test_an_old_schema_is_named_before_a_turn_fails(tmp_path) -> None:
    old = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(old, "0005")  # chat tables, but not the feedback columns of 0006
    with pytest.raises(
        DatabaseError, match=f"revision 0005, this winback needs {head_revision()}; run `winback db upgrade`"
    ):
        require_chat_tables(old)
    upgrade(old)
    require_chat_tables(old)
