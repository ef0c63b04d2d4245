"""The screens' content without a browser: roles and masking in the table and card, the manager view's
charts, and sentences instead of errors."""

from __future__ import annotations

from winback.config import Settings
from winback.roles import Role
from winback.tools import Services, default_registry
from winback.ui.views import Views


def test_table_card_and_manager_view(shop_settings: Settings) -> None:
    views = Views(Services(shop_settings), default_registry())
    table = views.at_risk(Role.CS_STAFF, "carol", limit=5)
    assert table.ok and table.frame is not None and len(table.frame) == 5
    assert all("." in name for name in table.frame["name"])  # names masked for cs_staff ("J. D.")
    first = table.frame.iloc[0]["customer"]
    card = views.customer(Role.CS_STAFF, "carol", first)
    assert card.ok and card.figure is not None and first in card.message and "•••@" in card.extra["card"]
    assert list(card.frame.columns) == ["date", "what", "ref", "details"] and len(card.frame) > 0
    assert "@" not in card.extra["card"].replace("•••@", "")
    stale = views.customer(Role.CS_STAFF, "carol", "C-99999999")
    assert not stale.ok and "no customer with id" in stale.message
    refused = views.draft_offer(Role.MANAGER, "maria", first, "email")
    assert not refused.ok and "may not use draft_offer" in refused.message
    manager = views.manager(Role.MANAGER, "maria")
    assert manager["risk"] is not None and manager["revenue"] is not None and manager["drivers"] is not None
    assert manager["themes"] is not None and len(manager["themes"]) >= 2


def test_the_campaigns_screen_checks_roles_and_reports(shop_settings: Settings) -> None:
    views = Views(Services(shop_settings), default_registry())
    assert views.campaigns().empty
    refused = views.start_campaign(Role.CS_STAFF, "carol", {"top": 50})
    assert not refused.ok and "may not use start_campaign" in refused.message
    started = views.start_campaign(Role.MANAGER, "maria", {"name": "ui-test", "top": 50, "risk_bands": []})
    assert started.ok and "Started campaign **ui-test**" in started.message
    frame = views.campaigns()
    assert list(frame["campaign"]) == ["ui-test"] and frame.iloc[0]["treatment"] + frame.iloc[0]["holdout"] == 50
    assert not views.approve_campaign(Role.CS_STAFF, "carol", "ui-test").ok
    own = views.approve_campaign(Role.MANAGER, "maria", "ui-test")
    assert own.ok and "Approved 0 offers" in own.message  # her own drafts: another approver decides
    unsent = views.send_campaign(Role.MANAGER, "maria", "ui-test")
    assert not unsent.ok and "WINBACK_SMTP_URL" in unsent.message
    assert not views.send_campaign(Role.SUPPORT_AGENT, "sam", "ui-test").ok
    report = views.campaign_report(Role.CS_STAFF, "carol", "ui-test")
    assert report.ok and "nothing sent yet" in report.message and report.figure is None


def test_the_operations_screens_check_roles(shop_settings: Settings) -> None:
    """Alerts are the role's own; the jobs are shown to managers and admins and run or paused by admins."""
    import pytest

    from winback.errors import UserError
    from winback.jobs.alerts import RiskCrossed, evaluate
    from winback.roles import Role
    from winback.tools import Services
    from winback.ui.operations import Operations

    services = Services(shop_settings)
    operations = Operations(services)
    assert operations.alerts(Role.CS_STAFF).empty
    evaluate(
        services.engine, shop_settings, [RiskCrossed(name="x", kind="risk_crossed", threshold=0.5, role="cs_staff")]
    )
    with pytest.raises(UserError, match="does not see the scheduled jobs"):
        operations.jobs(Role.CS_STAFF)
    jobs, runs = operations.jobs(Role.MANAGER)
    assert list(jobs["job"]) == ["index", "score", "campaigns", "briefing"] and runs.empty
    with pytest.raises(UserError, match="may not run or pause"):
        operations.control(Role.MANAGER, "campaigns", "run")
    assert "campaigns: ok" in operations.control(Role.ADMIN, "campaigns", "run")
    assert operations.control(Role.ADMIN, "score", "pause") == "score: paused"
    jobs, runs = operations.jobs(Role.ADMIN)
    assert list(runs["job"]) == ["campaigns"] and jobs.set_index("job").loc["score", "next run"] == "paused"
    with pytest.raises(UserError, match="pick an alert"):
        operations.act(Role.CS_STAFF, "carol", " ", "acknowledge")
    html, line = operations.briefing(Role.MANAGER, "maria")
    assert "daily briefing for managers" in html and line == "You are not subscribed."
    assert "Subscribed" in operations.subscribe(Role.MANAGER, "maria", "maria@shop.example")
    assert operations.briefing(Role.MANAGER, "maria")[1].startswith("You get this briefing every morning")
