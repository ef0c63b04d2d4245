"""An answer that asks which reading to run gets one button per reading ("yes" for the first)."""

from __future__ import annotations

from winback.assistant.planning.calls import Plan, PlannedCall
from winback.assistant.planning.pipeline import confirm
from winback.ui.app import confirm_options


def test_each_reading_offered_is_a_button() -> None:
    readings = [
        Plan("list_at_risk_customers", [PlannedCall("list_at_risk_customers", {"limit": 5})]),
        Plan("run_sql_question", [PlannedCall("run_sql_question", {"question": "q"})]),
    ]
    answer = confirm(readings, [], ["ticket"]).reply or ""
    assert [o["value"] for o in confirm_options(answer)] == ["yes", "2"]
    assert [o["value"] for o in confirm_options(confirm(readings[:1], ["blorp"]).reply or "")] == ["yes"]
