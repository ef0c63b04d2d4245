"""CSV import: every bad row reported by line and reason, every good row kept, nothing else touched."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.cli_runner import invoke
from winback.data.demo.seed import seed_demo
from winback.data.exporter import export_csv
from winback.data.fingerprint import database_fingerprint
from winback.data.importer import ImportFileError, import_csv
from winback.data.schema import CONTRACT_TABLES, Customer, Order, Review

ORDER_HEADER = (
    "order_id,customer_id,ordered_at,status,total_amount,discount_amount,promised_delivery_at,delivered_at,channel"
)


@pytest.fixture
def small_shop(engine: Engine) -> Engine:
    seed_demo(engine, customers=30, seed=5)
    return engine


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _order_ids(engine: Engine) -> set[str]:
    with engine.connect() as c:
        return set(c.scalars(select(Order.order_id)))


def test_bad_orders_are_rejected_by_line_and_reason_and_good_ones_kept(small_shop: Engine, tmp_path: Path) -> None:
    before = database_fingerprint(small_shop)
    orders_before = _order_ids(small_shop)
    existing = sorted(orders_before)[0]
    path = _write(
        tmp_path / "orders.csv",
        [
            ORDER_HEADER,
            "N-1,C-1000,2026-01-05 10:00:00,delivered,59.90,0,2026-01-08 12:00:00,2026-01-08 09:00:00,web",  # 2 good
            "N-2,C-1001,2026-01-06T11:30:00,shipped,12.50,2.50,2026-01-09 12:00:00,,app",  # 3 good
            "N-3,C-1002,2026-01-07 09:00:00,delivered,20.00,0,2026-01-10 12:00:00",  # 4 missing column
            "N-4,C-1003,31/02/2026,delivered,20.00,0,2026-01-10 12:00:00,,web",  # 5 unparsable date
            "N-2,C-1004,2026-01-08 09:00:00,placed,5.00,0,,,web",  # 6 duplicate of line 3
            f"{existing},C-1005,2026-01-08 09:00:00,placed,5.00,0,,,web",  # 7 duplicate of a row in the database
            "N-5,C-999999,2026-01-08 09:00:00,placed,5.00,0,,,web",  # 8 unknown customer
            "N-6,C-1006,2026-01-08 09:00:00,lost,-5.00,0,,,web",  # 9 bad status and negative amount
            "N-7,,2026-01-09 09:00:00,placed,5.00,0,,,web",  # 10 missing required value
            '"N-8",C-1007,"2026-01-10 08:00:00",cancelled,"1,234.50",0,,,"marketplace"',  # 11 good (quoted, thousands)
        ],
    )
    report = import_csv(small_shop, "orders", path, batch_size=4)  # several batches: duplicates cross them
    reasons = {r.line: r.reason for r in report.rejections}
    assert sorted(reasons) == [4, 5, 6, 7, 8, 9, 10]
    assert "expected 9 fields, found 7" in reasons[4]
    assert "unparsable date '31/02/2026'" in reasons[5]
    assert "duplicate key order_id=N-2: same as line 3" in reasons[6] or "already in the database" in reasons[6]
    assert f"duplicate key order_id={existing}: already in the database" in reasons[7]
    assert "customer_id 'C-999999' does not exist in customers" in reasons[8]
    assert "'lost' is not one of" in reasons[9] and "-5.00 is outside >= 0" in reasons[9]
    assert "missing value for required column customer_id" in reasons[10]
    assert report.rows_read == 10 and report.rows_inserted == 3 and report.rejected == 7 and not report.ok

    assert _order_ids(small_shop) == orders_before | {"N-1", "N-2", "N-8"}
    with small_shop.connect() as c:
        n8 = c.execute(select(Order.total_amount, Order.status)).all()
        assert any(str(t) == "1234.50" and s == "cancelled" for t, s in n8)
    after = database_fingerprint(small_shop)
    assert {k: v for k, v in after.items() if k not in ("orders", "*")} == {
        k: v for k, v in before.items() if k not in ("orders", "*")
    }

    with report.rejects_path.open(newline="") as f:
        rejects = list(csv.reader(f))
    assert rejects[0][:2] == ["line", "reason"] and rejects[0][2:] == ORDER_HEADER.split(",")
    assert [int(r[0]) for r in rejects[1:]] == [4, 5, 6, 7, 8, 9, 10]
    assert rejects[2][2:] == [
        "N-4",
        "C-1003",
        "31/02/2026",
        "delivered",
        "20.00",
        "0",
        "2026-01-10 12:00:00",
        "",
        "web",
    ]


def test_rating_of_7_and_unknown_order_in_reviews(small_shop: Engine, tmp_path: Path) -> None:
    with small_shop.connect() as c:
        reviews_before = c.execute(select(Review.review_id)).scalars().all()
    path = _write(
        tmp_path / "reviews.csv",
        [
            "review_id,customer_id,order_id,rating,title,body,created_at",
            'X-1,C-1000,,5,Great,"Lovely, soft and\nwarm.",2026-02-01 10:00:00',  # 2-3 good, multi-line body
            "X-2,C-1000,,7,Wow,Too good,2026-02-01 10:00:00",  # 4 rating 7
            "X-3,C-1001,O-404,2,Late,Never came,2026-02-02 10:00:00",  # 5 unknown order
            "X-4,C-1001,,4.5,Nice,ok,2026-02-02 10:00:00",  # 6 not a whole number
            "X-5,C-1002,,3,,,2026-02-03 10:00:00",  # 7 good: empty title and body are values
        ],
    )
    report = import_csv(small_shop, "reviews", path)
    reasons = {r.line: r.reason for r in report.rejections}
    assert reasons == {
        4: "rating: 7 is outside 1..5",
        5: "order_id 'O-404' does not exist in orders",
        6: "rating: '4.5' is not a whole number",
    }
    with small_shop.connect() as c:
        rows = {r.review_id: r for r in c.execute(select(Review.__table__))}
    assert set(rows) == set(reviews_before) | {"X-1", "X-5"}
    assert rows["X-1"].body == "Lovely, soft and\nwarm." and rows["X-5"].title == ""


def test_file_level_problems_write_nothing(small_shop: Engine, tmp_path: Path) -> None:
    before = database_fingerprint(small_shop)
    missing = _write(tmp_path / "c.csv", ["customer_id,name", "C-1,Ann"])
    with pytest.raises(ImportFileError, match="needs column\\(s\\) email, country"):
        import_csv(small_shop, "customers", missing)
    with pytest.raises(ImportFileError, match="unknown table 'clients'"):
        import_csv(small_shop, "clients", missing)
    with pytest.raises(ImportFileError, match="no such file"):
        import_csv(small_shop, "customers", tmp_path / "nope.csv")
    latin = tmp_path / "latin.csv"
    latin.write_bytes(ORDER_HEADER.encode() + b"\nN-1,C-1000,2026-01-05,delivered,1,0,,,caf\xe9\n")
    with pytest.raises(ImportFileError, match="not valid utf-8-sig text"):
        import_csv(small_shop, "orders", latin)
    assert database_fingerprint(small_shop) == before


def test_all_or_nothing_rolls_back_the_whole_file(small_shop: Engine, tmp_path: Path) -> None:
    before = database_fingerprint(small_shop)
    path = _write(
        tmp_path / "o.csv",
        [ORDER_HEADER]
        + [f"A-{i},C-1000,2026-03-01 10:00:00,placed,10,0,,,web" for i in range(12)]
        + ["A-x,C-1000,yesterday,placed,10,0,,,web"],
    )
    report = import_csv(small_shop, "orders", path, batch_size=5, all_or_nothing=True)
    assert report.rolled_back and report.rows_inserted == 0 and report.rejected == 1
    assert database_fingerprint(small_shop) == before


def test_mapping_renames_their_columns_and_extra_columns_are_ignored(engine: Engine, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "shopify_customers.csv",
        [
            "Customer ID,Full Name,E-mail,Country,City,Created,Tier,Source,Accepts Marketing,Notes",
            "S-1,Ann Lee,ann@example.com,France,Lyon,2024-05-01,gold,referral,yes,likes scarves",
            "S-2,Bo Kim,bo@example.com,Germany,Berlin,2024-06-11T08:00:00+02:00,silver,social,no,",
        ],
    )
    mapping = {
        "Customer ID": "customer_id",
        "Full Name": "name",
        "E-mail": "email",
        "Country": "country",
        "City": "city",
        "Created": "signup_at",
        "Tier": "segment",
        "Source": "acquisition_channel",
        "Accepts Marketing": "marketing_opt_in",
    }
    report = import_csv(engine, "customers", path, mapping=mapping)
    assert report.ok and report.rows_inserted == 2 and report.ignored_columns == ["Notes"]
    with engine.connect() as c:
        rows = c.execute(select(Customer.__table__)).all()
    by_id = {r.customer_id: r for r in rows}
    assert by_id["S-1"].marketing_opt_in is True
    assert str(by_id["S-2"].signup_at) == "2024-06-11 06:00:00"  # converted to UTC


def test_export_then_import_reproduces_the_content_hash(engine: Engine, tmp_path: Path, sqlite_url: str) -> None:
    """Acceptance: the demo shop exported to CSV and imported into an empty database hashes the same."""
    from winback.data.db import make_engine
    from winback.data.migrate import upgrade

    seed_demo(engine, customers=300, seed=9)
    export_csv(engine, tmp_path / "export")
    target = make_engine(f"sqlite:///{tmp_path / 'target.db'}")
    upgrade(target)
    for table in CONTRACT_TABLES:
        report = import_csv(target, table, tmp_path / "export" / f"{table}.csv", batch_size=700)
        assert report.ok, report.rejections[:3]
    assert database_fingerprint(target, CONTRACT_TABLES) == database_fingerprint(engine, CONTRACT_TABLES)


def test_cli_reports_rejects_and_exits_non_zero(sqlite_url: str, tmp_path: Path) -> None:
    env = {"WINBACK_DATABASE_URL": sqlite_url}
    assert invoke(["db", "upgrade"], env).returncode == 0
    path = _write(
        tmp_path / "customers.csv",
        [
            "customer_id,name,email,country,city,signup_at,segment,acquisition_channel,marketing_opt_in",
            "K-1,Ann,a@x.org,France,Paris,2024-01-01,gold,email,true",
            "K-2,Bob,b@x.org,France,Paris,2024-13-01,gold,email,true",
            "K-1,Ann again,a2@x.org,France,Paris,2024-01-01,gold,email,maybe",
        ],
    )
    result = invoke(["import", "csv", "customers", str(path)], env)
    assert result.returncode == 1
    assert "line 3: signup_at: unparsable date '2024-13-01'" in result.stderr
    assert "line 4: marketing_opt_in: 'maybe' is not a yes/no value" in result.stderr
    assert "1 of 3 rows imported into customers" in result.stdout
    assert "Traceback" not in result.stderr
    header_only = _write(tmp_path / "bad.csv", ["id,name", "1,x"])
    result = invoke(["import", "csv", "customers", str(header_only)], env)
    assert result.returncode == 2 and result.stderr.startswith("error: customers needs column(s)")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_review_of_someone_elses_order_is_rejected(small_shop: Engine, tmp_path: Path) -> None:
    with small_shop.connect() as c:
        order_id, owner = c.execute(select(Order.order_id, Order.customer_id).order_by(Order.order_id)).first()
    other = "C-1029" if owner != "C-1029" else "C-1028"
    path = _write(
        tmp_path / "r.csv",
        [
            "review_id,customer_id,order_id,rating,title,body,created_at",
            f"Y-1,{owner},{order_id},4,ok,fine,2026-02-01",
            f"Y-2,{other},{order_id},1,bad,awful,2026-02-01",
        ],
    )
    report = import_csv(small_shop, "reviews", path)
    assert [(r.line, r.reason) for r in report.rejections] == [
        (3, f"order_id {order_id!r} belongs to customer_id {owner!r}, not {other!r}")
    ]
    assert report.rows_inserted == 1


def test_line_breaks_and_control_characters_are_refused_where_one_line_is_expected(
    engine: Engine, tmp_path: Path
) -> None:
    """A name, an address or any one-line field with a CR/LF or a control character would become a mail
    header or a broken line later: refused by line and reason; long text keeps its line breaks."""
    header = "customer_id,name,email,country,city,signup_at,segment,acquisition_channel,marketing_opt_in"
    path = _write(
        tmp_path / "customers.csv",
        [
            header,
            "K-1,Ann Lee,ann@example.com,France,Lyon,2024-05-01,gold,referral,yes",  # 2 good
            '"K-2","Bo\r\nBcc: x@evil.example",bo@example.com,France,Lyon,2024-05-01,gold,referral,yes',  # 3
            "K-3,Cy Dee,cy@@example.com,France,Lyon,2024-05-01,gold,referral,yes",  # 4
            "K-4,Di Eve,di@exa mple.com,France,Lyon,2024-05-01,gold,referral,yes",  # 5 never "repaired"
            "K-5,Ed\x07Fox,ed@example.com,France,Lyon,2024-05-01,gold,referral,yes",  # 6 a bell
            '"K-6",Flo Gu,"flo@example.com\nBcc: x@evil.example",France,Lyon,2024-05-01,gold,referral,yes',  # 7-8
            "K-7,Gil Ho,gil@example.com,Fr\u2028ance,Lyon,2024-05-01,gold,referral,yes",  # 9 a line separator
        ],
    )
    report = import_csv(engine, "customers", path)
    reasons = {r.line: r.reason for r in report.rejections}
    assert reasons == {
        3: "name: contains a hidden line break (U+000D)",  # a record over lines 3-4
        5: "email: not a valid e-mail address (expected one address, like name@example.com)",
        6: "email: not a valid e-mail address (the part after @ is not a domain name)",
        7: "name: contains a hidden control character (U+0007)",
        8: "email: the e-mail address contains a hidden line break (U+000A)",  # lines 8-9
        10: "country: contains a hidden line break (U+2028)",
    }, reasons
    with engine.connect() as c:
        assert c.scalars(select(Customer.customer_id)).all() == ["K-1"]
