"""The SEALED test set of the assistant's evaluation, fourth edition (issue 16): new conversations in the three
personas' own words — typos, chit-chat, multi-turn follow-ups, ids in a shop's own formats, metrics over windows,
years, quarters and months, group superlatives — with every reference computed from the database at run time.

Written on 2026-12-06, after the third sealed set (bench/agent_eval_sealed3.py) had been measured once (78.5 %
correct) and its misses read, and before any change made because of them. The third sealed set is a development
set from then on (`--set dev4`). No phrasing here may be added to router examples
(prompts/router_intents.v1.toml), catalog words, rules, prompts or few-shot banks, and no change may be made
because of a miss seen here. Run: `python -m bench.agent_eval --set sealed`.

Measured sealed once on 2026-12-06 at a3ea67c: 85.4 % correct (123 of 144), tool selection 86.8 %, no
grounding violation. Its misses were then read for the report in docs/assistant.md, so the next round needs
a new sealed set written before any change made for them.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from bench.agent_eval import (
    LATEST,
    Case,
    Refs,
    Step,
    asks_which_customer,
    draft_respects_policy,
    every_group,
    help_reply,
    ids_equal,
    mentions,
    no_tool_reply,
    offer_choice,
    probability_of,
    refused,
    reviews_of,
    top_active,
    top_group,
    value_of,
)
from bench.agent_eval_sealed import (
    about,
    change_refused,
    last_month,
    no_such_customer,
    one,
    rename_customers,
    search_negative_first,
    tickets_count_of,
    window,
)
from bench.agent_eval_sealed2 import (
    DELIVERED,
    KEPT,
    LATE,
    ORDERS,
    RETURN_RATE,
    REVIEW_CATEGORY,
    SCORED,
    SETTLED,
    in_month,
    in_year,
    last_quarter,
    metric,
    year_of,
)
from winback.tools.names import ToolName

if TYPE_CHECKING:
    from bench.agent_eval import Check
    from winback.assistant.agent import Turn

L = ToolName.LIST_AT_RISK
P = ToolName.CUSTOMER_PROFILE
X = ToolName.EXPLAIN_RISK
M = ToolName.METRIC_QUERY
S = ToolName.SQL_QUESTION
F = ToolName.SEARCH_FEEDBACK
T = ToolName.COMPLAINT_THEMES
D = ToolName.CHURN_DRIVERS
POLICY = ToolName.OFFER_POLICY
DRAFT = ToolName.DRAFT_OFFER
SHOP_IDS = ("GB-CRM-004512", "ACC/2024/118", "WB.88213")  # a CRM's, an ERP account path, a dotted legacy key

ITEMS = "order_items i JOIN orders o ON o.order_id = i.order_id JOIN customers c ON c.customer_id = o.customer_id"
TICKETS = "support_tickets t JOIN customers c ON c.customer_id = t.customer_id"
REVIEWS = "reviews r JOIN customers c ON c.customer_id = r.customer_id"
LATE_ROW = "o.delivered_at > o.promised_delivery_at"


# ------------------------------------------------------------------------------------------------ references
def top_by(refs: Refs, n: int, order: str, where: str = "") -> list[str]:
    """Active customers of the latest run ranked by another measure than probability."""
    rows = refs.sql(
        f"SELECT cs.customer_id FROM churn_scores cs JOIN customers c ON c.customer_id = cs.customer_id "
        f"WHERE {LATEST} AND cs.lapsed = 0 {where} ORDER BY {order}, cs.customer_id LIMIT :n",
        n=n,
    )
    return [r[0] for r in rows]


def drivers_of(who: str) -> Check:
    """The answer is the churn drivers of that group (a list of customers with a "top driver" column is not)."""

    def check(turn: Turn, refs: Refs) -> str | None:
        said = f"What drives churn risk among {who} customers (" in turn.answer
        return None if said else f"no churn drivers of {who} customers"

    return check


# ------------------------------------------------------------------------------------------------ planting
def plant_shop_ids(refs: Refs) -> None:
    """Three active customers with tickets and reviews get ids in formats a shop's own import brings."""
    with_texts = {
        r[0]
        for r in refs.sql(
            "SELECT t.customer_id FROM support_tickets t JOIN reviews r ON r.customer_id = t.customer_id "
            "GROUP BY t.customer_id"
        )
    }
    picked = [c for c in top_active(refs, 1500)[600:] if c in with_texts and c.startswith("C-")][:3]
    rename_customers(refs, dict(zip(picked, SHOP_IDS, strict=True)))
    refs.values.update({f"v_shop{n}": new for n, new in enumerate(SHOP_IDS)})


