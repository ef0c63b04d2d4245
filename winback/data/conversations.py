"""The assistant's conversations in the database: sessions and their messages, appended in order, so a
conversation survives a restart and every answer can be audited with the tool results behind it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, inspect, select, update

from winback.data.db import DatabaseError, write_transaction
from winback.data.lookups.common import InvalidLookup
from winback.data.migrate import current_revision, head_revision
from winback.data.schema import ChatMessage, ChatSession

TITLE_CHARS = 80


class SessionNotFound(InvalidLookup, LookupError):
    pass


@dataclass(frozen=True)
class StoredMessage:
    position: int
    sender: str
    content: str
    created_at: datetime
    planner: str | None
    tool_calls: list[dict[str, Any]]
    context: dict[str, Any]
    grounding: dict[str, Any] | None
    latency_ms: int | None
    feedback: str | None = None


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    user_name: str
    role: str
    title: str
    created_at: datetime
    updated_at: datetime
    messages: int


def require_chat_tables(engine: Engine) -> None:
    missing = [t for t in ("chat_sessions", "chat_messages") if not inspect(engine).has_table(t)]
    if missing:
        raise DatabaseError(
            f"the database has no {' or '.join(missing)} table (the assistant's memory); run `winback db upgrade`"
        )
    current, head = current_revision(engine), head_revision()
    if current != head:  # e.g. a column the assistant writes is missing: say so before the first turn fails
        raise DatabaseError(
            f"the database schema is at revision {current}, this winback needs {head}; run `winback db upgrade`"
        )


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def create_session(engine: Engine, user_name: str, role: str, title: str = "") -> str:
    session_id = uuid.uuid4().hex
    now = _now()
    with write_transaction(engine) as connection:
        connection.execute(
            insert(ChatSession).values(
                session_id=session_id,
                user_name=user_name,
                role=role,
                title=" ".join(title.split())[:TITLE_CHARS],
                created_at=now,
                updated_at=now,
            )
        )
    return session_id


def session_info(engine: Engine, session_id: str) -> SessionInfo:
    with engine.connect() as connection:
        row = connection.execute(select(ChatSession).where(ChatSession.session_id == session_id)).first()
        if row is None:
            raise SessionNotFound(f"no conversation with id {session_id!r}")
        count = connection.execute(select(func.count()).where(ChatMessage.session_id == session_id)).scalar_one()
    return SessionInfo(row.session_id, row.user_name, row.role, row.title, row.created_at, row.updated_at, count)


def list_sessions(engine: Engine, user_name: str | None = None, limit: int = 50) -> list[SessionInfo]:
    counts = select(ChatMessage.session_id, func.count().label("n")).group_by(ChatMessage.session_id).subquery()
    query = (
        select(
            ChatSession.session_id,
            ChatSession.user_name,
            ChatSession.role,
            ChatSession.title,
            ChatSession.created_at,
            ChatSession.updated_at,
            func.coalesce(counts.c.n, 0),
        )
        .outerjoin(counts, counts.c.session_id == ChatSession.session_id)
        .order_by(ChatSession.updated_at.desc(), ChatSession.session_id)
        .limit(limit)
    )
    if user_name is not None:
        query = query.where(ChatSession.user_name == user_name)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        SessionInfo(
            session_id=row[0],
            user_name=row[1],
            role=row[2],
            title=row[3],
            created_at=row[4],
            updated_at=row[5],
            messages=int(row[6]),
        )
        for row in rows
    ]


def append_message(
    engine: Engine,
    session_id: str,
    sender: str,
    content: str,
    *,
    planner: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    context: dict[str, Any] | None = None,
    grounding: dict[str, Any] | None = None,
    latency_ms: int | None = None,
) -> int:
    """Append one message; returns its position. The session's title is its first question."""
    now = _now()
    with write_transaction(engine) as connection:
        session = connection.execute(select(ChatSession.title).where(ChatSession.session_id == session_id)).first()
        if session is None:
            raise SessionNotFound(f"no conversation with id {session_id!r}")
        position = (
            connection.execute(
                select(func.coalesce(func.max(ChatMessage.position), 0)).where(ChatMessage.session_id == session_id)
            ).scalar_one()
            + 1
        )
        connection.execute(
            insert(ChatMessage).values(
                session_id=session_id,
                position=position,
                sender=sender,
                content=content,
                created_at=now,
                planner=planner,
                tool_calls=tool_calls,
                context=context,
                grounding=grounding,
                latency_ms=latency_ms,
            )
        )
        values: dict[str, Any] = {"updated_at": now}
        if not session.title and sender == "user":
            values["title"] = " ".join(content.split())[:TITLE_CHARS]
        connection.execute(update(ChatSession).where(ChatSession.session_id == session_id).values(**values))
    return position


def load_own_messages(engine: Engine, session_id: str, user_name: str, role: str) -> list[StoredMessage]:
    """The messages of a conversation held by this user in this role; another user's (or the same name's
    in another role, whose answers may hold personal data) raises SessionNotFound with the same words as
    an unknown id, so ids cannot be probed."""
    info = session_info(engine, session_id)
    if (info.user_name, info.role) != (user_name, str(role)):
        raise SessionNotFound(f"no conversation with id {session_id!r}")
    return load_messages(engine, session_id)


def load_messages(engine: Engine, session_id: str) -> list[StoredMessage]:
    session_info(engine, session_id)  # raises SessionNotFound
    with engine.connect() as connection:
        rows = connection.execute(
            select(ChatMessage).where(ChatMessage.session_id == session_id).order_by(ChatMessage.position)
        ).all()
    return [
        StoredMessage(
            r.position,
            r.sender,
            r.content,
            r.created_at,
            r.planner,
            r.tool_calls or [],
            r.context or {},
            r.grounding,
            r.latency_ms,
            r.feedback,
        )
        for r in rows
    ]


def record_feedback(
    engine: Engine,
    session_id: str,
    answer: str,
    liked: bool,
    user: str,
    shown: Callable[[str], str] | None = None,
) -> bool:
    """Thumbs up/down on the latest answer of the session with this text; False when none matches (or the
    session is not the user's). `shown`: how a screen turned a stored answer into what the user rated (the
    UI narrows its tables to the persona's columns)."""
    if session_info(engine, session_id).user_name != user:
        return False
    text = answer.strip()
    seen = shown or (lambda content: content)
    with write_transaction(engine) as connection:
        answers = connection.execute(
            select(ChatMessage.position, ChatMessage.content)
            .where(ChatMessage.session_id == session_id, ChatMessage.sender == "assistant")
            .order_by(ChatMessage.position.desc())
        )
        position = next((p for p, content in answers if seen(content).strip() == text), None)
        if position is None:
            return False
        connection.execute(
            update(ChatMessage)
            .where(ChatMessage.session_id == session_id, ChatMessage.position == position)
            .values(feedback="up" if liked else "down", feedback_by=user)
        )
    return True
