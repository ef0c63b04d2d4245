"""The planning pipeline: rules decide where they are sure, the model's guided choice where they are not,
and the trace says who decided and why. A scripted model stands in for the LLM (wiring only: the real
model's choices are measured by bench/agent_eval.py)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage

from tests.assistant.scripted import ScriptedToolModel
from winback.assistant import Assistant
from winback.assistant.memory import ConversationState
from winback.assistant.planning.candidates import IntentScores
from winback.config import Settings
from winback.llm.backend import LlmBackend
from winback.roles import Role
from winback.tools import Services, ToolContext

UNSURE_METRIC = "average basket size split by where folks live"  # names a measure, words the rules can't place


def _assistant(settings: Settings, calls: list[dict[str, Any]]) -> tuple[Assistant, list[AIMessage]]:
    replies = [AIMessage("", tool_calls=[{"id": f"c{n}", "type": "tool_call", **c}]) for n, c in enumerate(calls)]
    services = Services(settings.model_copy(update={"llm_base_url": "http://scripted"}))
    model = ScriptedToolModel(messages=iter(replies))
    services.cached("llm:planner", lambda: LlmBackend(model, "server", True))
    return Assistant(services.settings, planner="router+llm", services=services), replies


def test_the_model_fills_a_metric_query_the_rules_could_not(shop_settings: Settings) -> None:
    query = {"measure": "items_per_order", "group_by": ["country"]}
    assistant, _ = _assistant(shop_settings, [{"name": "metric_query", "args": query}])
    turn = assistant.ask(UNSURE_METRIC, role="manager", remember=False)
    assert "decide: unsure (names items per order" in turn.planner_detail, turn.planner_detail
    assert "the model filled the metric query" in turn.planner_detail
    assert [c.name for c in turn.tool_calls] == ["metric_query"] and turn.tool_calls[0].ok
    assert turn.tool_calls[0].planner == "model" and turn.data["results"][0]["chart"]["type"] == "bar"


def test_an_invalid_model_query_leaves_the_rules_plan(shop_settings: Settings) -> None:
    bad = {"measure": "items_per_order", "group_by": ["risk_band", "risk_band"]}
    assistant, _ = _assistant(shop_settings, [{"name": "metric_query", "args": bad}])
    turn = assistant.ask(UNSURE_METRIC, role="manager", remember=False)
    assert "the model's metric query was invalid" in turn.planner_detail, turn.planner_detail
    assert [c.name for c in turn.tool_calls] == ["run_sql_question"], turn.planner_detail


def test_sure_turns_never_ask_the_model(shop_settings: Settings) -> None:
    assistant, replies = _assistant(shop_settings, [])  # any model call would fail: nothing is scripted
    turn = assistant.ask("who is most likely to churn?", role="cs_staff", remember=False)
    assert turn.planner_detail.startswith("parse: ") and "decide: rules, list_at_risk_customers" in turn.planner_detail
    assert " → build: list_at_risk_customers" in turn.planner_detail and turn.tool_calls[0].planner == "rules"
    refused = assistant.ask("run DELETE FROM orders", role="admin", remember=False)
    assert "decide: rule, a request to change data" in refused.planner_detail


def test_a_choice_outside_the_candidates_keeps_the_rules_plan(shop_settings: Settings) -> None:
    """Unsure because a word is accounted for by nothing ("wobbling"); the model names a tool it was not
    offered: the rules' plan stands, and its first line says which word it did not use."""
    assistant, _ = _assistant(shop_settings, [{"name": "churn_drivers", "args": {}}])
    customer = assistant.ask("who is most likely to churn?", role="cs_staff", remember=False).customer_ids[0]
    turn = assistant.ask(f"hmm {customer} ... wobbling??", role="cs_staff", remember=False)
    assert "decide: unsure (words it cannot account for: 'wobbling'" in turn.planner_detail, turn.planner_detail
    assert "unusable (unknown tool 'churn_drivers'): rules" in turn.planner_detail
    assert [c.name for c in turn.tool_calls] == ["get_customer_profile"] and turn.tool_calls[0].planner == "rules"
    assert turn.answer.startswith(f"_Understood: the profile of {customer} (not used: 'wobbling')_"), turn.answer


