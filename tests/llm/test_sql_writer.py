"""Wiring of the text-to-SQL loop with a scripted chat model: refusals and database errors go back to the
model as one-line reasons, at most two repairs, and only guarded SQL ever runs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from winback.config import Settings
from winback.data.db import make_engine
from winback.data.demo.seed import seed_demo
from winback.data.fingerprint import database_fingerprint
from winback.data.migrate import upgrade
from winback.llm.sql_writer import Expected, SqlWriter, extract_sql


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings(data_dir=tmp_path)
    engine = make_engine(s.database_url)
    upgrade(engine)
    seed_demo(engine, customers=80, seed=2)
    engine.dispose()
    return s


def test_repairs_until_a_query_passes(settings: Settings) -> None:
    llm = FakeListChatModel(
        responses=[
            "SELECT email FROM customers",  # refused: personal data for a manager
            "```sql\nSELECT nonsense FROM orders;\n```",  # database error
            "Here you go: SELECT segment, COUNT(*) AS n FROM customers GROUP BY segment; -- done",
        ]
    )
    engine = make_engine(settings.database_url)
    before = database_fingerprint(engine)
    answer = SqlWriter(settings, llm, engine).answer("How many customers per segment?", role="manager")
    assert answer.ok and len(answer.attempts) == 3
    assert "personal data" in answer.attempts[0].error and "unknown column nonsense" in answer.attempts[1].error
    assert answer.result.result.frame["n"].sum() == 80 and answer.result.result.chart is not None
    assert database_fingerprint(engine) == before


def test_gives_up_after_two_repairs_with_the_last_reason(settings: Settings) -> None:
    llm = FakeListChatModel(
        responses=["DROP TABLE orders", "DELETE FROM orders", "UPDATE offers SET value = 1", "SELECT 1 FROM orders"]
    )
    engine = make_engine(settings.database_url)
    before = database_fingerprint(engine)
    answer = SqlWriter(settings, llm, engine).answer("delete everything", role="admin")
    assert not answer.ok and len(answer.attempts) == 3 and "only SELECT" in answer.error
    assert database_fingerprint(engine) == before


def test_extract_sql_takes_one_statement() -> None:
    assert (
        extract_sql("```sql\nWITH a AS (SELECT 1) SELECT * FROM a;\nDROP TABLE x;```")
        == "WITH a AS (SELECT 1) SELECT * FROM a"
    )
    assert extract_sql("SELECT 1; DELETE FROM orders") == "SELECT 1"


def test_unknown_column_errors_list_the_real_columns() -> None:
    from winback.llm.sql_writer import explain_failure

    reason = explain_failure(
        "the database refused the query: no such column: quantity", "SELECT AVG(quantity) FROM orders", "sqlite"
    )
    assert "Columns that exist: orders(order_id, customer_id" in reason
    assert (
        explain_failure("only SELECT queries are allowed", "DROP TABLE x", "sqlite")
        == "only SELECT queries are allowed"
    )


def test_a_window_is_written_below_the_day_after_its_last_day() -> None:
    """ "this year" up to 2026-10-31: `closed_at <= '2026-10-31'` drops that day's timestamps, so the hint
    asks for `< '2026-11-01'`, and a query written that way keeps to the window."""
    expected = Expected(window=("this year", date(2026, 1, 1), date(2026, 10, 31)))
    assert ">= '2026-01-01' AND < '2026-11-01'" in expected.hint()
    inside = "SELECT COUNT(*) FROM customers WHERE closed_at >= '2026-01-01' AND closed_at < '2026-11-01'"
    assert expected.problem(inside, 1) is None
    assert expected.problem("SELECT COUNT(*) FROM customers", 1) is not None
