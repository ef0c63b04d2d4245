"""Deterministic answers: rendered from tool results (their markdown tables, bullet drivers and quoted
customer text), so every figure shown comes from code. Model prose replaces them only when it passes the
grounding check."""

from __future__ import annotations

from winback.prompts import load_prompt
from winback.roles import ROLES_THAT_DRAFT, ROLES_WITH_FREE_SQL, Role
from winback.tools import ToolCall
from winback.tools.names import ToolName

FAILED: dict[str, str] = {
    ToolName.LIST_AT_RISK: "list the customers at risk",
    ToolName.CUSTOMER_PROFILE: "open that customer's profile",
    ToolName.EXPLAIN_RISK: "score that customer",
    ToolName.SEGMENTS: "compare the groups",
    ToolName.SEARCH_FEEDBACK: "search the feedback",
    ToolName.COMPLAINT_THEMES: "find complaint themes",
    ToolName.CHURN_DRIVERS: "rank the churn drivers",
    ToolName.SQL_QUESTION: "answer that with a query",
    ToolName.OFFER_POLICY: "check the offer policy",
    ToolName.OFFER_HISTORY: "list the offers",
    ToolName.DRAFT_OFFER: "draft that offer",
    ToolName.SAVE_OFFER: "save that draft",
    ToolName.START_CAMPAIGN: "start that campaign",
    ToolName.CAMPAIGN_REPORT: "report on that campaign",
}


def help_text(role: Role) -> str:
    sql = role in ROLES_WITH_FREE_SQL
    drafts = role in ROLES_THAT_DRAFT
    return (
        load_prompt("assistant_help.v1.md")
        .format(
            sql_line='\n- **Anything else in the data:** "which products are reviewed most often?" (I write a read-only query)'
            if sql
            else "",
            draft_note="" if drafts else " (drafting is for customer-success staff and support agents)",
        )
        .strip()
    )


def render(calls: list[ToolCall]) -> str:
    parts = []
    for call in calls:
        if call.ok:
            parts.append(call.result.text)
        else:
            parts.append(f"I couldn't {FAILED.get(call.name, 'do that')}: {call.result.summary}")
    return "\n\n".join(parts)
