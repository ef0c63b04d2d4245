"""Every intent the router knows, defined once. Most intents are named after the tool they call; two more
answer without a tool, and one (a customer's own texts) calls the search tool for one customer.
prompts/router_intents.v1.toml holds their example utterances (a test keeps the two in step)."""

from __future__ import annotations

from enum import StrEnum

from winback.tools.names import ToolName


class Intent(StrEnum):
    LIST_AT_RISK = ToolName.LIST_AT_RISK.value
    CUSTOMER_PROFILE = ToolName.CUSTOMER_PROFILE.value
    EXPLAIN_RISK = ToolName.EXPLAIN_RISK.value
    SEGMENTS = ToolName.SEGMENTS.value
    SEARCH_FEEDBACK = ToolName.SEARCH_FEEDBACK.value
    COMPLAINT_THEMES = ToolName.COMPLAINT_THEMES.value
    CHURN_DRIVERS = ToolName.CHURN_DRIVERS.value
    METRIC_QUERY = ToolName.METRIC_QUERY.value
    SQL_QUESTION = ToolName.SQL_QUESTION.value
    OFFER_POLICY = ToolName.OFFER_POLICY.value
    OFFER_HISTORY = ToolName.OFFER_HISTORY.value
    DRAFT_OFFER = ToolName.DRAFT_OFFER.value
    START_CAMPAIGN = ToolName.START_CAMPAIGN.value
    CAMPAIGN_REPORT = ToolName.CAMPAIGN_REPORT.value
    RISK_CHANGES = ToolName.RISK_CHANGES.value
    CUSTOMER_FEEDBACK = "customer_feedback"  # everything one customer wrote (search_feedback for one id)
    CHANGE_DATA = "change_data"  # a request to change data: refused in one line (the assistant only reads)
    RESPOND = "respond"  # help or small talk, no tool
    CLARIFY = "ask_clarifying_question"  # a needed customer could not be resolved
