"""Files (S16, S17): a private data dir, a theme cache that cannot run code, spreadsheet-safe exports and a
rejects file that never follows a symlink."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from winback.data.db import make_engine
from winback.data.demo.seed import seed_demo
from winback.data.exporter import export_csv
from winback.data.importer import import_csv
from winback.data.migrate import upgrade
from winback.search import theme_cache
from winback.search.search import Snippet
from winback.search.themes import Theme, ThemeReport


def _mode(path: Path) -> str:
    return oct(path.stat().st_mode & 0o777)


def test_the_data_dir_and_database_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    env = {**os.environ, "WINBACK_DATA_DIR": str(data_dir), "WINBACK_CONFIG_FILE": str(tmp_path / "none.toml")}
    subprocess.run([sys.executable, "-m", "winback.cli", "db", "upgrade"], env=env, check=True, capture_output=True)
    assert _mode(data_dir) == "0o700" and _mode(data_dir / "winback.db") == "0o600"
    data_dir.chmod(0o755)  # loosened by hand: the next command tightens it again
    subprocess.run([sys.executable, "-m", "winback.cli", "db", "current"], env=env, check=True, capture_output=True)
    assert _mode(data_dir) == "0o700"


def test_the_offer_policy_is_created_private_and_a_bad_one_is_one_line(tmp_path: Path) -> None:
    from winback.offers.policy import PolicyError, load_policy

    data_dir = tmp_path / "d"
    load_policy(data_dir)
    assert _mode(data_dir / "offer_policy.toml") == "0o600"  # not the package file's 0644
    (data_dir / "offer_policy.toml").write_bytes("currency = 'EUR' # Prämie".encode("latin-1"))
    with pytest.raises(
        PolicyError, match="not saved as UTF-8 .the first unreadable character is on line 1, column 22"
    ) as raised:
        load_policy(data_dir)
    assert "\n" not in str(raised.value)


class _Collection:
    def count(self) -> int:
        return 3


def test_theme_cache_is_json_and_never_unpickles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snippet = Snippet("r1", "review", "R-1", "C-1", None, 2, "2026-10-01", 0.9, "late again")
    report = ThemeReport([Theme("late delivery", ["late"], 3, 1.0, {"2026-10": 3}, [snippet], 0.5, 3)], 3, 0.4, {})
    computed: list[int] = []

    def fake_themes(*_args: Any, **_kwargs: Any) -> ThemeReport:
        computed.append(1)
        return report

    monkeypatch.setattr(theme_cache, "complaint_themes", fake_themes)
    first_at, first = theme_cache.cached_themes(tmp_path, None, _Collection(), None, {})  # type: ignore[arg-type]
    files = list((tmp_path / "cache" / "themes").iterdir())
    assert [f.suffix for f in files] == [".json"] and _mode(files[0]) == "0o600"
    again_at, again = theme_cache.cached_themes(tmp_path, None, _Collection(), None, {})  # type: ignore[arg-type]
    assert computed == [1] and again == first and again_at == first_at and isinstance(again_at, datetime)
    files[0].write_bytes(b"\x80\x04cos\nsystem\n(S'touch pwned'\ntR.")  # a pickle that would run a command
    theme_cache.cached_themes(tmp_path, None, _Collection(), None, {})  # type: ignore[arg-type]
    assert computed == [1, 1] and not (tmp_path / "pwned").exists()  # unreadable as JSON: computed again


def test_export_is_lossless_by_default_and_spreadsheet_safe_on_request(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    upgrade(engine)
    seed_demo(engine, customers=20, seed=3)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            'UPDATE reviews SET title = \'=HYPERLINK("http://evil.example","ok")\' WHERE rowid = 1'
        )
        connection.exec_driver_sql("UPDATE customers SET city = '+1+cmd|'' /C calc''!A0' WHERE rowid = 1")
    export_csv(engine, tmp_path / "plain", ["reviews", "customers"])
    export_csv(engine, tmp_path / "safe", ["reviews", "customers"], spreadsheet=True)

    def cells(folder: str, table: str) -> list[str]:
        with (tmp_path / folder / f"{table}.csv").open(newline="") as f:
            return [c for row in csv.reader(f) for c in row]

    assert '=HYPERLINK("http://evil.example","ok")' in cells("plain", "reviews")  # lossless
    safe = cells("safe", "reviews") + cells("safe", "customers")
    assert '\'=HYPERLINK("http://evil.example","ok")' in safe and "'+1+cmd|' /C calc'!A0" in safe
    assert not [c for c in safe if c[:1] in ("=", "+", "@")]
    assert all(c.lstrip("-").replace(".", "").isdigit() for c in safe if c.startswith("-"))  # numbers untouched


def test_rejects_file_never_follows_a_symlink(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    upgrade(engine)
    source = tmp_path / "customers.csv"
    source.write_text(
        "customer_id,name,email,country,city,signup_at,segment,acquisition_channel,marketing_opt_in\n"
        "C-1,=cmd|' /C calc'!A0,a@example.com,FR,Paris,not-a-date,gold,web,true\n"
    )
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "customers.csv.rejects.csv").symlink_to(victim)
    report = import_csv(engine, "customers", source)
    assert report.rejected == 1 and victim.read_text() == "keep me"
    rejects = tmp_path / "customers.csv.rejects.csv"
    assert not rejects.is_symlink() and _mode(rejects) == "0o600"
    assert "'=cmd|' /C calc'!A0" in rejects.read_text()  # shown as text in a spreadsheet
