"""Users of the web UI: scrypt hashes only, a first admin once, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from winback.roles import Role
from winback.ui.users import UserStore, UserStoreError


def test_users_are_stored_hashed_and_checked(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "users.toml")
    first = store.ensure_admin()
    assert first and store.ensure_admin() is None  # created once, password shown once
    assert store.authenticate("admin", first).role == Role.ADMIN
    store.add("carol", "cs_staff", "a-long-password")
    text = (tmp_path / "users.toml").read_text()
    assert "a-long-password" not in text and first not in text and "scrypt$" in text
    assert store.authenticate("carol", "a-long-password").role == Role.CS_STAFF
    assert store.authenticate("carol", "wrong-password") is None and store.authenticate("nobody", "x") is None
    assert oct((tmp_path / "users.toml").stat().st_mode & 0o777) == "0o600"
    with pytest.raises(UserStoreError, match="exists"):
        store.add("carol", "manager", "another-password")
    with pytest.raises(UserStoreError, match="at least 10"):
        store.add("dan", "manager", "short")
    with pytest.raises(UserStoreError, match="invalid user name"):
        store.add("d an", "manager", "long-enough-pw")
    with pytest.raises(Exception, match="unknown role"):
        store.add("dan", "boss", "long-enough-pw")
    store.remove("carol")
    assert set(store.users()) == {"admin"}
