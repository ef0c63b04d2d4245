"""Shared fixtures: fresh SQLite files and PostgreSQL databases (clones of template databases where a test
needs a migrated or seeded one: tests/database_templates.py), and the servers the tests share.

The PostgreSQL server comes from scripts/postgres.sh (Debian's package, 127.0.0.1 only): scripts/test starts
one for the whole run and passes it in WINBACK_TEST_POSTGRES_URL (set it yourself to use an existing server);
without it each test session (each pytest-xdist worker) starts its own and stops it at the end. Each test
still gets a database of its own, created and dropped around it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests import THREAD_CAPS, database_templates
from tests.database_templates import Build, CloneDatabase
from winback.config import get_settings
from winback.data.db import make_engine
from winback.data.migrate import upgrade

pytest_plugins = ["tests.durations", "tests.xdist_scheduling"]
ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_llm_port() -> int:
    """A base `llm_port` whose model ports (base, base + 1: one per embedded model) are both free."""
    while True:
        base = _free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", base + 1))
            except OSError:
                continue
        return base


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a PostgreSQL server (maintenance database) for this test session."""
    given = os.environ.get("WINBACK_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    directory = Path(tempfile.mkdtemp(prefix="winback-pg-"))
    script = ROOT / "scripts" / "postgres.sh"
    started = subprocess.run(
        [str(script), "start", str(directory), str(_free_port())], capture_output=True, text=True, timeout=600
    )
    if started.returncode != 0:
        subprocess.run([str(script), "stop", str(directory)], capture_output=True)
        pytest.fail(f"could not start PostgreSQL: {started.stderr.strip()[-2000:]}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(script), "stop", str(directory)], capture_output=True, timeout=120)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    url = database_templates.create(postgres_server)
    try:
        yield url
    finally:
        database_templates.drop(postgres_server, url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'winback.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_kind(request: pytest.FixtureRequest) -> str:
    """Each data test runs on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def database_url(database_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of the test's kind (nothing migrated)."""
    if database_kind == "sqlite":
        return f"sqlite:///{tmp_path / 'winback.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def clone_database(
    database_kind: str, request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> CloneDatabase:
    """`clone(name, build)`: the URL of a new database of the test's kind holding what `build(engine)` put into
    the template database `name`, which is built once per test run (per PostgreSQL server: a template
    database cloned with CREATE DATABASE ... TEMPLATE; on SQLite: a file copied)."""

    def clone(name: str, build: Build) -> str:
        if database_kind == "sqlite":
            target = tmp_path / f"{name}.db"
            shutil.copyfile(database_templates.sqlite(tmp_path_factory, name, build), target)
            return f"sqlite:///{target}"
        server = request.getfixturevalue("postgres_server")
        url = database_templates.postgres_clone(server, name, build)
        request.addfinalizer(lambda: database_templates.drop(server, url))
        return url

    return clone


@pytest.fixture
def engine(clone_database: CloneDatabase) -> Iterator[Engine]:
    """A migrated, empty database (a clone of one migrated once per run; upgrading it again finds it at head)."""
    eng = make_engine(clone_database("migrated", upgrade))
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test sees the developer's WINBACK_* variables or winback.toml."""
    for key in list(os.environ):
        if key.startswith("WINBACK_") and key != "WINBACK_TEST_POSTGRES_URL":
            monkeypatch.delenv(key)
    monkeypatch.setenv("WINBACK_CONFIG_FILE", str(tmp_path / "no-such-winback.toml"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@contextmanager
def running_server(
    command: list[str],
    ready_url: str,
    log_path: Path,
    what: str,
    timeout_s: float = 90,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen]:
    """Start `command` (output to `log_path`), wait until `ready_url` answers, stop it afterwards; a server
    that exits or never answers fails the test with the end of its log."""
    import time
    import urllib.request

    log = log_path.open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                urllib.request.urlopen(ready_url, timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{what} did not start: {log_path.read_text()[-2000:]}")
                time.sleep(0.3)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server (`chroma run` from the chromadb package) on 127.0.0.1, stopped after the session."""
    import sys

    port = _free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    chroma = Path(sys.executable).parent / "chroma"
    url = f"http://127.0.0.1:{port}"
    command = [str(chroma), "run", "--path", str(path / "data"), "--host", "127.0.0.1", "--port", str(port)]
    with running_server(command, f"{url}/api/v2/heartbeat", path / "server.log", "Chroma server"):
        yield url


@contextmanager
def _without_thread_caps() -> Iterator[None]:
    """The process environment without the per-worker thread caps of tests/__init__.py, for a child process."""
    for name in THREAD_CAPS:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        os.environ.update(THREAD_CAPS)


@pytest.fixture(scope="session")
def llm_server() -> Iterator[tuple[Path, int]]:
    """The embedded vLLM server of the default tasks' model: (data dir holding the converted models, base
    `llm_port` to set in Settings).

    The converted models are cached in .cache/llm (WINBACK_TEST_LLM_CACHE) across runs; the server runs
    from .venv-llm (scripts/setup_llm, which scripts/test runs) on free ports and stops after the session.
    """
    from winback.config import Settings
    from winback.llm.client import task_model
    from winback.llm.model_files import prepare_model
    from winback.llm.server import start_server, stop_server

    cache = Path(os.environ.get("WINBACK_TEST_LLM_CACHE", ROOT / ".cache" / "llm"))
    venv = ROOT / ".venv-llm"
    if not (venv / "bin" / "python").is_file():
        pytest.fail("the LLM server environment is missing: run scripts/setup_llm (scripts/test does)")
    settings = Settings(data_dir=cache, llm_port=free_llm_port(), llm_venv=venv)
    model = task_model(settings, "draft")
    prepare_model(cache, model)
    with _without_thread_caps():  # the server sizes its own thread pool, as in production
        start_server(settings, model)
    try:
        yield cache, settings.llm_port
    finally:
        stop_server(settings)


from tests.shop_fixtures import scored_shop, shop_dir, shop_settings  # noqa: E402,F401 - shared fixtures
