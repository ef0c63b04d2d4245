"""The offer policy answers for one segment when asked ("the most we can give bronze customers"): the
segment's caps applied, and an unknown segment is an error, not the uncapped policy."""

from __future__ import annotations

from sqlalchemy import Engine

from winback.config import Settings
from winback.roles import Role
from winback.tools import Services, ToolContext, default_registry
from winback.tools.names import ToolName


def test_the_policy_for_one_segment_applies_its_caps(shop: tuple[Engine, Settings]) -> None:
    _, settings = shop
    services, registry = Services(settings), default_registry()
    ctx = ToolContext(services, Role.SUPPORT_AGENT, "sam")
    bronze = registry.call(ToolName.OFFER_POLICY, {"segment": "Bronze", "requested_percent": 12}, ctx)
    first = bronze.result.text.split("\n")[0]
    assert bronze.ok and first.startswith("**12 % off is not allowed**") and "(bronze 10 %)" in first, first
    assert "for bronze customers" in bronze.result.text
    rows = {row[0]: row[1] for row in bronze.result.data["table"]["rows"]}
    assert rows["percent_discount"] == 10  # the policy's 15 %, lowered to the bronze cap
    whole = registry.call(ToolName.OFFER_POLICY, {"requested_percent": 12}, ctx)
    assert whole.result.text.startswith("**12 % off is within the policy**") and "platinum" in whole.result.text
    unknown = registry.call(ToolName.OFFER_POLICY, {"segment": "diamond"}, ctx)
    assert not unknown.ok and "no customers with segment 'diamond'" in unknown.result.summary
