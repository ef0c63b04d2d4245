"""What every tool the assistant can call is made of: typed arguments, a one-line description written for
the model, one result type (compact text for the LLM, structured data for the UI), and errors as values.

Heavy objects a tool needs (database engine, churn model, search index, LLM) live in `Services`, loaded on
first use and shared by every call of one assistant, so a conversation pays for them once.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Engine

from winback.config import LlmTask, Settings
from winback.errors import UserError
from winback.roles import Role

ToolKind = Literal["lookup", "analysis", "action"]
ALL_ROLES = frozenset(Role)


class ToolFailure(UserError, RuntimeError):
    """A tool could not answer for a reason the user (or the agent) can act on."""


@dataclass
class ToolResult:
    """One tool's answer. `text` is what a model reads and what the answer templates show (markdown);
    `data` is for screens (table rows, chart specs); `customer_ids` lists the customers it is about, in
    order, so the conversation can resolve "the second customer" later."""

    ok: bool
    summary: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    customer_ids: list[str] = field(default_factory=list)

    @classmethod
    def failure(cls, message: str) -> ToolResult:
        return cls(ok=False, summary=message, text=message)


@dataclass(frozen=True)
class Tool:
    name: str
    description: str  # one line, written for the model
    args_schema: type[BaseModel]
    run: Callable[[Any, ToolContext], ToolResult]
    roles: frozenset[Role] = ALL_ROLES
    kind: ToolKind = "lookup"


class Services:
    """Loaded once per assistant, on first use; safe to share between threads (one slow load never
    blocks the others)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._cache: dict[str, Any] = {}

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        """Build once per key (e.g. the SQL writer with its schema card and examples)."""
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._cache:
                    return self._cache[key]
            value = build()
            with self._lock:
                self._cache[key] = value
            return value

    def forget(self, prefix: str) -> None:
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if not k.startswith(prefix)}

    @property
    def engine(self) -> Engine:
        from winback.data.db import make_engine

        return self.cached("engine", lambda: make_engine(settings=self.settings))

    def scorer(self) -> Any:
        from winback.model.scoring import ChurnScorer

        return self.cached("scorer", lambda: ChurnScorer.load(self.settings.data_dir))

    def embedder(self) -> Any:
        from winback.search.embeddings import get_embedder

        return self.cached("embedder", lambda: get_embedder(self.settings.embedding_model))

    def feedback(self) -> tuple[Any, Any]:
        """(Chroma collection, search embedder) of the indexed reviews and tickets."""
        from winback.search.embeddings import search_embedder
        from winback.search.store import chroma_client, open_collection

        def build() -> tuple[Any, Any]:
            client = chroma_client(self.settings)  # a server that is down fails here, before the model loads
            embedder = search_embedder(self.settings)
            return open_collection(self.settings, embedder, create=False, client=client), embedder

        return self.cached("feedback", build)

    def keyword_index(self) -> Any:
        """The keyword (BM25) index beside the vector index, or None if `winback index` has not built it."""
        from winback.search.store import open_keyword_index

        found = self.cached("keyword_index", lambda: open_keyword_index(self.settings, create=False))
        if found is None:  # not built yet: look again next time rather than remember its absence
            with self._lock:
                self._cache.pop("keyword_index", None)
        return found

    def policy(self) -> Any:
        from winback.offers.policy import load_policy

        return self.cached("policy", lambda: load_policy(self.settings.data_dir))

    def llm(self, task: LlmTask) -> Any:
        """The LLM backend of a task (never starts a server: the caller decides that); looked for again while
        absent."""
        from winback.llm.backend import connect_llm

        backend = self.cached(f"llm:{task}", lambda: connect_llm(self.settings, task, max_tokens=256, start=False))
        if backend.llm is None:
            self.forget("llm:")
        return backend

    def forget_llm(self) -> None:
        """After a connection error: look for the server again next time (and drop what was built on it)."""
        self.forget("llm:")


@dataclass
class ToolContext:
    """Who is calling and with what: the role decides which tools run and whether personal data shows."""

    services: Services
    role: Role
    actor: str = "assistant"

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def engine(self) -> Engine:
        return self.services.engine


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def redact_emails(text: str) -> str:
    from winback.roles import mask_email

    return EMAIL.sub(lambda m: mask_email(m.group(0)), text)
