"""The schema card the model writes SQL from: complete, documented, short, and its examples are valid."""

from __future__ import annotations

from sqlalchemy import Engine

from winback.data.demo.seed import seed_demo
from winback.data.safesql.guard import check_sql
from winback.data.safesql.readonly import readonly_engine, run_readonly
from winback.data.safesql.schema_card import column_meanings, dialect_tips, schema_card, sql_examples
from winback.data.schema import CONTRACT_TABLES, Base


def test_card_covers_the_contract_and_stays_small(engine: Engine) -> None:
    seed_demo(engine, customers=50, seed=4)
    dialect = engine.dialect.name
    card = schema_card(engine, dialect)
    meanings = column_meanings()
    for name in CONTRACT_TABLES:
        assert f"TABLE {name}(" in card
        for column in Base.metadata.tables[name].columns:
            assert (name, column.name) in meanings, f"{name}.{column.name} is not documented in data-contract.md"
    assert "email text  -- PII" in card and "values: bronze, gold, platinum, silver" in card
    assert "orders.customer_id = customers.customer_id" in card and "-- Q: " in card
    assert len(card) < 8_000  # about 2,000 tokens: fits a 4,096-token context with room for the answer
    assert "strftime" in dialect_tips("sqlite") and "EXTRACT" in dialect_tips("postgresql")


def test_every_worked_example_passes_the_guard_and_runs(engine: Engine) -> None:
    seed_demo(engine, customers=50, seed=4)
    dialect = engine.dialect.name
    reader = readonly_engine(engine.url.render_as_string(hide_password=False))
    examples = sql_examples(dialect)
    assert len(examples) >= 25
    for example in examples:
        checked = check_sql(example.sql, dialect, role="manager")
        run_readonly(reader, checked.sql, checked.limit)
    reader.dispose()
