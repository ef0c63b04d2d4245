"""How much free SQL one person may run: calls per user per minute, counted in this process."""

from __future__ import annotations

import threading
import time
from collections import deque

from winback.errors import UserError


class RateLimited(UserError, RuntimeError):
    """Too many free-SQL calls in the last minute; the message says when to try again."""


class CallLimiter:
    """A sliding one-minute window of calls per user name."""

    def __init__(self, per_minute: int, window_s: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window_s = window_s
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, user: str, now: float | None = None) -> None:
        """Count one call for `user`, or raise RateLimited."""
        now = time.monotonic() if now is None else now
        with self._lock:
            calls = self._calls.setdefault(user, deque())
            while calls and calls[0] <= now - self.window_s:
                calls.popleft()
            if len(calls) >= self.per_minute:
                wait = calls[0] + self.window_s - now
                raise RateLimited(
                    f"{user} ran {self.per_minute} free-SQL queries in the last minute (the limit); "
                    f"try again in {max(wait, 1):.0f} s"
                )
            calls.append(now)


_limiters: dict[int, CallLimiter] = {}
_limiters_lock = threading.Lock()


def limiter(per_minute: int) -> CallLimiter:
    """The process's limiter for this rate (one per configured value)."""
    with _limiters_lock:
        return _limiters.setdefault(per_minute, CallLimiter(per_minute))
