"""LLM-written SQL: every hostile statement refused or stopped with a reason, the database unchanged."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from winback.data.demo.seed import seed_demo
from winback.data.fingerprint import database_fingerprint
from winback.data.safesql.guard import SqlRefused, check_sql
from winback.data.safesql.readonly import QueryFailed, QueryTimeout, readonly_engine, run_readonly

HOSTILE = [
    ("DROP TABLE customers", "only SELECT"),
    ("DELETE FROM orders", "only SELECT"),
    ("UPDATE offers SET value = 100", "only SELECT"),
    ("INSERT INTO offers (offer_id) VALUES ('x')", "only SELECT"),
    ("SELECT 1 FROM orders; DROP TABLE orders", "exactly one statement"),
    ("SELECT * FROM orders; DELETE FROM orders", "exactly one statement"),
    ("SELECT * FROM orders -- harmless\n; DROP TABLE orders", "exactly one statement"),
    ("SELECT * FROM orders /* ; */ ; /* */ DELETE FROM reviews", "exactly one statement"),
    ("WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d", "DELETE is not allowed"),
    ("WITH u AS (UPDATE offers SET value = 0 RETURNING *) SELECT * FROM u", "UPDATE is not allowed"),
    ("SELECT * INTO stolen FROM orders", "INTO is not allowed"),
    ("PRAGMA table_info(customers)", "only SELECT"),
    ("PRAGMA writable_schema = 1", "only SELECT"),
    ("ATTACH DATABASE '/tmp/x.db' AS x", None),
    ("COPY customers TO '/tmp/customers.csv'", None),
    ("VACUUM", None),
    ("SELECT pg_sleep(30)", "not allowed"),
    ("SELECT order_id FROM orders WHERE pg_sleep(30) IS NULL", "not allowed"),
    ("SELECT pg_read_file('/etc/passwd')", "not allowed"),
    ("SELECT * FROM dblink('host=evil', 'select 1') AS t(a int)", "not allowed"),
    ("SELECT load_extension('/tmp/evil.so')", "not allowed"),
    ("SELECT randomblob(1000000000) FROM orders", "not allowed"),
    ("SELECT set_config('default_transaction_read_only', 'off', false) FROM orders", "not allowed"),
    ("SELECT nextval('x') FROM orders", "not allowed"),
    ("SELECT * FROM sqlite_master", "not available"),
    ("SELECT name FROM sqlite_schema", "not available"),
    ("SELECT * FROM pg_catalog.pg_user", "outside the data contract"),
    ("SELECT * FROM information_schema.tables", "outside the data contract"),
    ("SELECT * FROM pg_shadow", "not available"),
    ("SELECT * FROM demo_truth", "not available"),
    ("SELECT email FROM customers", "personal data"),
    ("SELECT c.name FROM customers AS c", "personal data"),
    ("SELECT * FROM customers", "personal data"),
    ("SELECT x.* FROM customers x JOIN orders o ON o.customer_id = x.customer_id", "personal data"),
    ('SELECT lower("email") FROM customers', "personal data"),
    ("SELECT to_json(c) FROM customers c", "not allowed"),
    ("SELECT customers FROM customers", "whole row"),
    ("SELECT 1 AS x FROM customers ORDER BY customers", "whole row"),
    ("SELECT CAST(x AS TEXT) FROM orders JOIN customers x ON x.customer_id = orders.customer_id", "whole row"),
    # columns compared by name never reach the engine (an e-mail oracle: issue 36)
    ("SELECT customer_id FROM customers NATURAL JOIN (SELECT 'a@b.example' AS email) t", "NATURAL JOIN"),
    ("SELECT count(*) FROM offers JOIN (SELECT 'Hi Ann' AS subject) t USING (subject)", "USING"),
    ("", "empty statement"),
    ("SELEC * FROM orders", None),
    ("SELECT 1", "reads no table"),
]


@pytest.fixture
def shop(engine: Engine) -> Engine:
    seed_demo(engine, customers=150, seed=41)
    return engine


def test_hostile_statements_are_refused_and_nothing_changes(shop: Engine) -> None:
    dialect = shop.dialect.name
    before = database_fingerprint(shop)
    url = shop.url.render_as_string(hide_password=False)
    reader = readonly_engine(url, timeout_s=2)
    for statement, reason in HOSTILE:
        try:
            checked = check_sql(statement, dialect, role="cs_staff")
        except SqlRefused as exc:
            assert "\n" not in str(exc)
            if reason:
                assert reason in str(exc), (statement, str(exc))
            continue
        # whatever passes the guard still runs on a connection that cannot write
        with pytest.raises(QueryFailed):
            run_readonly(reader, checked.sql, checked.limit, timeout_s=2)
            pytest.fail(f"{statement!r} passed both walls")
    # defence in depth: the read-only connection itself refuses writes and long queries
    for statement in ("DELETE FROM orders", "UPDATE customers SET segment = 'gold'", "DROP TABLE reviews"):
        with pytest.raises(QueryFailed):
            run_readonly(reader, statement, 10)
    cartesian = check_sql("SELECT count(*) FROM orders a, order_items b, reviews c, support_tickets d", dialect)
    with pytest.raises(QueryTimeout, match="longer than 1 s"):
        run_readonly(reader, cartesian.sql, cartesian.limit, timeout_s=1)
    reader.dispose()
    assert database_fingerprint(shop) == before


def test_good_queries_run_with_a_limit_and_roles(shop: Engine) -> None:
    dialect = shop.dialect.name
    reader = readonly_engine(shop.url.render_as_string(hide_password=False))
    checked = check_sql("SELECT segment, count(*) AS n FROM customers GROUP BY segment ORDER BY segment", dialect)
    result = run_readonly(reader, checked.sql, checked.limit)
    assert result.columns == ["segment", "n"] and sum(r[1] for r in result.rows) == 150
    capped = check_sql("SELECT order_id FROM orders LIMIT 1000000000", dialect, max_rows=25)
    assert capped.limit == 25
    rows = run_readonly(reader, capped.sql, capped.limit)
    assert len(rows.rows) == 25 and not rows.truncated
    assert check_sql("SELECT email FROM customers", dialect, role="support_agent").tables == ("customers",)
    by_alias = "SELECT country, COUNT(*) AS customers FROM customers GROUP BY country ORDER BY customers DESC"
    assert run_readonly(reader, check_sql(by_alias, dialect).sql, 10).rows
    with_cte = check_sql(
        "WITH big AS (SELECT customer_id FROM orders WHERE total_amount > 100) SELECT count(*) FROM big", dialect
    )
    assert run_readonly(reader, with_cte.sql, with_cte.limit).rows[0][0] > 0
    with pytest.raises(SqlRefused, match="unknown role"):
        check_sql("SELECT order_id FROM orders", dialect, role="intern")
    reader.dispose()
