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
