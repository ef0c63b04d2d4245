"""Each tool's name is defined once (winback.tools.names) and the registry holds exactly those tools."""

from __future__ import annotations

from winback.tools import default_registry
from winback.tools.names import ToolName


def test_the_registry_holds_one_tool_per_name() -> None:
    registry = default_registry()
    assert sorted(registry.tools) == sorted(ToolName)
    assert all(isinstance(tool.name, ToolName) for tool in registry.tools.values())
