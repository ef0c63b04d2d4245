"""Questions nobody anticipated, answered with SQL the LLM writes: generated against the schema card with
the few worked examples closest to the question, validated and run only through the guarded path, and
repaired at most twice with the one-line reason the guard or the database gave."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import sqlglot
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from sqlalchemy import Engine
from sqlglot import exp

from winback.config import Settings
from winback.data.safesql.guard import SqlRefused
from winback.data.safesql.guarded import GuardedResult, dialect_of, run_guarded
from winback.data.safesql.readonly import QueryFailed
from winback.data.safesql.schema_card import SqlExample, dialect_tips, schema_card, sql_examples
from winback.data.schema import CONTRACT_TABLES, Base
from winback.prompts import load_prompt
from winback.roles import Role
from winback.search.embeddings import EmbeddingModelError, get_embedder

MAX_REPAIRS = 2
EXAMPLES_SHOWN = 4
_FENCE = re.compile(r"```(?:sql)?\s*(.*?)```", re.S | re.I)
_START = re.compile(r"\b(WITH|SELECT)\b", re.I)


@dataclass
class SqlAttempt:
    sql: str
    error: str | None = None  # why it could not be used: refusal or database error


@dataclass
class SqlAnswer:
    question: str
    attempts: list[SqlAttempt] = field(default_factory=list)
    result: GuardedResult | None = None
    examples: list[str] = field(default_factory=list)  # questions of the worked examples shown
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.result is not None

    @property
    def error(self) -> str | None:
        return None if self.ok else (self.attempts[-1].error if self.attempts else "no query was written")


def extract_sql(text: str) -> str:
    """The query inside a model's reply: a fenced block if any, from the first SELECT/WITH, one statement."""
    fenced = _FENCE.search(text)
    body = fenced.group(1) if fenced else text
    start = _START.search(body)
    if start is None:
        return body.strip()
    body = body[start.start() :]
    cut = body.find(";")
    return (body[:cut] if cut >= 0 else body).strip()


def explain_failure(reason: str, sql: str, dialect: str) -> str:
    """Add the real column lists to an unknown-column error: the one fact a model needs to repair it."""
    lowered = reason.lower()
    if "column" not in lowered or not ("no such" in lowered or "does not exist" in lowered or "unknown" in lowered):
        return reason
    try:
        tree = sqlglot.parse_one(sql, read="postgres" if dialect.startswith("postgres") else dialect)
        tables = sorted({t.name.lower() for t in tree.find_all(exp.Table)} & set(CONTRACT_TABLES))
    except sqlglot.errors.SqlglotError:
        tables = []
    listing = "; ".join(f"{name}({', '.join(c.name for c in Base.metadata.tables[name].columns)})" for name in tables)
    return f"{reason}. Columns that exist: {listing}" if listing else reason


class ExampleSelector:
    """The worked examples most similar to a question (MiniLM embeddings); the first ones without the model."""

    def __init__(self, examples: tuple[SqlExample, ...], embedding_model: str | None) -> None:
        self.examples = examples
        self.embedder = None
        if embedding_model:
            try:
                self.embedder = get_embedder(embedding_model)
                self.vectors = self.embedder.encode([e.question for e in examples])
            except EmbeddingModelError:
                self.embedder = None

    def select(self, question: str, k: int) -> list[SqlExample]:
        if self.embedder is None:
            return list(self.examples[:k])
        scores = self.vectors @ self.embedder.encode([question])[0]
        best = np.argsort(-scores, kind="stable")[:k]
        return [self.examples[i] for i in best[::-1]]  # the closest last, next to the question


@dataclass(frozen=True)
class Expected:
    """What a question names that its query must keep to: one number, and a window (words, first, last day)."""

    one_value: bool = False
    window: tuple[str, date | None, date] | None = None

    def hint(self) -> str:
        if self.window is None:
            return ""
        words, first, last = self.window
        after = last + timedelta(days=1)  # timestamps on the last day count: compare below the next day
        span = f"from {first:%Y-%m-%d} to {last:%Y-%m-%d}" if first else f"up to {last:%Y-%m-%d}"
        bounds = (f">= '{first:%Y-%m-%d}' AND " if first else "") + f"< '{after:%Y-%m-%d}'"
        return f" ({words} = {span}, both days included: write the time column {bounds}; not the current date)"

    def problem(self, sql: str, rows: int) -> str | None:
        """Why the query does not answer the question as asked, or None."""
        if self.one_value and rows != 1:
            return f"the question asks for one number, but the query returned {rows} rows"
        if self.window is not None:
            words, first, last = self.window
            wanted = [d for d in (first, last, last + timedelta(days=1)) if d is not None]
            if not any(f"{d:%Y-%m-%d}" in sql for d in wanted):
                span = f"{first:%Y-%m-%d} to {last:%Y-%m-%d}" if first else f"up to {last:%Y-%m-%d}"
                return f"the query does not keep to the question's window ({words} = {span})"
        return None


class SqlWriter:
    """`SqlWriter(settings, llm).answer("how many gold customers in Lyon ordered less this quarter?", role)`."""

    def __init__(
        self,
        settings: Settings,
        llm: BaseChatModel,
        engine: Engine | None = None,
        max_repairs: int = MAX_REPAIRS,
        examples_shown: int = EXAMPLES_SHOWN,
        retrieve_examples: bool = True,
    ) -> None:
        self.settings = settings
        self.llm = llm
        self.dialect = dialect_of(settings.database_url)
        self.system = load_prompt("text_to_sql.v2.txt").format(
            dialect=self.dialect,
            dialect_tips=dialect_tips(self.dialect),
            schema_card=schema_card(engine, self.dialect, examples=0),
        )
        self.selector = ExampleSelector(
            sql_examples(self.dialect), settings.embedding_model if retrieve_examples else None
        )
        self.max_repairs = max_repairs
        self.examples_shown = examples_shown

    def _ask(self, messages: list[BaseMessage]) -> str:
        return extract_sql(str(self.llm.invoke(messages).content))

    def answer(
        self, question: str, role: str | Role, user: str | None = None, expected: Expected | None = None
    ) -> SqlAnswer:
        """`expected`: what the question names, read by code (its window's dates, one number or not); a
        query that does not keep to it is sent back for repair like one the guard refused, and is never
        the answer."""
        started = time.perf_counter()
        question = " ".join(question.split())
        answer = SqlAnswer(question)
        messages: list[BaseMessage] = [SystemMessage(self.system)]
        for example in self.selector.select(question, self.examples_shown):
            messages += [HumanMessage(example.question), AIMessage(example.sql)]
            answer.examples.append(example.question)
        messages.append(HumanMessage(question + (expected.hint() if expected else "")))
        sql = self._ask(messages)
        for attempt in range(self.max_repairs + 1):
            answer.attempts.append(SqlAttempt(sql))
            try:
                result = run_guarded(self.settings, sql, role, user=user)
                problem = expected.problem(result.checked.sql, len(result.result.frame)) if expected else None
                if problem:
                    raise QueryFailed(problem)
                answer.result = result
                break
            except (SqlRefused, QueryFailed) as exc:
                answer.attempts[-1].error = str(exc)
                if attempt == self.max_repairs:
                    break
                reason = explain_failure(str(exc), sql, self.dialect)
                messages += [
                    AIMessage(sql),
                    HumanMessage(
                        load_prompt("sql_repair.v2.txt").format(reason=reason, dialect=self.dialect, question=question)
                    ),
                ]
                sql = self._ask(messages)
        answer.seconds = time.perf_counter() - started
        return answer
