"""Per-test durations as data: every run writes them beside its junit report (or to test-artifacts/ when the run
has none), so `python -m bench.test_durations` can print the slowest tests and the time per folder, and a suite
that got slower shows in review. Works under pytest-xdist too: the reports reach the controller."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "test-artifacts" / "durations.json"


def durations_path(config: pytest.Config) -> Path:
    """`<junit stem>.durations.json` beside the junit report, else test-artifacts/durations.json."""
    xml = getattr(config.option, "xmlpath", None)
    if xml:
        path = Path(xml)
        return path.with_name(f"{path.stem}.durations.json")
    return DEFAULT


def plain_nodeid(nodeid: str) -> str:
    """The test's id without the "@group" that pytest-xdist appends to grouped tests under --dist loadgroup."""
    return nodeid.rsplit("@", 1)[0] if nodeid.rfind("@") > nodeid.rfind("]") else nodeid


class DurationRecorder:
    def __init__(self) -> None:
        self.started = time.time()
        self.tests: dict[str, dict[str, Any]] = {}

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        nodeid = plain_nodeid(report.nodeid)
        row = self.tests.setdefault(
            nodeid, {"nodeid": nodeid, "outcome": "passed", "setup_s": 0.0, "call_s": 0.0, "teardown_s": 0.0}
        )
        row[f"{report.when}_s"] = round(report.duration, 4)
        if report.when == "setup":  # where and when it ran: a worker's timeline shows a badly shared run
            row["worker"] = getattr(getattr(report, "node", None), "workerinput", {}).get("workerid", "main")
            row["started_s"] = round(report.start - self.started, 2)
        if report.failed:
            row["outcome"] = "failed" if report.when == "call" else "error"
        elif report.skipped and report.when != "teardown":
            row["outcome"] = "skipped"

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.tests:
            return
        path = durations_path(session.config)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(self.started)),
            "wall_s": round(time.time() - self.started, 1),
            "workers": session.config.getoption("numprocesses", None) or 0,
            "markexpr": session.config.option.markexpr,
            "tests": sorted(self.tests.values(), key=lambda row: row["nodeid"]),
        }
        path.write_text(json.dumps(payload, indent=1) + "\n")


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the xdist controller (or a plain run) writes the file
        config.pluginmanager.register(DurationRecorder(), "winback-durations")
