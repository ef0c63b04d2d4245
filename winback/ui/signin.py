"""Sign-in for the web UI: throttling with lockout per user name and per client address, an audit line for
every sign-in and failure, and sessions that expire or end when the user's password is reset or the
user removed.

Gradio keeps its own session tokens (`app.tokens`: cookie token -> user name). `SignInGuard` is an ASGI
middleware in front of Gradio's app: it tells the sign-in check which client is asking, records the token
Gradio issues on a successful sign-in, and on every request drops a token that has expired or whose
user's password changed since, so Gradio itself then treats the browser as signed out.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from winback.ui.users import User, UserStore

log = logging.getLogger("winback.signin")
audit = logging.getLogger("winback.audit")

MAX_FAILURES = 5  # per user name
MAX_CLIENT_FAILURES = 20  # per client address: many names guessed from one place (a proxy's users share one)
FAILURE_WINDOW_S = 15 * 60.0
LOCKOUT_S = 15 * 60.0
HASHING_AT_ONCE = 2  # scrypt at 128 MiB each: sign-ins hashing at the same time (the rest wait their turn)
TOKEN_COOKIE = "access-token"  # Gradio's cookies: access-token-<id> and access-token-unsecure-<id>

_attempt: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("winback_signin", default=None)


@dataclass
class _Session:
    user: str
    started: float  # time.time()


class SignInBook:
    """Failures, lockouts and sessions of one UI process."""

    def __init__(
        self,
        users: UserStore,
        session_max_age_s: float,
        max_failures: int = MAX_FAILURES,
        max_client_failures: int = MAX_CLIENT_FAILURES,
        lockout_s: float = LOCKOUT_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.users = users
        self.session_max_age_s = session_max_age_s
        self.max_failures = max_failures
        self.max_client_failures = max_client_failures
        self.lockout_s = lockout_s
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()
        self._hashing: asyncio.Semaphore | None = None  # made on the event loop that first uses it

    # -- sign-in ------------------------------------------------------------------------------------
    def locked(self, name: str, client: str) -> float:
        """Seconds left of a lockout on this name or this client (0 when none)."""
        now = self.clock()
        with self._lock:
            return max(0.0, *(self._locked_until.get(k, 0.0) - now for k in (f"user:{name}", f"client:{client}")))

    def authenticate(self, name: str, password: str, client: str | None = None) -> User | None:
        """The user when the password is right and neither the name nor the client is locked out."""
        attempt = _attempt.get()
        client = client or (attempt or {}).get("client") or "unknown"
        if self._refused_locked(name, client):
            return None
        user = self.users.authenticate(name, password)
        if user is None:
            self._fail(name, client)
            return None
        with self._lock:
            self._failures.pop(f"user:{name}", None)
        audit.info("sign-in: user=%r role=%s client=%s", name, user.role.value, client)
        if attempt is not None:
            attempt["user"] = name
        return user

    async def authenticate_async(self, name: str, password: str) -> User | None:
        """`authenticate` for the UI's event loop: the lockout is checked first (a locked name costs no
        hashing), then scrypt runs in a worker thread, at most `HASHING_AT_ONCE` at a time, so sign-in attempts
        never freeze the other users' screens."""
        attempt = _attempt.get()
        client = (attempt or {}).get("client") or "unknown"
        if self._refused_locked(name, client):
            return None
        if self._hashing is None:
            self._hashing = asyncio.Semaphore(HASHING_AT_ONCE)
        async with self._hashing:  # the context (which client asked) goes with the call into the thread
            return await asyncio.to_thread(self.authenticate, name, password, client)

    def _refused_locked(self, name: str, client: str) -> bool:
        left = self.locked(name, client)
        if left:
            audit.warning("sign-in refused (locked out for %.0f s more): user=%r client=%s", left, name, client)
            attempt = _attempt.get()
            if attempt is not None:
                attempt["locked"] = left
        return bool(left)

    def _fail(self, name: str, client: str) -> None:
        now = self.clock()
        with self._lock:
            for key, limit in ((f"user:{name}", self.max_failures), (f"client:{client}", self.max_client_failures)):
                failures = self._failures.setdefault(key, deque())
                failures.append(now)
                while failures and failures[0] < now - FAILURE_WINDOW_S:
                    failures.popleft()
                if len(failures) >= limit:
                    self._locked_until[key] = now + self.lockout_s
                    failures.clear()
                    audit.warning("locked out for %.0f s after %d failures: %s", self.lockout_s, limit, key)
        audit.warning("sign-in failed: user=%r client=%s", name, client)

    # -- sessions -----------------------------------------------------------------------------------
    def started(self, token: str, user: str) -> None:
        with self._lock:
            self._sessions[token] = _Session(user, self.clock())

    def session_problem(self, token: str) -> str | None:
        """Why this session may not go on (expired, password reset, user removed, unknown), or None."""
        with self._lock:
            session = self._sessions.get(token)
        if session is None:
            return "unknown session"
        user = self.users.users().get(session.user)
        if user is None:
            return "the user was removed"
        if self.clock() - session.started > self.session_max_age_s:
            return "the session expired"
        if user.changed_at and user.changed_at >= session.started:
            return "the password was reset"
        return None

    def end(self, token: str, why: str) -> None:
        with self._lock:
            session = self._sessions.pop(token, None)
        if session is not None:
            audit.info("session ended (%s): user=%r", why, session.user)


def write_audit_to(path: Path) -> None:
    """Audit lines (sign-ins, failures, lockouts, ended sessions) go to this file (mode 0600), whatever the
    log level of the rest of winback."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    os.close(descriptor)
    if any(getattr(h, "baseFilename", None) == str(path.resolve()) for h in audit.handlers):
        return
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    audit.addHandler(handler)
    audit.setLevel(logging.INFO)


def _tokens(headers: list[tuple[bytes, bytes]]) -> list[str]:
    """Every session token the request carries: a decoy `access-token-x` before the real one must not keep
    an ended session alive (Gradio reads its own cookie name, wherever it is)."""
    tokens = []
    for key, value in headers:
        if key == b"cookie":
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(value.decode("latin-1"))
            tokens += [morsel.value for name, morsel in cookie.items() if name.startswith(TOKEN_COOKIE)]
    return tokens


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class SignInGuard:
    """ASGI middleware in front of Gradio's app (built with the book it reads: `Middleware(SignInGuard, book=...)`)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], book: SignInBook) -> None:
        self.app = app
        self.book = book

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        tokens = getattr(scope.get("app"), "tokens", None)
        for token in _tokens(scope.get("headers", [])):
            if isinstance(tokens, dict) and token in tokens:
                why = self.book.session_problem(token)
                if why:
                    tokens.pop(token, None)  # Gradio now treats this browser as signed out
                    self.book.end(token, why)
        path = scope.get("path", "")
        if scope["type"] == "http" and scope.get("method") == "POST" and path.rstrip("/").endswith("/login"):
            await self._login(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = (scope.get("client") or ("unknown", 0))[0]
        attempt: dict[str, Any] = {"client": client}
        reset = _attempt.set(attempt)

        async def record(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start" and attempt.get("user"):
                for key, value in message.get("headers", []):
                    if key.lower() == b"set-cookie" and value.startswith(TOKEN_COOKIE.encode()):
                        self.book.started(value.split(b"=", 1)[1].split(b";", 1)[0].decode(), attempt["user"])
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            _attempt.reset(reset)
