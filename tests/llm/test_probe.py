"""The capability probe decides what `auto` plans with: native tool calling only on a server that can."""

from __future__ import annotations

from winback.llm.probe import Capabilities, preferred_planner


def _caps(**fields: object) -> Capabilities:
    base: dict[str, object] = dict(
        base_url="http://gpu:8000/v1", model="m", backend="OpenAI-compatible server", reachable=True,
        context_length=32768, tool_calling=True, structured_output=True,
    )  # fmt: skip
    return Capabilities(**{**base, **fields})  # type: ignore[arg-type]


def test_auto_plans_with_tools_only_where_the_server_can() -> None:
    assert preferred_planner(_caps()) == "tools"  # a 7B model on a GPU server
    assert preferred_planner(_caps(context_length=4096)) == "router+llm"  # the embedded servers
    assert preferred_planner(_caps(tool_calling=False)) == "router"
    assert preferred_planner(_caps(structured_output=False)) == "router+llm"  # forced calls still work
    assert preferred_planner(_caps(reachable=False, context_length=None)) == "router"
