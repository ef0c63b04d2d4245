"""Free SQL: the database refuses what a role may not read, with or without the first filter in front."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.security.conftest import WalledShop
from tests.security.hostile_sql import FINDINGS, MORE, all_statements
from winback.data.fingerprint import database_fingerprint
from winback.data.safesql.guard import SqlRefused
from winback.data.safesql.guarded import run_guarded
from winback.data.safesql.limits import RateLimited
from winback.data.safesql.readonly import QueryFailed, readonly_engine, run_readonly

ROLES_WITHOUT_PII = ("cs_staff", "manager")
# what a system catalog row or server file looks like when it comes back
CATALOG_MARKERS = ("CREATE TABLE", "CREATE INDEX", "sqlite_autoindex", "rolname", "SCRAM-SHA", "pg_toast", "root:")
TIMEOUT_S = 2
SLACK_S = 8  # start-up of a connection, parsing, the timeout's own granularity


# PostgreSQL lets every role read catalog metadata (pg_class, pg_roles: names of tables and roles, no
# customer data); only the first filter keeps those out, so alone the engine is held to secrets: password
# hashes (pg_authid) and server files
SECRET_CATALOG_MARKERS = ("SCRAM-SHA", "root:")


def leaked(shop: WalledShop, shown: str, markers: tuple[str, ...] = CATALOG_MARKERS) -> list[str]:
    found = [s for s in shop.secrets if s and s in shown]
    return found + [m for m in markers if m in shown]


def _shown(result: object) -> str:
    frame = result.result.frame  # type: ignore[attr-defined]  # a GuardedResult
    return frame.to_csv(index=False) + "\n" + result.result.text  # type: ignore[attr-defined]


def test_there_are_enough_hostile_statements_of_every_class() -> None:
    assert len(all_statements()) >= len([s for v in FINDINGS.values() for s in v]) + 100
    assert all(len(v) >= 2 for v in MORE.values())


def test_hostile_statements_reveal_nothing_through_the_whole_path(walled_shop: WalledShop) -> None:
    before = database_fingerprint(walled_shop.engine)
    settings = walled_shop.settings()
    answered = 0
    for role in ROLES_WITHOUT_PII:
        for kind, statement in all_statements():
            started = time.perf_counter()
            try:
                shown = _shown(run_guarded(settings, statement, role, user=f"tester-{role}"))
                answered += 1
            except (SqlRefused, QueryFailed) as exc:
                shown = str(exc)
                assert "\n" not in shown, (kind, statement, shown)
            elapsed = time.perf_counter() - started
            assert not leaked(walled_shop, shown), (walled_shop.kind, role, kind, statement, shown[:300])
            assert elapsed < TIMEOUT_S + SLACK_S, (kind, statement, elapsed)
    assert database_fingerprint(walled_shop.engine) == before
    assert answered < len(all_statements())  # most are refused; the few that run return nothing secret


def test_the_engine_alone_holds_without_the_first_filter(walled_shop: WalledShop) -> None:
    """Every hostile statement straight to the database as a reader without personal data: refused, or
    nothing secret in what comes back."""
    before = database_fingerprint(walled_shop.engine)
    reader = readonly_engine(walled_shop.url, timeout_s=TIMEOUT_S)
    markers = CATALOG_MARKERS if walled_shop.kind == "sqlite" else SECRET_CATALOG_MARKERS
    refused_by_engine = 0
    for kind, statement in all_statements():
        started = time.perf_counter()
        try:
            result = run_readonly(reader, statement, 50, TIMEOUT_S, personal_data=False)
            shown = "\n".join(" ".join(map(str, row)) for row in result.rows)
        except Exception as exc:  # any refusal will do: QueryFailed, the driver's one-statement rule, ...
            shown = str(exc)
            refused_by_engine += 1
        assert not leaked(walled_shop, shown, markers), (walled_shop.kind, kind, statement, shown[:300])
        assert time.perf_counter() - started < TIMEOUT_S + SLACK_S, (kind, statement)
    reader.dispose()
    assert database_fingerprint(walled_shop.engine) == before
    assert refused_by_engine > len(all_statements()) // 2


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT m.content FROM chat_messages m WHERE EXISTS (WITH chat_messages AS (SELECT 1) SELECT 1 FROM orders)",
        "SELECT content FROM chat_messages",
        "SELECT email FROM customers",
        "SELECT count(*) FROM customers WHERE email LIKE 'a%'",
        "SELECT message FROM offers",
        "SELECT e FROM (SELECT email AS e FROM customers) s",
    ],
)
def test_engine_refuses_personal_and_chat_columns_by_resolved_name(walled_shop: WalledShop, statement: str) -> None:
    reader = readonly_engine(walled_shop.url, timeout_s=TIMEOUT_S)
    with pytest.raises(QueryFailed, match="may not"):
        run_readonly(reader, statement, 10, TIMEOUT_S, personal_data=False)
    reader.dispose()


def test_roles_with_personal_data_and_plain_analytics_still_work(walled_shop: WalledShop) -> None:
    settings = walled_shop.settings()
    emails = run_guarded(settings, "SELECT email FROM customers ORDER BY customer_id", "support_agent").result.frame
    assert len(emails) == 60 and set(emails["email"]) <= set(walled_shop.secrets)
    report = run_guarded(
        settings,
        "SELECT c.segment, count(DISTINCT c.customer_id) AS customers, round(avg(o.total_amount), 2) AS avg_order "
        "FROM customers c JOIN orders o ON o.customer_id = c.customer_id GROUP BY c.segment ORDER BY c.segment",
        "manager",
    ).result.frame
    assert report["customers"].sum() > 0
    with_cte = run_guarded(
        settings,
        "WITH late AS (SELECT customer_id FROM orders WHERE delivered_at > promised_delivery_at) "
        "SELECT count(DISTINCT customer_id) AS n FROM late",
        "cs_staff",
    ).result.frame
    assert int(with_cte["n"][0]) >= 0
    months = run_guarded(  # a recursive CTE (a calendar of months) is allowed and runs on both engines
        settings,
        "WITH RECURSIVE m(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM m WHERE k < 2) "
        "SELECT m.k, count(o.order_id) AS orders FROM m LEFT JOIN orders o ON o.total_amount > m.k * 1000 "
        "GROUP BY m.k ORDER BY m.k",
        "manager",
    ).result.frame
    assert list(months["k"]) == [0, 1, 2] and months["orders"].iloc[0] > 0


def test_values_are_cut_to_the_byte_cap_as_they_are_fetched(walled_shop: WalledShop) -> None:
    settings = walled_shop.settings(sql_max_value_bytes=100)
    frame = run_guarded(settings, "SELECT body FROM reviews ORDER BY length(body) DESC", "manager").result.frame
    assert len(frame) > 0 and max(len(str(v).encode()) for v in frame["body"]) <= 100


def test_a_result_stops_at_its_byte_cap_not_only_at_the_row_cap(walled_shop: WalledShop) -> None:
    """Every row 8 KB (under the value cap): 1,000 rows would be 8 MB; the result stops at its own cap."""
    settings = walled_shop.settings(sql_max_value_bytes=10_000, sql_max_result_bytes=100_000)
    answer = run_guarded(
        settings,
        "WITH RECURSIVE s(x, n) AS (SELECT CAST('ab' AS TEXT), 0 UNION ALL SELECT x || x, n + 1 FROM s WHERE n < 12) "
        "SELECT o.order_id, (SELECT x FROM s WHERE n = 12) AS filler FROM orders o",
        "manager",
    )
    frame = answer.result.frame
    assert 0 < len(frame) < 1000 and sum(len(v) for v in frame["filler"]) <= 100_000
    assert answer.result.truncated and answer.cut_by.startswith(
        "only part of the result: it is over the 0.1 MB size cap; narrow"
    )


def test_free_sql_is_limited_per_user_per_minute(walled_shop: WalledShop) -> None:
    settings = walled_shop.settings(sql_calls_per_minute=3)
    user = f"maria-{walled_shop.kind}"
    for _ in range(3):
        run_guarded(settings, "SELECT count(*) FROM orders", "manager", user=user)
    with pytest.raises(RateLimited, match=f"{user} ran 3 free-SQL queries in the last minute"):
        run_guarded(settings, "SELECT count(*) FROM orders", "manager", user=user)
    run_guarded(settings, "SELECT count(*) FROM orders", "manager", user="another-user")  # others are not held up


def test_database_errors_come_back_as_categories_without_values(walled_shop: WalledShop) -> None:
    reader = readonly_engine(walled_shop.url, timeout_s=TIMEOUT_S)
    cast = "SELECT CAST(segment AS INTEGER) + 1 FROM customers WHERE segment <> ''"
    if walled_shop.kind.startswith("postgres"):
        with pytest.raises(QueryFailed) as caught:
            run_readonly(reader, "SELECT segment::int FROM customers", 10, TIMEOUT_S, personal_data=False)
        assert "could not be converted" in str(caught.value) and '"' not in str(caught.value)
        with pytest.raises(QueryFailed) as as_agent:
            run_readonly(reader, "SELECT segment::int FROM customers", 10, TIMEOUT_S, personal_data=True)
        assert "invalid input syntax" in str(as_agent.value)  # roles with personal data get the database's line
    else:
        assert run_readonly(reader, cast, 10, TIMEOUT_S).rows  # SQLite casts text to 0 rather than failing
    with pytest.raises(QueryFailed, match="unknown column"):
        run_readonly(reader, "SELECT no_such_column FROM orders", 10, TIMEOUT_S)
    reader.dispose()


@pytest.mark.postgres
def test_postgres_statements_run_as_the_reader_never_as_the_application(
    postgres_shop: WalledShop, postgres_app_shop: WalledShop
) -> None:
    for shop in (postgres_shop, postgres_app_shop):
        reader = readonly_engine(shop.url, timeout_s=TIMEOUT_S)
        assert run_readonly(reader, "SELECT current_user", 1).rows == [("winback_read_public",)]
        assert run_readonly(reader, "SELECT current_user", 1, personal_data=True).rows == [("winback_read_personal",)]
        with pytest.raises(QueryFailed, match="may not|permission"):
            run_readonly(reader, "SELECT set_config('role', current_setting('is_superuser'), true)", 1)
        with pytest.raises(QueryFailed):  # a read-only transaction, whatever the statement says
            run_readonly(reader, "SELECT 1 FROM orders; RESET ROLE; SELECT email FROM customers", 5)
        reader.dispose()


@pytest.mark.postgres
def test_postgres_without_reader_roles_refuses_free_sql_in_one_line(postgres_server: str) -> None:
    """An application role nobody made a member of the readers: free SQL is refused, not run as the app."""
    bare = "winback_app_bare"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": bare}).first() is None:
            connection.execute(text(f"CREATE ROLE {bare} LOGIN NOSUPERUSER PASSWORD 'bare-pw-1'"))
    admin.dispose()
    url = make_url(postgres_server).set(username=bare, password="bare-pw-1").render_as_string(hide_password=False)
    reader = readonly_engine(url, timeout_s=TIMEOUT_S)
    with pytest.raises(QueryFailed) as caught:
        run_readonly(reader, "SELECT 1", 1)
    assert "winback db create-reader" in str(caught.value) and "\n" not in str(caught.value)
    reader.dispose()


# a personal value compared by column name (NATURAL JOIN, JOIN ... USING): SQLite resolves those columns without
# asking its authorizer, so only their absence on the reader's connection keeps this from being an oracle
ORACLES = [
    "SELECT customer_id FROM customers NATURAL JOIN (SELECT {email} AS email) t ORDER BY customer_id",
    "SELECT count(*) FROM customers JOIN (SELECT {email} AS email) t USING (email)",
    "SELECT count(*) FROM customers NATURAL JOIN (SELECT {name} AS name) t",
    "SELECT count(*) FROM main.customers NATURAL JOIN (SELECT {email} AS email) t",
    "SELECT count(*) FROM offers JOIN (SELECT {subject} AS subject) t USING (subject)",
    "SELECT count(*) FROM chat_messages NATURAL JOIN (SELECT {chat} AS content) t",
]


def test_no_column_compared_by_name_tells_a_true_value_from_a_false_one(walled_shop: WalledShop) -> None:
    """On the engine alone (no first filter): each statement answers the same, or is refused the same, whether
    it tries a real personal value or a made-up one."""
    with walled_shop.engine.connect() as connection:
        name, email = connection.execute(text("SELECT name, email FROM customers ORDER BY customer_id")).first()
        subject = connection.execute(text("SELECT subject FROM offers WHERE offer_id = 'OF-secret'")).scalar_one()
        chat = connection.execute(text("SELECT content FROM chat_messages WHERE session_id = 'S-secret'")).scalar_one()
    true = {"email": email, "name": name, "subject": subject, "chat": chat}
    made_up = {"email": "nobody@nowhere.example", "name": "Nobody Atall", "subject": "Hello", "chat": "nothing"}
    reader = readonly_engine(walled_shop.url, timeout_s=TIMEOUT_S)

    def answer(statement: str, values: dict[str, str]) -> object:
        quoted = {key: "'" + value.replace("'", "''") + "'" for key, value in values.items()}
        try:
            return run_readonly(reader, statement.format(**quoted), 50, TIMEOUT_S, personal_data=False).rows
        except QueryFailed as exc:
            return f"refused: {exc}".replace(email, "?")

    try:
        for statement in ORACLES:
            assert answer(statement, true) == answer(statement, made_up), (walled_shop.kind, statement)
    finally:
        reader.dispose()


def test_hostile_statements_reveal_nothing_through_the_cli_and_the_tool(walled_shop: WalledShop, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """One statement of every class (and every column-by-name shape) as a person types it into `winback sql`
    and as the chat's SQL tool runs it: nothing personal in what either shows, on every engine."""
    from tests.cli_runner import invoke
    from winback.roles import Role
    from winback.tools import Services, ToolContext, default_registry
    from winback.tools.names import ToolName

    statements = [sqls[0] for group in (FINDINGS, MORE) for sqls in group.values()]
    statements += FINDINGS["S9 columns compared by name (issue 36)"][1:]
    env = {"WINBACK_DATABASE_URL": walled_shop.url, "WINBACK_DATA_DIR": str(tmp_path), "WINBACK_SQL_TIMEOUT_S": "2"}
    env["WINBACK_SQL_CALLS_PER_MINUTE"] = "10000"
    services, registry = Services(walled_shop.settings(data_dir=tmp_path)), default_registry()
    for role in ROLES_WITHOUT_PII:
        for statement in statements:
            cli = invoke(["sql", statement, "--role", role, "--json"], env)
            assert not leaked(walled_shop, cli.stdout + cli.stderr), (walled_shop.kind, role, statement)
            assert "Traceback" not in cli.stderr, cli.stderr[-500:]
            if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                call = registry.call(ToolName.SQL_QUESTION, {"question": statement}, ToolContext(services, Role(role)))
                shown = call.result.summary + call.result.text + str(call.result.data)
                assert not leaked(walled_shop, shown), (walled_shop.kind, role, statement, shown[:300])
