"""How scripts/test and scripts/check share the tests between their pytest-xdist workers (`-n 2 --dist
loadgroup`): every test file goes to one worker as a whole (its module fixtures are built once), tests that
share a server go to one worker together (the `llm` group: one vLLM server per run; the `ui` group: one UI
server), and the longest units start first, so the run does not end waiting on one late, long file.

"Longest" comes from the durations the last run wrote (tests/durations.py); without them (a fresh clone),
the server groups go first and the files follow in collection order.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from _pytest.nodeid import NodeId
from xdist.remote import Producer
from xdist.scheduler import LoadScopeScheduling

from tests.durations import durations_path, plain_nodeid

SERVER_GROUPS = {"llm": "llm", "browser": "ui"}  # marker -> xdist group


@pytest.hookimpl(trylast=True)  # after -m, -k and --deselect have chosen the tests by their plain ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a worker of `--dist loadgroup`: tests marked llm (browser) share the run's one LLM (UI) server, so
    their ids get the group's "@llm" ("@ui") suffix the scheduler reads. (pytest-xdist 3.8 appends the
    suffix of an `xdist_group` mark by setting `item._nodeid`, which pytest 9.2's structured ids no longer
    read: its groups silently fall apart. This sets the id pytest 9.2 reads.)"""
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        group = next((g for marker, g in SERVER_GROUPS.items() if item.get_closest_marker(marker)), None)
        if group and not item.nodeid.endswith(f"@{group}"):
            item._id = NodeId.parse(f"{item.nodeid}@{group}")  # type: ignore[attr-defined]


def previous_durations(path: Path) -> dict[str, float]:
    """Seconds per test (setup + call + teardown) in the run that wrote `path`; empty without one."""
    try:
        rows = json.loads(path.read_text())["tests"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {row["nodeid"]: row["setup_s"] + row["call_s"] + row["teardown_s"] for row in rows}


class FileOrGroupScheduling(LoadScopeScheduling):
    """loadgroup's scheduling with a test file, rather than a single test, as the unit of an ungrouped test,
    and the units ordered longest first."""

    def __init__(self, config: pytest.Config, durations: dict[str, float], log: Producer | None = None) -> None:
        super().__init__(config, log)
        self.durations = durations

    def _split_scope(self, nodeid: str) -> str:
        plain = plain_nodeid(nodeid)
        if plain != nodeid:  # the group xdist appended ("...::test_x@llm") is the unit
            return nodeid[len(plain) :]
        return nodeid.split("::", 1)[0]

    def schedule(self) -> None:
        """LoadScopeScheduling.schedule with the work queue ordered longest first."""
        assert self.collection_is_completed
        if self.collection is not None:
            for node in self.nodes:
                self._reschedule(node)
            return
        if not self._check_nodes_have_same_collection():
            self.log("**Different tests collected, aborting run**")
            return
        self.collection = list(next(iter(self.registered_collections.values())))
        if not self.collection:
            return
        units: dict[str, dict[str, bool]] = {}
        seconds: dict[str, float] = defaultdict(float)
        for nodeid in self.collection:
            scope = self._split_scope(nodeid)
            units.setdefault(scope, {})[nodeid] = False
            seconds[scope] += self.durations.get(plain_nodeid(nodeid), 0.0)
        position = {scope: n for n, scope in enumerate(units)}
        for scope in sorted(units, key=lambda s: (-seconds[s], not s.startswith("@"), position[s])):
            self.workqueue[scope] = units[scope]
        for _ in range(max(0, len(self.nodes) - len(self.workqueue))):
            unused, _assigned = self.assigned_work.popitem()
            unused.shutdown()
        for node in self.nodes:
            self._assign_work_unit(node)
        for node in self.nodes:
            self._reschedule(node)
        if not self.workqueue:
            for node in self.nodes:
                node.shutdown()


def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> FileOrGroupScheduling | None:
    if config.getvalue("dist") != "loadgroup":
        return None
    return FileOrGroupScheduling(config, previous_durations(durations_path(config)), log)
