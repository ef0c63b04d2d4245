"""The tools the assistant can call: one module per tool, each exporting `TOOL` (typed arguments, a one-line
description for the model, a run function returning a `ToolResult`). `default_registry()` is the set the
assistant, the CLI and the UI use; the registry checks roles, validates, times and records every call."""

from __future__ import annotations

from winback.tools.base import Services, Tool, ToolContext, ToolFailure, ToolResult
from winback.tools.registry import ToolCall, ToolRegistry


def default_registry() -> ToolRegistry:
    from winback.tools import (
        at_risk,
        campaign_report,
        campaign_start,
        churn_drivers,
        churn_score,
        complaint_themes,
        customer_profile,
        feedback_search,
        metric_query,
        offer_draft,
        offer_history,
        offer_policy,
        offer_save,
        risk_changes,
        segment_report,
        sql_query,
    )

    return ToolRegistry.of(
        m.TOOL
        for m in (
            at_risk,
            customer_profile,
            churn_score,
            segment_report,
            feedback_search,
            complaint_themes,
            churn_drivers,
            metric_query,
            sql_query,
            offer_policy,
            offer_history,
            offer_draft,
            offer_save,
            campaign_start,
            campaign_report,
            risk_changes,
        )
    )


__all__ = [
    "Services",
    "Tool",
    "ToolCall",
    "ToolContext",
    "ToolFailure",
    "ToolRegistry",
    "ToolResult",
    "default_registry",
]
