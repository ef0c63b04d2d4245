"""The web UI as users see it: `winback serve` in its own process on 127.0.0.1 over a copy of the small
scored shop, with four users, and Debian's chromium driven by Playwright (never a downloaded browser). One UI
server serves every browser test of a run (their tests leave state a later test does not depend on: the
lock-out test locks a user of its own)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _free_port, running_server
from winback.ui.users import UserStore

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORDS = {
    "sam": "sam-password-1",
    "carol": "carol-password-1",
    "maria": "maria-password-1",
    "lucas": "lucas-password-1",  # cs staff, locked out by the lock-out test (nobody else signs in as him)
}
USERS = {"sam": "support_agent", "carol": "cs_staff", "maria": "manager", "lucas": "cs_staff"}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def ui_server(scored_shop: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(base URL, data dir) of the run's UI; users sam (support agent), carol and lucas (cs staff), maria
    (manager)."""
    data_dir = tmp_path_factory.mktemp("ui") / "shop"
    shutil.copytree(scored_shop, data_dir)
    store = UserStore(data_dir / "users.toml")
    for name, role in USERS.items():
        store.add(name, role, PASSWORDS[name])
    port = _free_port()
    env = {
        **os.environ,
        "WINBACK_DATA_DIR": str(data_dir),
        "WINBACK_LLM_PORT": "9",
        "WINBACK_ASSISTANT_PLANNER": "router",
    }
    url = f"http://127.0.0.1:{port}"
    with running_server(
        [sys.executable, "-m", "winback.cli", "serve", "--port", str(port)],
        url,
        data_dir / "serve.log",
        "the UI",
        timeout_s=120,
        env=env,
    ):
        yield url, data_dir


@pytest.fixture
def browser_page(request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh chromium profile and page; a screenshot lands in test-artifacts/ when the test fails."""
    if not Path(CHROMIUM).is_file():
        pytest.fail("Debian's chromium is missing: scripts/test installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=FLAGS, headless=True, viewport={"width": 1400, "height": 1000}
        )
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(60_000)
        yield page
        outcome = getattr(request.node, "rep_call", None)
        if outcome is not None and outcome.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            for number, open_page in enumerate(context.pages):
                open_page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{number}.png"), full_page=True)
        context.close()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
