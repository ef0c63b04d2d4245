"""Where the `winback ask` daemon's socket lives: in the data folder, or, where that path is longer than a Unix
socket's address can hold, in a private folder of this user's under the temp folder (never one another user
could have made)."""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from winback.cli.daemon import SOCKET_PATH_MAX, run_dir, socket_folder, socket_path
from winback.config import Settings
from winback.errors import UserError


@pytest.fixture
def temp_folder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short temp folder of the test's own (the test run's own may be deep)."""
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        monkeypatch.setattr(tempfile, "tempdir", folder)
        yield Path(folder)


def test_a_short_data_folder_keeps_its_socket() -> None:
    settings = Settings(data_dir=Path("/srv/shop"))
    assert socket_path(settings) == Path("/srv/shop/run/ask.sock")


def test_a_deep_data_folder_gets_a_short_private_socket(tmp_path: Path, temp_folder: Path) -> None:
    deep = tmp_path / ("a-long-folder-name-" * 6) / "shop"
    settings = Settings(data_dir=deep)
    assert len(os.fsencode(run_dir(settings) / "ask.sock")) > SOCKET_PATH_MAX  # would not bind
    path = socket_path(settings)
    assert len(os.fsencode(path)) <= SOCKET_PATH_MAX and path.parent.parent == temp_folder
    assert socket_path(Settings(data_dir=deep.parent / "other")) != path  # one per data folder
    folder = socket_folder(settings)
    assert folder.stat().st_mode & 0o777 == 0o700
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))  # the address fits


def test_a_shared_folder_others_may_enter_is_refused(tmp_path: Path, temp_folder: Path) -> None:
    settings = Settings(data_dir=tmp_path / ("a-long-folder-name-" * 6) / "shop")
    folder = socket_path(settings).parent
    folder.mkdir(mode=0o700)
    folder.chmod(0o777)  # as if another user had made it open to all
    with pytest.raises(UserError, match="not a private folder"):
        socket_folder(settings)
    folder.rmdir()
    folder.symlink_to(tmp_path)  # or put a link there
    with pytest.raises(UserError, match="not a private folder"):
        socket_folder(settings)
