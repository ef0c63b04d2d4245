"""A model-filled metric query keeps only what the question grounds: filter values and windows from the
question's words (or the rules' reading), a top-k cut only where a number or a superlative asks for it."""

from __future__ import annotations

from winback.assistant.planning.metric_slots import MetricSlots
from winback.assistant.planning.model_query import grounded_query
from winback.data.metrics import MetricQuery

COPIED_FROM_THE_SCHEMA = {
    "measure": "customers",
    "group_by": ["risk_band"],
    "filters": [{"dimension": "risk_band", "values": ["high", "critical"]}],
    "window": {"kind": "last_months", "n": 12},
    "sort": "desc",
    "top_k": 1,
}


def test_values_the_question_never_said_reject_the_query() -> None:
    query = MetricQuery.model_validate(COPIED_FROM_THE_SCHEMA)
    args, why = grounded_query(query, "how many customers closed their account?", MetricSlots())
    assert args is None and "risk_band = high, critical" in why


def test_a_window_needs_time_words() -> None:
    query = MetricQuery.model_validate({"measure": "orders", "window": {"kind": "last_days", "n": 30}})
    assert grounded_query(query, "how many orders were paid by card?", MetricSlots())[0] is None
    kept, _ = grounded_query(query, "orders paid by card in the past few weeks", MetricSlots())
    assert kept is not None and kept["window"] == {"kind": "last_days", "n": 30}


def test_grouping_is_the_models_and_said_values_stay() -> None:
    query = MetricQuery.model_validate(
        {
            "measure": "items_per_order",
            "group_by": ["country"],
            "filters": [{"dimension": "segment", "values": ["gold"]}],
        }
    )
    args, _ = grounded_query(query, "basket size of Gold folks, split by where they live", MetricSlots())
    assert args == {"measure": "items_per_order", "group_by": ["country"],
                    "filters": [{"dimension": "segment", "values": ["gold"]}]}  # fmt: skip


def test_an_unasked_cut_is_dropped() -> None:
    query = MetricQuery.model_validate({"measure": "revenue", "group_by": ["country"], "sort": "desc", "top_k": 1})
    args, _ = grounded_query(query, "revenue split by where people live", MetricSlots())
    assert args == {"measure": "revenue", "group_by": ["country"]}
    args, _ = grounded_query(query, "where do people spend the most?", MetricSlots())
    assert args is not None and args["top_k"] == 1 and args["sort"] == "desc"
