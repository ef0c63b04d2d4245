"""The evaluation's judge (bench/assistant_eval.py): a figure counts as shown at the precision the answer
writes it, a reference that rounds stands for what it rounded, and a text cell must appear as written."""

from __future__ import annotations

from bench.assistant_eval import cell_shown

ROUNDED = {"sql": "SELECT segment, ROUND(100.0 * AVG(p), 2) FROM s GROUP BY 1", "unit": "percent"}


def test_a_figure_is_shown_at_the_answers_precision() -> None:
    assert cell_shown("| gold | 12.3% |", 12.346, {"unit": "percent"})
    assert cell_shown("| gold | 0.12 |", 12.346, {"unit": "percent"})
    assert not cell_shown("| gold | 12.5% |", 12.346, {"unit": "percent"})


def test_a_rounded_reference_stands_for_the_values_it_rounds() -> None:
    # 52.95 is ROUND(52.949.., 2): an answer writing 52.9 % may be exact; 52.7 % is not
    assert cell_shown("| silver | 52.9% | 4,362 |", 52.95, ROUNDED)
    assert cell_shown("| silver | 53.0% |", 52.95, ROUNDED)
    assert not cell_shown("| silver | 52.7% |", 52.95, ROUNDED)
    assert not cell_shown("| silver | 52.9% |", 52.95, {"unit": "percent", "sql": "SELECT 52.95"})


def test_a_text_cell_must_appear_on_the_line() -> None:
    assert cell_shown("ticket T-1 topic delivery_delay, open", "delivery_delay", {})
    assert not cell_shown("ticket T-1 topic damaged_item, open", "delivery_delay", {})


def test_any_one_of_the_named_tools_answers_a_tool_turn() -> None:
    from types import SimpleNamespace

    from bench.assistant_eval import check

    call = SimpleNamespace(name="get_customer_profile", ok=True, args={"customer_id": "C-1"})
    turn = SimpleNamespace(tool_calls=[call], answer="", customer_ids=[])
    record = {"expect": "tool", "tools": ["explain_churn_risk", "customer_profile"]}
    assert check(record, turn, None, "2026-10-31") is None  # type: ignore[arg-type]
    assert check({"expect": "tool", "tools": ["draft_offer"]}, turn, None, "2026-10-31") is not None  # type: ignore[arg-type]