def test_a_query_copied_from_the_schema_is_not_answered(shop_settings: Settings) -> None:
    copied = {"measure": "items_per_order", "filters": [{"dimension": "risk_band", "values": ["high"]}]}
    assistant, _ = _assistant(shop_settings, [{"name": "metric_query", "args": copied}])
    turn = assistant.ask(UNSURE_METRIC, role="manager", remember=False)
    assert "not grounded (filter risk_band = high is not in the question)" in turn.planner_detail
    assert [c.name for c in turn.tool_calls] == ["run_sql_question"], turn.planner_detail


def test_small_talk_and_out_of_scope_questions_never_ask_the_model(shop_settings: Settings) -> None:
    assistant, _ = _assistant(shop_settings, [])
    for question in ("will it rain in Lyon tomorrow?", "hi there"):
        turn = assistant.ask(question, role="cs_staff", remember=False)
        assert "decide: rules, respond" in turn.planner_detail and not turn.tool_calls, turn.planner_detail


def test_an_unusable_choice_over_a_guess_answers_with_help(
    shop_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No intent is near the threshold and the model answers with no tool call: what winback can do, not the
    rules' weak guess (a list of customers for a question about football)."""
    services = Services(shop_settings.model_copy(update={"llm_base_url": "http://scripted"}))
    model = ScriptedToolModel(messages=iter([AIMessage("Sorry, I don't follow football.")]))
    services.cached("llm:planner", lambda: LlmBackend(model, "server", True))
    assistant = Assistant(services.settings, planner="router+llm", services=services)
    guess = IntentScores([("customer_feedback", 0.2), ("campaign_report", 0.15), ("respond", 0.1)])
    monkeypatch.setattr(assistant.router(), "score", lambda reading: guess)  # the intent model is only guessing
    turn = assistant.ask("did chelsea win", role="cs_staff", remember=False)
    assert "help unless the model's choice holds" in turn.planner_detail and not turn.tool_calls, turn.planner_detail
    assert "I answer from winback's own data" in turn.answer


def test_a_share_the_layer_cannot_count_goes_to_free_sql_without_the_model(shop_settings: Settings) -> None:
    """A share of a count with no value the layer can read to count ("what share of customers have more
    than 3 orders": no dimension says how many orders) goes to free SQL, and the model is not asked to pick
    the layer again (nothing is scripted for it)."""
    assistant, _ = _assistant(shop_settings, [])
    turn = assistant.ask("what share of customers have more than 3 orders", role="manager", remember=False)
    assert "unsure" not in turn.planner_detail and "build: run_sql_question" in turn.planner_detail, turn.planner_detail


def _ctx(assistant: Assistant) -> ToolContext:
    return ToolContext(assistant.services, Role.MANAGER, actor="test")


LEFTOVER_WORDS = "how many orders came in via the marketplace"  # the rules read it all but "came"


def test_an_invalid_model_query_falls_back_to_the_rules_query_when_nothing_else_is_left_over(
    shop_settings: Settings,
) -> None:
    """The model chose the metrics layer (so the words the rules could not place are harmless) but filled
    the query badly: the rules' own query answers, not free SQL."""
    bad = {"measure": "orders", "group_by": ["risk_band", "risk_band"]}
    assistant, _ = _assistant(shop_settings, [{"name": "metric_query", "args": bad}])
    turn = assistant.ask(LEFTOVER_WORDS, role="manager", remember=False)
    assert "decide: unsure (names orders, but 'came' fit" in turn.planner_detail, turn.planner_detail
    assert "the model's metric query was invalid" in turn.planner_detail and "the rules' query" in turn.planner_detail
    [call] = turn.tool_calls
    assert call.name == "metric_query" and call.ok and call.planner == "model"
    assert call.args["filters"] == [
        {"dimension": "order_channel", "values": ["marketplace"], "exclude": False, "share": False}
    ]


def test_a_condition_the_layer_cannot_express_goes_to_free_sql_without_asking(shop_settings: Settings) -> None:
    assistant, _ = _assistant(shop_settings, [])  # any model call would fail: nothing is scripted
    plan = assistant.planner().plan(
        "how many customers have placed more than 10 orders?",
        _ctx(assistant),
        ConversationState(),
        assistant.today(),
        "router+llm",
        [],
    )
    assert plan.intent == "run_sql_question" and plan.decided_by == "rules", plan.trace
    assert "conditions 10" in plan.trace[0], plan.trace


def test_a_bare_count_with_words_left_over_is_not_answered_with_everyone(shop_settings: Settings) -> None:
    """ "how many customers have closed their account": the rules read only "customers"; the model choosing the
    metrics layer does not make a count of every customer the answer."""
    bad = {"measure": "customers", "group_by": ["risk_band", "risk_band"]}
    assistant, _ = _assistant(shop_settings, [{"name": "metric_query", "args": bad}])
    turn = assistant.ask("how many customers have closed their account?", role="manager", remember=False)
    assert "the model's metric query was invalid" in turn.planner_detail, turn.planner_detail
    assert [c.name for c in turn.tool_calls] == ["run_sql_question"], turn.planner_detail


def test_a_constraint_the_plan_would_drop_is_asked_about_and_yes_runs_the_reading(shop_settings: Settings) -> None:
    """ "critical customers who still have an unresolved ticket": the at-risk list cannot filter by tickets,
    so the answer states its reading and asks (for a manager, a query is the second reading); "yes" runs
    the first reading and "2" the second, in the same conversation."""
    assistant, _ = _assistant(shop_settings, [])  # no model call happens: nothing is scripted
    question = "list the critical customers who still have an unresolved ticket"
    asked = assistant.ask(question, role="cs_staff")
    assert asked.intent == "confirm" and not asked.tool_calls, asked.planner_detail
    assert "I can't use 'unresolved'" in asked.answer and "Reply **yes**" in asked.answer
    assert "**2**" not in asked.answer  # cs_staff has no free SQL: one reading only
    ran = assistant.ask("yes", asked.session_id, role="cs_staff")
    assert [(c.name, c.args.get("risk_bands")) for c in ran.tool_calls] == [("list_at_risk_customers", ["critical"])]
    assert ran.answer.startswith("_Understood: the 10 customers most likely to churn"), ran.answer
    manager = assistant.ask(question, role="manager")  # free SQL reads the tickets: asked about or run
    if manager.intent == "confirm":
        assert "or **2** for — a query written for this question" in manager.answer, manager.answer
        other = assistant.ask("no", manager.session_id, role="manager")
        assert not other.tool_calls, other.planner_detail  # "no" runs nothing it offered
    else:
        assert [c.name for c in manager.tool_calls] == ["run_sql_question"], manager.planner_detail


def test_how_many_of_them_counts_among_the_last_list_or_asks_which_group(shop_settings: Settings) -> None:
    """ "how many of them are gold?" counts among the customers just listed; where the last answer listed
    nobody (or the count cannot be expressed among them) it asks, never counting everyone."""
    assistant, _ = _assistant(shop_settings, [])  # the rules decide: nothing is scripted
    alone = assistant.ask("and how many of them are gold?", role="manager")
    assert alone.intent == "ask_clarifying_question" and "Which group do you mean by 'them'" in alone.answer
    listed = assistant.ask("top 8 customers most likely to churn", role="manager")
    ids = listed.tool_calls[0].result.customer_ids
    counted = assistant.ask("how many of them are gold?", listed.session_id, role="manager")
    [call] = counted.tool_calls
    assert call.name == "list_at_risk_customers" and call.args["customer_ids"] == ids, counted.planner_detail
    assert call.args["segment"] == ["gold"] and call.result.data["matching"] <= len(ids)
    other = assistant.ask("how many of those have written a review?", counted.session_id, role="manager")
    assert not other.tool_calls and "Among the customers I just listed" in other.answer, other.planner_detail


def test_a_question_only_small_talk_words_explain_gets_what_winback_does(shop_settings: Settings) -> None:
    """ "who won the champions league last year?": "who" would make it a list of people; every word it has
    is unknown or known only from the off-topic examples, so the answer says what winback does."""
    assistant, _ = _assistant(shop_settings, [])  # no model call: nothing is scripted
    planner = assistant.planner()
    for question in ("who won the champions league last year?", "recommend a good movie for tonight"):
        plan = planner.plan(question, _ctx(assistant), ConversationState(), assistant.today(), "router+llm", [])
        assert plan.intent == "respond" and not plan.calls, plan.trace
    kept = planner.plan(
        "who placed the most orders last month", _ctx(assistant), ConversationState(), assistant.today(), "router", []
    )
    assert "only off-topic words" not in " ".join(kept.trace)
