"""Questions nobody anticipated, answered with SQL the LLM writes: generated against the schema card,
validated and run only through the guarded path, and repaired at most twice with the one-line reason
the guard or the database gave."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from sqlalchemy import Engine

from winback.config import Settings
from winback.data.guarded import GuardedResult, dialect_of, run_guarded
from winback.data.readonly import QueryFailed
from winback.data.schema_card import schema_card
from winback.data.sqlguard import SqlRefused
from winback.prompts import load_prompt
from winback.roles import Role

MAX_REPAIRS = 2
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
    body = body[start.start():]
    cut = body.find(";")
    return (body[:cut] if cut >= 0 else body).strip()


class SqlWriter:
    """`SqlWriter(settings, llm).answer("how many gold customers in Lyon ordered less this quarter?", role)`."""

    def __init__(self, settings: Settings, llm: BaseChatModel, engine: Engine | None = None,
                 max_repairs: int = MAX_REPAIRS) -> None:
        self.settings = settings
        self.llm = llm
        self.dialect = dialect_of(settings.database_url)
        self.card = schema_card(engine, self.dialect)
        self.max_repairs = max_repairs

    def _ask(self, prompt: str) -> str:
        reply = self.llm.invoke([HumanMessage(prompt)])
        return extract_sql(str(reply.content))

    def answer(self, question: str, role: str | Role) -> SqlAnswer:
        started = time.perf_counter()
        answer = SqlAnswer(question)
        prompt = load_prompt("text_to_sql.v1.txt").format(dialect=self.dialect, schema_card=self.card,
                                                           question=" ".join(question.split()))
        sql = self._ask(prompt)
        for attempt in range(self.max_repairs + 1):
            try:
                answer.attempts.append(SqlAttempt(sql))
                answer.result = run_guarded(self.settings, sql, role)
                break
            except (SqlRefused, QueryFailed) as exc:
                answer.attempts[-1].error = str(exc)
                if attempt == self.max_repairs:
                    break
                repair = load_prompt("sql_repair.v1.txt").format(question=question, sql=sql, reason=exc,
                                                                 dialect=self.dialect)
                sql = self._ask(prompt + "\n" + sql + "\n\n" + repair)
        answer.seconds = time.perf_counter() - started
        return answer
