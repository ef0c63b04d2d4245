"""The campaign tools through the registry: who may start one, what a report says before and after its
window, and that the chat's campaign drafts are the creator's (so someone else approves them)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from tests.offers.conftest import demo_shop_factory, scored_demo_template
from winback.config import Settings
from winback.data.demo.advance import advance_demo
from winback.data.schema import Offer
from winback.offers.campaigns import approve_campaign
from winback.offers.channels import OutboxChannel
from winback.offers.policy import load_policy
from winback.offers.sending import send_campaign
from winback.roles import Role
from winback.tools import Services, ToolContext, default_registry
from winback.tools.names import ToolName

__all__ = ["demo_shop_factory", "scored_demo_template"]


def test_only_managers_and_admins_start_campaigns_and_everyone_reads_reports(
    demo_shop_factory: Callable[[], Settings],
) -> None:
    settings = demo_shop_factory()
    services, registry = Services(settings), default_registry()
    args = {"top": 100, "segment": "gold", "risk_bands": ["critical", "high"]}
    for role in (Role.CS_STAFF, Role.SUPPORT_AGENT):
        refused = registry.call(ToolName.START_CAMPAIGN, args, ToolContext(services, role, "sam"))
        assert not refused.ok and "may not use start_campaign" in refused.result.summary
    started = registry.call(ToolName.START_CAMPAIGN, args, ToolContext(services, Role.MANAGER, "mia"))
    assert started.ok, started.result.text
    name = started.result.data["campaign"]
    assert name.startswith("critical-high-gold-") and "held out at random" in started.result.text
    with services.engine.connect() as connection:
        drafters = set(connection.scalars(select(Offer.created_by)))
    assert drafters == {"mia"}  # her drafts: another approver decides them
    assert approve_campaign(services.engine, load_policy(settings.data_dir), name, "mia", "manager").approved == 0
    approve_campaign(services.engine, load_policy(settings.data_dir), name, "max", "manager")

    staff = ToolContext(services, Role.CS_STAFF, "sam")
    unsent = registry.call(ToolName.CAMPAIGN_REPORT, {}, staff)
    assert unsent.ok and "nothing sent yet" in unsent.result.text and unsent.result.data["chart"] is None
    send_campaign(
        services.engine, settings, load_policy(settings.data_dir), name, OutboxChannel(settings.data_dir / "o")
    )
    advance_demo(services.engine, 30)
    early = registry.call(ToolName.CAMPAIGN_REPORT, {"campaign": "gold"}, staff)
    assert "no effect is claimed" in early.result.text and "lift" not in early.result.summary
    advance_demo(services.engine, 30)
    done = registry.call(ToolName.CAMPAIGN_REPORT, {"campaign": "november"}, staff)  # the month it was sent
    assert done.ok and "lift" in done.result.summary and done.result.data["report"]["window_closed"]
    chart = done.result.data["chart"]
    assert chart["type"] == "line" and set(chart["series"]) == {"treatment", "holdout"} and len(chart["x"]) == 61
    assert "@" not in done.result.text
    missing = registry.call(ToolName.CAMPAIGN_REPORT, {"campaign": "spring-sale"}, staff)
    assert not missing.ok and "no campaign matches 'spring-sale'" in missing.result.summary
