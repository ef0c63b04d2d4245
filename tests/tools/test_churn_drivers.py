"""Churn drivers of a group are computed once per group and data version: users asking at once share it, and
new scores give a new computation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

import winback.tools.churn_drivers as churn_drivers
from winback.config import Settings
from winback.data.schema import ChurnScore
from winback.tools import Services, ToolContext
from winback.tools.churn_drivers import ChurnDriversArgs


def test_drivers_are_computed_once_per_group_and_scoring_run(
    shop_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    real = churn_drivers.group_drivers

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("segment"))
        return real(*args, **kwargs)

    monkeypatch.setattr(churn_drivers, "group_drivers", counted)
    services = Services(shop_settings)
    ctx = ToolContext(services=services, role="manager")
    first = churn_drivers.run(ChurnDriversArgs(segment="gold"), ctx)
    again = churn_drivers.run(ChurnDriversArgs(segment="gold"), ctx)
    churn_drivers.run(ChurnDriversArgs(segment="silver"), ctx)
    assert first.text == again.text and calls == ["gold", "silver"]
    with services.engine.begin() as connection:  # a new scoring run: the drivers are read again
        latest = connection.scalar(select(func.max(ChurnScore.scored_at)))
        assert isinstance(latest, datetime)
        connection.execute(update(ChurnScore).values(scored_at=latest + timedelta(days=1)))
    churn_drivers.run(ChurnDriversArgs(segment="gold"), ctx)
    assert calls == ["gold", "silver", "gold"]