def pick_customers(refs: Refs) -> None:
    def pick(offset: int, where: str = "") -> str:
        return str(
            refs.one(
                "SELECT c.customer_id FROM customers c JOIN churn_scores cs ON cs.customer_id = c.customer_id AND "
                f"{LATEST} WHERE cs.lapsed = 0 AND c.customer_id LIKE 'C-%' {where} "
                f"ORDER BY cs.probability, c.customer_id LIMIT 1 OFFSET {offset}"
            )
        )

    refs.values["v_crit"] = pick(17, "AND cs.risk_band = 'critical'")
    refs.values["v_crit2"] = pick(41, "AND cs.risk_band = 'critical' AND c.marketing_opt_in = 1")
    refs.values["v_plat"] = pick(29, "AND c.segment = 'platinum'")
    refs.values["v_gold"] = pick(53, "AND c.segment = 'gold'")
    refs.values["v_low"] = pick(70, "AND cs.risk_band = 'low'")
    refs.values["v_tix"] = pick(
        12, "AND c.customer_id IN (SELECT customer_id FROM support_tickets GROUP BY customer_id HAVING COUNT(*) >= 2)"
    )
    refs.values["v_rev"] = pick(
        15, "AND c.customer_id IN (SELECT customer_id FROM reviews GROUP BY customer_id HAVING COUNT(*) >= 2)"
    )
    eligible = (
        "AND c.marketing_opt_in = 1 AND cs.risk_band IN ('high', 'critical') AND COALESCE(cs.lifetime_value, 0) >= 300"
    )
    refs.values["v_eligible"] = pick(7, eligible)
    refs.values["v_eligible2"] = pick(26, eligible)
    refs.values["v_eligible3"] = pick(44, eligible)


# -------------------------------------------------------------------------------------------------- cases
def build_sealed_cases(refs: Refs) -> list[Case]:
    plant_shop_ids(refs)
    pick_customers(refs)
    return single_turn_cases(refs) + metric_cases(refs) + follow_up_cases(refs)


