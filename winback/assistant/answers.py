"""Deterministic answers: rendered from tool results (their markdown tables, bullet drivers and quoted
customer text), so every figure shown comes from code. Model prose replaces them only when it passes the
grounding check."""

from __future__ import annotations

from winback.prompts import load_prompt
from winback.roles import Role
from winback.tools import ToolCall

FAILED = {
    "list_at_risk_customers": "list the customers at risk",
    "get_customer_profile": "open that customer's profile",
    "explain_churn_risk": "score that customer",
    "segment_aggregates": "compare the groups",
    "search_feedback": "search the feedback",
    "complaint_themes": "find complaint themes",
    "churn_drivers": "rank the churn drivers",
    "run_sql_question": "answer that with a query",
    "offer_policy": "check the offer policy",
    "offer_history": "list the offers",
    "draft_offer": "draft that offer",
    "save_offer_draft": "save that draft",
}


def help_text(role: Role) -> str:
    sql = role in (Role.MANAGER, Role.ADMIN)
    drafts = role in (Role.CS_STAFF, Role.SUPPORT_AGENT, Role.ADMIN)
    return (
        load_prompt("assistant_help.v1.md")
        .format(
            sql_line='\n- **Anything else in the data:** "how many orders were returned last month?" (I write a read-only query)'
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
