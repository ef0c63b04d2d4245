"""Every tool's name, defined once. The model, the router, the answer templates, the UI and the CLI refer
to tools through these members (a StrEnum, so a member is also the plain string the model sees)."""

from __future__ import annotations

from enum import StrEnum


class ToolName(StrEnum):
    LIST_AT_RISK = "list_at_risk_customers"
    CUSTOMER_PROFILE = "get_customer_profile"
    EXPLAIN_RISK = "explain_churn_risk"
    SEGMENTS = "segment_aggregates"
    SEARCH_FEEDBACK = "search_feedback"
    COMPLAINT_THEMES = "complaint_themes"
    CHURN_DRIVERS = "churn_drivers"
    METRIC_QUERY = "metric_query"
    SQL_QUESTION = "run_sql_question"
    OFFER_POLICY = "offer_policy"
    OFFER_HISTORY = "offer_history"
    DRAFT_OFFER = "draft_offer"
    SAVE_OFFER = "save_offer_draft"
    START_CAMPAIGN = "start_campaign"
    CAMPAIGN_REPORT = "campaign_report"
    RISK_CHANGES = "risk_changes"