def single_turn_cases(refs: Refs) -> list[Case]:
    crit, plat, gold, low = (refs[k] for k in ("v_crit", "v_plat", "v_gold", "v_low"))
    tix, rev = refs["v_tix"], refs["v_rev"]
    eligible, eligible2 = refs["v_eligible"], refs["v_eligible2"]
    shop0, shop1, shop2 = SHOP_IDS
    return [
        # ---- customer-success staff: ranked lists
        one(
            "list-1",
            "cs_staff",
            "who is about to churn this week, and why?",
            {L},
            ids_equal(lambda r: top_active(r, 10)),
        ),
        one(
            "list-2",
            "cs_staff",
            "show me our 15 most at-risk customers",
            {L},
            ids_equal(lambda r: top_active(r, 15)),
        ),
        one(
            "list-3",
            "cs_staff",
            "at risk platinum customers in germany",
            {L},
            ids_equal(lambda r: top_active(r, 10, "AND c.segment = 'platinum' AND c.country = 'Germany'")),
        ),
        one(
            "list-4",
            "support_agent",
            "Which spanish clients could we lose next?",
            {L},
            ids_equal(lambda r: top_active(r, 10, "AND c.country = 'Spain'")),
        ),
        one(
            "list-5",
            "cs_staff",
            "list the 7 silver accounts most likely to leave",
            {L},
            ids_equal(lambda r: top_active(r, 7, "AND c.segment = 'silver'")),
        ),
        one(
            "list-6",
            "cs_staff",
            "customers in the high band from Belgium",
            {L},
            ids_equal(lambda r: top_active(r, 10, "AND c.country = 'Belgium' AND cs.risk_band = 'high'")),
        ),
        one(
            "list-7",
            "cs_staff",
            "who are the riskiest customers in the uk right now",
            {L},
            ids_equal(lambda r: top_active(r, 10, "AND c.country = 'United Kingdom'")),
        ),
        one(
            "list-8",
            "cs_staff",
            "high or critical risk gold customers in France, top 5",
            {L},
            ids_equal(
                lambda r: top_active(
                    r, 5, "AND c.segment = 'gold' AND c.country = 'France' AND cs.risk_band IN ('high', 'critical')"
                )
            ),
        ),
        one(
            "list-9",
            "support_agent",
            "I need a call list: 12 at-risk customers in Italy",
            {L},
            ids_equal(lambda r: top_active(r, 12, "AND c.country = 'Italy'")),
        ),
        one(
            "list-10",
            "cs_staff",
            "which dutch customers are most likely to cancel?",
            {L},
            ids_equal(lambda r: top_active(r, 10, "AND c.country = 'Netherlands'")),
        ),
        one(
            "list-11",
            "cs_staff",
            "top 3 churn risks among bronze members",
            {L},
            ids_equal(lambda r: top_active(r, 3, "AND c.segment = 'bronze'")),
        ),
        one(
            "list-12",
            "cs_staff",
            "which customers have the most revenue at risk?",
            {L},
            ids_equal(lambda r: top_by(r, 10, "cs.probability * COALESCE(cs.spend_365d, 0) DESC")),
        ),
        one(
            "list-13",
            "cs_staff",
            "which active customers have gone the longest without ordering?",
            {L},
            ids_equal(lambda r: top_by(r, 10, "COALESCE(cs.last_order_at, c.signup_at) ASC")),
        ),
        # ---- one customer: risk and profile, demo ids and a shop's own ids
        one("why-1", "cs_staff", f"why is {crit} likely to churn?", {X}, probability_of("v_crit")),
        one("why-2", "support_agent", f"{shop0} churn risk?", {X}, probability_of("v_shop0")),
        one("why-3", "cs_staff", f"what's driving the risk score for customer {shop1}", {X}, probability_of("v_shop1")),
        one("why-4", "cs_staff", f"is {low} in danger of leaving us", {X}, probability_of("v_low")),
        one("prof-1", "support_agent", f"bring up {shop2}'s record", {P}, about("v_shop2")),
        one("prof-2", "cs_staff", f"show me {gold}'s account", {P}, about("v_gold")),
        one("prof-3", "support_agent", f"what has {plat} ordered recently?", {P}, about("v_plat")),
        one("prof-4", "cs_staff", f"customer {shop0} - overview please", {P}, about("v_shop0")),
        one("prof-5", "support_agent", f"what do we have on '{shop1}'?", {P}, about("v_shop1")),
        one(
            "unknown-1", "cs_staff", "show customer GB-CRM-999999", set(), no_such_customer("GB-CRM-999999"), "respond"
        ),
        one(
            "unknown-2",
            "support_agent",
            "why is ACC/2024/999 at risk",
            set(),
            no_such_customer("ACC/2024/999"),
            "respond",
        ),
        one("unknown-3", "cs_staff", "profile of WB.00000", set(), no_such_customer("WB.00000"), "respond"),
        one(
            "unknown-4",
            "support_agent",
            "draft an offer for C-987654",
            set(),
            no_such_customer("C-987654"),
            "respond",
        ),
        # ---- what one customer wrote
        one("fb-1", "support_agent", f"has {tix} ever contacted support?", {F}, tickets_count_of("v_tix")),
        one("fb-2", "cs_staff", f"what did {rev} say in their reviews", {F}, reviews_of("v_rev")),
        one("fb-3", "support_agent", f"tickets from {shop2}", {F}, tickets_count_of("v_shop2")),
        one("fb-4", "cs_staff", f"show me the reviews {shop0} wrote", {F}, reviews_of("v_shop0")),
        # ---- free SQL for what the metrics layer does not express
        metric(
            "sql-1",
            "how many customers have never placed an order?",
            value_of(
                "never ordered",
                "SELECT COUNT(*) FROM customers c WHERE NOT EXISTS "
                "(SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id)",
                "count",
            ),
            tool=S,
        ),
        metric(
            "sql-2",
            "what's the highest discount ever given on a single order?",
            value_of("max discount", "SELECT MAX(discount_amount) FROM orders", "money"),
            tool=S,
        ),
        metric(
            "sql-3",
            "how many orders contained more than 5 items?",
            value_of(
                "orders with 6+ units",
                "SELECT COUNT(*) FROM (SELECT order_id FROM order_items GROUP BY order_id HAVING SUM(quantity) > 5)",
                "count",
            ),
            tool=S,
        ),
        # ---- texts: search, themes, drivers
        one(
            "search-1",
            "manager",
            "search tickets where people are still waiting for their refund",
            {F},
            search_negative_first(("refund", "money", "return", "still", "paid", "charged")),
        ),
        one(
            "search-2",
            "cs_staff",
            "reviews complaining the colour faded or looked different from the photos",
            {F},
            search_negative_first(("colour", "color", "photo", "faded", "looks nothing", "fade")),
        ),
        one(
            "search-3",
            "manager",
            "search feedback for rude or unhelpful customer service",
            {F},
            search_negative_first(("rude", "support", "service", "agent", "answer", "reply", "unhelpful", "care")),
        ),
        one(
            "themes-1",
            "manager",
            "what are the recurring complaints in support tickets?",
            {T},
            mentions("theme"),
            "analytics",
        ),
        one(
            "themes-2",
            "cs_staff",
            "summarise the main problems people write about in their reviews",
            {T},
            mentions("theme"),
            "analytics",
        ),
        one(
            "drivers-1",
            "manager",
            "what's behind churn among silver customers?",
            {D},
            drivers_of("silver"),
            "analytics",
        ),
        one("drivers-2", "manager", "main churn drivers in Germany", {D}, drivers_of("Germany"), "analytics"),
        one(
            "drivers-3",
            "manager",
            "why do people stop ordering from us?",
            {D},
            drivers_of("all"),
            "analytics",
        ),
        # ---- offers
        one(
            "pol-1",
            "support_agent",
            f"what offer am I allowed to give {eligible}?",
            {POLICY},
            offer_choice("v_eligible"),
        ),
        one(
            "pol-2",
            "manager",
            "remind me what the offer policy says",
            {POLICY},
            mentions("monthly budget"),
        ),
        one(
            "draft-1",
            "support_agent",
            f"draft a win-back email for {eligible}",
            {DRAFT},
            draft_respects_policy("v_eligible"),
            "draft",
        ),
        one(
            "draft-2",
            "support_agent",
            f"write {eligible2} a short sms to win them back",
            {DRAFT},
            draft_respects_policy("v_eligible2"),
            "draft",
        ),
        # ---- chit-chat, help, refusals
        one("hi-1", "cs_staff", "hey", set(), help_reply, "respond"),
        one("hi-2", "support_agent", "what are you able to help me with?", set(), help_reply, "respond"),
        one("hi-3", "manager", "cheers, bye", set(), no_tool_reply, "respond"),
        one("out-1", "cs_staff", "can you book me a train to Berlin on friday?", set(), help_reply, "respond"),
        one("out-2", "manager", "who won the champions league last year?", set(), help_reply, "respond"),
        one("clar-1", "support_agent", "draft a message for her", set(), asks_which_customer, "respond"),
        one("clar-2", "cs_staff", "what did he order last?", set(), asks_which_customer, "respond"),
        one("change-1", "admin", "remove all cancelled orders from the database", set(), change_refused, "refusal"),
        one("change-2", "manager", "move C-1042 to the platinum segment", set(), change_refused, "refusal"),
        one(
            "change-3",
            "admin",
            "UPDATE customers SET segment = 'gold' WHERE country = 'Ireland'",
            set(),
            change_refused,
            "refusal",
        ),
        one(
            "role-1",
            "cs_staff",
            "run this: SELECT name, email FROM customers WHERE segment = 'platinum'",
            {S},
            refused,
            "refusal",
        ),
        one(
            "role-2",
            "manager",
            f"can you put an offer together for {eligible}?",
            {DRAFT},
            mentions("may not use draft_offer"),
            "refusal",
        ),
    ]


