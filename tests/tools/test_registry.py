"""The registry is the one door: roles, validation, errors as values, timing, e-mail redaction."""

from __future__ import annotations

from pydantic import BaseModel

from winback.config import Settings
from winback.roles import Role
from winback.tools import Services, Tool, ToolContext, ToolRegistry, ToolResult, default_registry


class EchoArgs(BaseModel):
    text: str
    times: int = 1


def _echo(args: EchoArgs, ctx: ToolContext) -> ToolResult:
    if args.times > 3:
        raise RuntimeError("boom")
    return ToolResult(True, "echoed", args.text * args.times, {"raw": args.text})


def test_roles_validation_errors_and_redaction(tmp_path) -> None:
    registry = ToolRegistry.of(
        [Tool("echo", "Echo text.", EchoArgs, _echo, roles=frozenset({Role.MANAGER, Role.CS_STAFF}))]
    )
    services = Services(Settings(data_dir=tmp_path))
    staff, agent = ToolContext(services, Role.CS_STAFF), ToolContext(services, Role.SUPPORT_AGENT)
    masked = registry.call("echo", {"text": "write to ann.lee@example.com "}, staff)
    assert masked.ok and "ann.lee@example.com" not in masked.result.text + str(masked.result.data)
    assert "a•••@e•••.com" in masked.result.text and masked.seconds >= 0
    assert not registry.call("echo", {"text": "x"}, agent).ok  # role not allowed
    assert "may not use echo" in registry.call("echo", {"text": "x"}, agent).result.summary
    invalid = registry.call("echo", {"times": "many"}, staff)
    assert not invalid.ok and "text: Field required" in invalid.result.text and "times" in invalid.result.text
    crashed = registry.call("echo", {"text": "x", "times": 9}, staff)
    assert not crashed.ok and "failed unexpectedly (RuntimeError)" in crashed.result.text
    assert "no tool called 'nope'" in registry.call("nope", {}, staff).result.text


def test_default_tools_and_permissions() -> None:
    registry = default_registry()
    assert len(registry.tools) >= 11 and all(
        t.description and len(t.description) < 160 for t in registry.tools.values()
    )
    sql, draft = registry["run_sql_question"], registry["draft_offer"]
    assert Role.CS_STAFF not in sql.roles and Role.SUPPORT_AGENT not in sql.roles and Role.MANAGER in sql.roles
    assert Role.MANAGER not in draft.roles and Role.SUPPORT_AGENT in draft.roles