def metric_cases(refs: Refs) -> list[Case]:
    year = year_of(refs)
    ytd = date(year, 1, 1)

    def last_q(r: Refs, column: str) -> str:
        start, end = last_quarter(r)
        return window(r, column, start=start, end=end)

    def previous_month(r: Refs, column: str) -> str:
        start, end = last_month(r)
        return window(r, column, start=start, end=end)

    return [
        metric(
            "m-1",
            "what was total revenue last quarter?",
            value_of(
                "revenue last quarter",
                lambda r: f"SELECT SUM(o.total_amount) FROM orders o WHERE {KEPT} AND {last_q(r, 'o.ordered_at')}",
                "money",
            ),
        ),
        metric(
            "m-2",
            f"how many orders did we get in {year}?",
            value_of(
                "orders this year",
                lambda r: f"SELECT COUNT(*) FROM orders o WHERE {window(r, 'o.ordered_at', start=ytd)}",
                "count",
            ),
        ),
        metric(
            "m-3",
            "typical order value in Spain?",
            value_of(
                "Spain AOV", f"SELECT AVG(o.total_amount) FROM {ORDERS} WHERE {KEPT} AND c.country = 'Spain'", "money"
            ),
        ),
        metric(
            "m-4",
            "which market gives us the lowest star ratings?",
            top_group(
                "rating by country asc",
                f"SELECT c.country, AVG(r.rating) AS v FROM {REVIEWS} GROUP BY c.country ORDER BY v ASC",
            ),
        ),
        metric(
            "m-5",
            "late delivery rate over the last 30 days",
            value_of(
                "late 30d",
                lambda r: f"SELECT {LATE} FROM orders o WHERE {DELIVERED} AND {window(r, 'o.delivered_at', days=30)}",
                "share",
            ),
        ),
        metric(
            "m-6",
            f"March {year} sign-ups: how many?",
            value_of(
                "March signups",
                f"SELECT COUNT(*) FROM customers WHERE {in_month('signup_at', year, 3)}",
                "count",
            ),
        ),
        metric(
            "m-7",
            "what share of tickets are about payment problems?",
            value_of(
                "payment share",
                "SELECT AVG(CASE WHEN topic = 'payment' THEN 1.0 ELSE 0.0 END) FROM support_tickets",
                "share",
            ),
        ),
        metric(
            "m-8",
            "average satisfaction for phone tickets",
            value_of("phone csat", "SELECT AVG(satisfaction) FROM support_tickets WHERE channel = 'phone'"),
            persona="cs_staff",
        ),
        metric(
            "m-9",
            "revenue by acquisition channel this year",
            every_group(
                "revenue by acquisition YTD",
                lambda r: (
                    f"SELECT c.acquisition_channel, SUM(o.total_amount) FROM {ORDERS} WHERE {KEPT} AND "
                    f"{window(r, 'o.ordered_at', start=ytd)} GROUP BY 1"
                ),
                "money",
            ),
        ),
        metric(
            "m-10",
            "what's our best-selling category by units?",
            top_group(
                "units by category",
                f"SELECT i.category, SUM(i.quantity) AS v FROM {ITEMS} WHERE {KEPT} GROUP BY i.category ORDER BY v DESC",
            ),
        ),
        metric(
            "m-11",
            "how much revenue is at risk among platinum customers?",
            value_of(
                "platinum revenue at risk",
                f"SELECT SUM(cs.probability * COALESCE(cs.spend_365d, 0)) FROM {SCORED} AND c.segment = 'platinum'",
                "money",
            ),
        ),
        metric(
            "m-12",
            "number of unresolved tickets by topic",
            every_group(
                "unresolved by topic",
                "SELECT topic, COUNT(*) FROM support_tickets WHERE status <> 'resolved' GROUP BY topic",
                "count",
            ),
            persona="cs_staff",
        ),
        metric(
            "m-13",
            "what's our average customer lifetime value?",
            value_of("average LTV", f"SELECT AVG(COALESCE(cs.lifetime_value, 0)) FROM {SCORED}", "money"),
        ),
        metric(
            "m-14",
            "number of reviews posted last month",
            value_of(
                "reviews last month",
                lambda r: f"SELECT COUNT(*) FROM reviews WHERE {previous_month(r, 'created_at')}",
                "count",
            ),
        ),
        metric(
            "m-15",
            "share of German customers who opted in to marketing",
            value_of(
                "Germany opt-in",
                "SELECT AVG(CASE WHEN marketing_opt_in THEN 1.0 ELSE 0.0 END) FROM customers WHERE country = 'Germany'",
                "share",
            ),
        ),
        metric(
            "m-16",
            "monthly revenue for the past 6 months",
            every_group(
                "revenue by month 6m",
                lambda r: (
                    "SELECT strftime('%Y-%m', o.ordered_at), SUM(o.total_amount) FROM orders o WHERE "
                    f"{KEPT} AND o.ordered_at >= (SELECT date(MAX(ordered_at), '-6 months') FROM orders) GROUP BY 1"
                ),
                "money",
            ),
        ),
        metric(
            "m-17",
            "what's the average churn probability of bronze customers?",
            value_of("bronze churn", f"SELECT AVG(cs.probability) FROM {SCORED} AND c.segment = 'bronze'", "share"),
            persona="cs_staff",
        ),
        metric(
            "m-18",
            f"orders per sales channel in {year - 1}",
            every_group(
                "orders by channel last year",
                f"SELECT o.channel, COUNT(*) FROM orders o WHERE {in_year('o.ordered_at', year - 1)} GROUP BY 1",
                "count",
            ),
        ),
        metric(
            "m-19",
            "which city generates the most revenue?",
            top_group(
                "revenue by city",
                f"SELECT c.city, SUM(o.total_amount) AS v FROM {ORDERS} WHERE {KEPT} GROUP BY c.city ORDER BY v DESC",
            ),
        ),
        metric(
            "m-20",
            "how many customers are in the high risk band?",
            value_of("high band", f"SELECT COUNT(*) FROM {SCORED} AND cs.risk_band = 'high'", "count"),
            persona="cs_staff",
        ),
        metric(
            "m-21",
            f"average items per order in {year}",
            value_of(
                "items per order YTD",
                lambda r: (
                    f"SELECT SUM(i.quantity) * 1.0 / COUNT(DISTINCT i.order_id) FROM {ITEMS} WHERE {KEPT} AND "
                    f"{window(r, 'o.ordered_at', start=ytd)}"
                ),
            ),
        ),
        metric(
            "m-22",
            "which loyalty tier sends back the biggest share of its orders?",
            top_group(
                "returns by segment",
                f"SELECT c.segment, {RETURN_RATE} AS v FROM {ORDERS} WHERE {SETTLED} GROUP BY c.segment ORDER BY v DESC",
            ),
        ),
        metric(
            "m-23",
            "total discounts given last year",
            value_of(
                "discounts last year",
                f"SELECT SUM(o.discount_amount) FROM orders o WHERE {KEPT} AND {in_year('o.ordered_at', year - 1)}",
                "money",
            ),
        ),
        metric(
            "m-24",
            f"how many deliveries arrived late in September {year}?",
            value_of(
                "late September",
                f"SELECT COUNT(*) FROM orders o WHERE {DELIVERED} AND {LATE_ROW} AND {in_month('o.delivered_at', year, 9)}",
                "count",
            ),
        ),
        metric(
            "m-25",
            "avg rating of reviews written this year",
            value_of(
                "rating YTD",
                lambda r: f"SELECT AVG(rating) FROM reviews WHERE {window(r, 'created_at', start=ytd)}",
            ),
        ),
        metric(
            "m-26",
            "what percentage of reviews are 5 stars?",
            value_of("five-star share", "SELECT AVG(CASE WHEN rating = 5 THEN 1.0 ELSE 0.0 END) FROM reviews", "share"),
        ),
        metric(
            "m-27",
            "how many tickets came in by email last month?",
            value_of(
                "email tickets last month",
                lambda r: (
                    f"SELECT COUNT(*) FROM support_tickets WHERE channel = 'email' AND {previous_month(r, 'opened_at')}"
                ),
                "count",
            ),
            persona="cs_staff",
        ),
        metric(
            "m-28",
            "which acquisition channel has the highest churn risk?",
            top_group(
                "churn by acquisition",
                f"SELECT c.acquisition_channel, AVG(cs.probability) AS v FROM {SCORED} GROUP BY 1 ORDER BY v DESC",
            ),
        ),
        metric(
            "m-29",
            "what did customers from Lyon spend in total?",
            value_of(
                "Lyon revenue", f"SELECT SUM(o.total_amount) FROM {ORDERS} WHERE {KEPT} AND c.city = 'Lyon'", "money"
            ),
        ),
        metric(
            "m-30",
            "number of new customers per year",
            every_group(
                "signups by year",
                "SELECT CAST(strftime('%Y', signup_at) AS INTEGER), COUNT(*) FROM customers GROUP BY 1",
                "count",
            ),
        ),
        metric(
            "m-31",
            "predicted revenue from gold customers over the next 12 months",
            value_of(
                "gold predicted value",
                f"SELECT SUM(cs.predicted_value_12m) FROM {SCORED} AND c.segment = 'gold'",
                "money",
            ),
        ),
        metric(
            "m-32",
            "return rate in Italy vs Spain",
            every_group(
                "returns Italy/Spain",
                f"SELECT c.country, {RETURN_RATE} FROM {ORDERS} WHERE {SETTLED} AND c.country IN ('Italy', 'Spain') "
                "GROUP BY c.country",
                "share",
            ),
        ),
        metric(
            "m-33",
            "how many orders were cancelled in the past 90 days?",
            value_of(
                "cancelled 90d",
                lambda r: (
                    f"SELECT COUNT(*) FROM orders o WHERE o.status = 'cancelled' AND {window(r, 'o.ordered_at', days=90)}"
                ),
                "count",
            ),
        ),
        metric(
            "m-34",
            f"tickets per month in {year}",
            every_group(
                "tickets by month YTD",
                lambda r: (
                    f"SELECT strftime('%Y-%m', opened_at), COUNT(*) FROM support_tickets WHERE "
                    f"{window(r, 'opened_at', start=ytd)} GROUP BY 1"
                ),
                "count",
            ),
            persona="cs_staff",
        ),
        metric(
            "m-35",
            "top 5 cities by number of customers",
            top_group(
                "customers by city",
                "SELECT city, COUNT(*) AS n FROM customers GROUP BY city ORDER BY n DESC",
            ),
        ),
        metric(
            "m-36",
            "average predicted 12-month value per segment",
            every_group(
                "predicted value by segment",
                f"SELECT c.segment, AVG(cs.predicted_value_12m) FROM {SCORED} GROUP BY c.segment",
                "money",
            ),
        ),
        metric(
            "m-37",
            "what share of our orders go through the marketplace?",
            value_of(
                "marketplace share",
                "SELECT AVG(CASE WHEN channel = 'marketplace' THEN 1.0 ELSE 0.0 END) FROM orders",
                "share",
            ),
        ),
        metric(
            "m-38",
            "which product category gets the worst reviews?",
            top_group(
                "rating by category asc",
                f"SELECT {REVIEW_CATEGORY} AS g, AVG(r.rating) AS v FROM reviews r GROUP BY g HAVING g IS NOT NULL "
                "ORDER BY v ASC",
            ),
        ),
        metric(
            "m-39",
            f"how much did we sell on the app in October {year}?",
            value_of(
                "app revenue October",
                f"SELECT SUM(o.total_amount) FROM orders o WHERE {KEPT} AND o.channel = 'app' AND "
                f"{in_month('o.ordered_at', year, 10)}",
                "money",
            ),
        ),
        metric(
            "m-40",
            "count customers by country",
            every_group("customers by country", "SELECT country, COUNT(*) FROM customers GROUP BY country", "count"),
            persona="cs_staff",
        ),
        metric(
            "m-41",
            "how many critical customers are there in Ireland?",
            value_of(
                "Ireland critical",
                f"SELECT COUNT(*) FROM {SCORED} AND c.country = 'Ireland' AND cs.risk_band = 'critical'",
                "count",
            ),
            persona="cs_staff",
        ),
        metric(
            "m-42",
            "how many late deliveries did Italian customers get this year?",
            value_of(
                "Italy late YTD",
                lambda r: (
                    f"SELECT COUNT(*) FROM {ORDERS} WHERE {DELIVERED} AND {LATE_ROW} AND c.country = 'Italy' AND "
                    f"{window(r, 'o.delivered_at', start=ytd)}"
                ),
                "count",
            ),
        ),
    ]


def follow_up_cases(refs: Refs) -> list[Case]:
    """Multi-turn conversations where a turn changes one thing, or points back at a customer."""
    bronze10 = top_active(refs, 10, "AND c.segment = 'bronze'")
    spain_high = top_active(refs, 3, "AND c.country = 'Spain' AND cs.risk_band = 'high'")
    gold5 = top_active(refs, 5, "AND c.segment = 'gold'")
    refs.values.update(v_bronze4=bronze10[3], v_spain2=spain_high[1], v_gold5=gold5[4])
    year = year_of(refs)
    ytd = date(year, 1, 1)
    revenue_by_country = f"SELECT c.country, SUM(o.total_amount) FROM {ORDERS} WHERE {KEPT} AND "
    rating_by_category = f"SELECT {REVIEW_CATEGORY} AS g, AVG(r.rating) FROM reviews r WHERE "
    late_by_country = f"SELECT c.country, {LATE} FROM {ORDERS} WHERE {DELIVERED}"
    returns = f"SELECT {RETURN_RATE} FROM {ORDERS} WHERE {SETTLED}"

    def listed(n: int, where: str = "") -> Check:
        return ids_equal(lambda r: top_active(r, n, where))

    def case(name: str, persona: str, *steps: Step) -> Case:
        return Case(name, persona, list(steps))

    def analytics(question: str, check: Check) -> Step:
        return Step(question, {M}, check, "analytics")

    def last_q(r: Refs, column: str) -> str:
        start, end = last_quarter(r)
        return window(r, column, start=start, end=end)

    return [
        case(
            "fu-country",
            "cs_staff",
            Step("5 french customers most at risk", {L}, listed(5, "AND c.country = 'France'")),
            Step("same for germany", {L}, listed(5, "AND c.country = 'Germany'")),
            Step("only gold ones", {L}, listed(5, "AND c.country = 'Germany' AND c.segment = 'gold'")),
        ),
        case(
            "fu-fourth",
            "support_agent",
            Step("10 riskiest bronze customers", {L}, listed(10, "AND c.segment = 'bronze'")),
            Step("open the fourth one", {P}, about("v_bronze4")),
            Step("why is that customer at risk?", {X}, probability_of("v_bronze4")),
            Step("write them a win-back email", {DRAFT}, draft_respects_policy("v_bronze4"), "draft"),
        ),
        case(
            "fu-revenue-years",
            "manager",
            analytics(
                "revenue per country last year",
                every_group(
                    "revenue by country",
                    revenue_by_country + in_year("o.ordered_at", year - 1) + " GROUP BY 1",
                    "money",
                ),
            ),
            analytics(
                "and the year before?",
                every_group(
                    "revenue by country 2y",
                    revenue_by_country + in_year("o.ordered_at", year - 2) + " GROUP BY 1",
                    "money",
                ),
            ),
            analytics(
                "only the web channel",
                every_group(
                    "web revenue by country 2y",
                    revenue_by_country + in_year("o.ordered_at", year - 2) + " AND o.channel = 'web' GROUP BY 1",
                    "money",
                ),
            ),
        ),
        case(
            "fu-rating-category",
            "manager",
            analytics(
                "how are the different categories rated on average?",
                every_group("rating by category", rating_by_category + "1 = 1 GROUP BY g HAVING g IS NOT NULL"),
            ),
            analytics(
                f"what about in {year - 1} only?",
                every_group(
                    "rating by category last year",
                    rating_by_category + in_year("r.created_at", year - 1) + " GROUP BY g HAVING g IS NOT NULL",
                ),
            ),
        ),
        case(
            "fu-tickets-30d",
            "manager",
            analytics(
                "ticket volume over the last 30 days?",
                value_of(
                    "tickets 30d",
                    lambda r: f"SELECT COUNT(*) FROM support_tickets WHERE {window(r, 'opened_at', days=30)}",
                    "count",
                ),
            ),
            analytics(
                "by channel?",
                every_group(
                    "tickets by channel 30d",
                    lambda r: (
                        f"SELECT channel, COUNT(*) FROM support_tickets WHERE {window(r, 'opened_at', days=30)} "
                        "GROUP BY channel"
                    ),
                    "count",
                ),
            ),
            analytics(
                "which topic was most common?",
                top_group(
                    "topic 30d",
                    lambda r: (
                        f"SELECT topic, COUNT(*) AS n FROM support_tickets WHERE {window(r, 'opened_at', days=30)} "
                        "GROUP BY topic ORDER BY n DESC"
                    ),
                ),
            ),
        ),
        case(
            "fu-shop-id",
            "cs_staff",
            Step(f"show {SHOP_IDS[2]}", {P}, about("v_shop2")),
            Step("how likely are they to churn?", {X}, probability_of("v_shop2")),
            Step("any tickets from them?", {F}, tickets_count_of("v_shop2")),
        ),
        case(
            "fu-high-spain",
            "cs_staff",
            Step(
                "spanish customers in the high band",
                {L},
                listed(10, "AND c.country = 'Spain' AND cs.risk_band = 'high'"),
            ),
            Step("just the top 3", {L}, listed(3, "AND c.country = 'Spain' AND cs.risk_band = 'high'")),
            Step("explain the second", {X}, probability_of("v_spain2")),
        ),
        case(
            "fu-late-country",
            "manager",
            analytics(
                "% of deliveries that were late, split by country",
                every_group("late by country", late_by_country + " GROUP BY 1", "share"),
            ),
            analytics(
                "same for the last 90 days",
                every_group(
                    "late by country 90d",
                    lambda r: late_by_country + f" AND {window(r, 'o.delivered_at', days=90)} GROUP BY 1",
                    "share",
                ),
            ),
            analytics(
                "platinum only",
                every_group(
                    "platinum late by country 90d",
                    lambda r: (
                        late_by_country
                        + f" AND c.segment = 'platinum' AND {window(r, 'o.delivered_at', days=90)} GROUP BY 1"
                    ),
                    "share",
                ),
            ),
        ),
        case(
            "fu-her-reviews",
            "support_agent",
            Step(f"quick summary of {refs['v_rev']}'s account", {P}, about("v_rev")),
            Step("show her reviews", {F}, reviews_of("v_rev")),
        ),
        case(
            "fu-signups-optin",
            "manager",
            analytics(
                "how many customers signed up last month?",
                value_of(
                    "signups last month",
                    lambda r: (
                        "SELECT COUNT(*) FROM customers WHERE "
                        + window(r, "signup_at", start=last_month(r)[0], end=last_month(r)[1])
                    ),
                    "count",
                ),
            ),
            analytics(
                "how many of those opted in to marketing?",
                value_of(
                    "opted-in signups last month",
                    lambda r: (
                        "SELECT COUNT(*) FROM customers WHERE marketing_opt_in = 1 AND "
                        + window(r, "signup_at", start=last_month(r)[0], end=last_month(r)[1])
                    ),
                    "count",
                ),
            ),
        ),
        case(
            "fu-high-only",
            "cs_staff",
            Step("who are the top 10 at-risk customers?", {L}, listed(10)),
            Step("only those in the high band", {L}, listed(10, "AND cs.risk_band = 'high'")),
        ),
        case(
            "fu-at-risk-groups",
            "manager",
            analytics(
                "how is the revenue at risk split across segments?",
                every_group(
                    "revenue at risk by segment",
                    f"SELECT c.segment, SUM(cs.probability * COALESCE(cs.spend_365d, 0)) FROM {SCORED} GROUP BY 1",
                    "money",
                ),
            ),
            analytics(
                "and by country?",
                every_group(
                    "revenue at risk by country",
                    f"SELECT c.country, SUM(cs.probability * COALESCE(cs.spend_365d, 0)) FROM {SCORED} GROUP BY 1",
                    "money",
                ),
            ),
        ),
        case(
            "fu-why-draft",
            "support_agent",
            Step(f"what's pushing {refs['v_crit2']} towards churning?", {X}, probability_of("v_crit2")),
            Step("draft an offer for this customer", {DRAFT}, draft_respects_policy("v_crit2"), "draft"),
        ),
        case(
            "fu-returns-quarter",
            "manager",
            analytics(
                "return rate last quarter",
                value_of("returns last quarter", lambda r: returns + f" AND {last_q(r, 'o.ordered_at')}", "share"),
            ),
            analytics(
                "and for Germany?",
                value_of(
                    "Germany returns last quarter",
                    lambda r: returns + f" AND c.country = 'Germany' AND {last_q(r, 'o.ordered_at')}",
                    "share",
                ),
            ),
        ),
        case(
            "fu-greeting",
            "cs_staff",
            Step("hiya, happy monday", set(), help_reply, "respond"),
            Step("who should I focus on today?", {L}, listed(10)),
            Step("great, thanks a lot", set(), no_tool_reply, "respond"),
        ),
        case(
            "fu-aov-years",
            "manager",
            analytics(
                "AOV this year",
                value_of(
                    "AOV YTD",
                    lambda r: (
                        f"SELECT AVG(o.total_amount) FROM orders o WHERE {KEPT} AND {window(r, 'o.ordered_at', start=ytd)}"
                    ),
                    "money",
                ),
            ),
            analytics(
                "and last year?",
                value_of(
                    "AOV last year",
                    f"SELECT AVG(o.total_amount) FROM orders o WHERE {KEPT} AND {in_year('o.ordered_at', year - 1)}",
                    "money",
                ),
            ),
        ),
        case(
            "fu-last-one",
            "cs_staff",
            Step("show me 5 gold customers at risk", {L}, listed(5, "AND c.segment = 'gold'")),
            Step("tell me about the last one", {P}, about("v_gold5")),
        ),
        case(
            "fu-eligible",
            "support_agent",
            Step(f"can I see {refs['v_eligible3']}'s details?", {P}, about("v_eligible3")),
            Step("which offer would the policy allow for them?", {POLICY}, offer_choice("v_eligible3")),
        ),
    ]
