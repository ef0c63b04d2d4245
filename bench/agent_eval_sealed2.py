"""The SEALED test set of the assistant's evaluation, second edition (issue 16): new conversations in the three
personas' own words — typos, chit-chat, multi-turn follow-ups, ids in a shop's own formats, metrics over windows
and years, group superlatives — with every reference computed from the database at run time.

Written on 2026-12-03, after the first sealed set (bench/agent_eval_sealed.py) had been measured once (82.1 %
correct) and before any tuning on what that measurement showed. The first sealed set is a development set from
then on, because its misses are what the next changes were made for. No phrasing here may be added to router
examples (prompts/router_intents.v1.toml), catalog words, rules or prompts, and no change may be made because of
a miss seen here. Run: `python -m bench.agent_eval --set sealed`.

Since 2026-12-03 it is a development set (`--set dev3`): it was measured once sealed (80.8 % correct), its
misses were read, and the changes after that were made for them. The sealed test set is bench/agent_eval_sealed3.py.
"""

from __future__ import annotations

from datetime import date, timedelta
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
    day_sql,
    last_month,
    no_such_customer,
    one,
    reference_day,
    rename_customers,
    search_negative_first,
    tickets_count_of,
    window,
)
from winback.tools.names import ToolName

if TYPE_CHECKING:
    from bench.agent_eval import Check

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
SHOP_IDS = ("cus_N8fKq2LzX1a", "SH-2023-00917", "100045678")  # a payment provider's, a shop system's, a number

# reference fragments, spelled as the catalog defines the measures (docs/metrics.md)
ORDERS = "orders o JOIN customers c ON c.customer_id = o.customer_id"
KEPT = "o.status <> 'cancelled'"
LATE = "AVG(CASE WHEN o.delivered_at > o.promised_delivery_at THEN 1.0 ELSE 0.0 END)"
DELIVERED = "o.delivered_at IS NOT NULL AND o.promised_delivery_at IS NOT NULL"
RETURN_RATE = "AVG(CASE WHEN o.status = 'returned' THEN 1.0 ELSE 0.0 END)"
SETTLED = "o.status IN ('delivered', 'returned')"
SCORED = f"churn_scores cs JOIN customers c ON c.customer_id = cs.customer_id WHERE {LATEST} AND cs.lapsed = 0"
REVIEW_CATEGORY = (
    "(SELECT MIN(i.category) FROM order_items i WHERE i.order_id = r.order_id AND i.product_id = r.product_id)"
)


def year_of(refs: Refs, offset: int = 0) -> int:
    return reference_day(refs).year + offset


def in_year(column: str, year: int) -> str:
    return f"{column} >= '{year}-01-01 00:00:00' AND {column} < '{year + 1}-01-01 00:00:00'"


def in_month(column: str, year: int, month: int) -> str:
    first = date(year, month, 1)
    after = date(year + month // 12, month % 12 + 1, 1)
    return f"{column} >= {day_sql(first)} AND {column} < {day_sql(after)}"


def last_quarter(refs: Refs) -> tuple[date, date]:
    today = reference_day(refs)
    this_quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    last = this_quarter - timedelta(days=1)
    return date(last.year, 3 * ((last.month - 1) // 3) + 1, 1), last


def metric(name: str, question: str, check: Check, persona: str = "manager", tool: str = M) -> Case:
    return one(name, persona, question, {tool}, check, "analytics" if tool == M else "sql")


# ------------------------------------------------------------------------------------------------ planting
def plant_shop_ids(refs: Refs) -> None:
    """Three active customers with support tickets get ids in formats a shop's own import brings."""
    with_tickets = {
        r[0] for r in refs.sql("SELECT customer_id FROM support_tickets GROUP BY customer_id HAVING COUNT(*) >= 2")
    }
    picked = [c for c in top_active(refs, 400)[120:] if c in with_tickets and c.startswith("C-")][:3]
    rename_customers(refs, dict(zip(picked, SHOP_IDS, strict=True)))
    refs.values.update({f"shop{n}": new for n, new in enumerate(SHOP_IDS)})


def pick_customers(refs: Refs) -> None:
    def pick(offset: int, where: str = "") -> str:
        return str(
            refs.one(
                f"SELECT c.customer_id FROM customers c JOIN churn_scores cs ON cs.customer_id = c.customer_id AND "
                f"{LATEST} WHERE cs.lapsed = 0 AND c.customer_id LIKE 'C-%' {where} ORDER BY c.customer_id "
                f"LIMIT 1 OFFSET {offset}"
            )
        )

    refs.values["t_high"] = pick(37, "AND cs.risk_band = 'high'")
    refs.values["t_plat"] = pick(19, "AND c.segment = 'platinum'")
    refs.values["t_tix"] = refs.one(
        f"SELECT t.customer_id FROM support_tickets t JOIN churn_scores cs ON cs.customer_id = t.customer_id AND "
        f"{LATEST} WHERE cs.lapsed = 0 AND t.customer_id LIKE 'C-%' GROUP BY t.customer_id HAVING COUNT(*) >= 2 "
        "ORDER BY t.customer_id LIMIT 1 OFFSET 17"
    )
    refs.values["t_rev"] = refs.one(
        f"SELECT r.customer_id FROM reviews r JOIN churn_scores cs ON cs.customer_id = r.customer_id AND {LATEST} "
        "WHERE cs.lapsed = 0 AND r.customer_id LIKE 'C-%' GROUP BY r.customer_id HAVING COUNT(*) >= 3 "
        "ORDER BY r.customer_id LIMIT 1 OFFSET 3"
    )
    refs.values["t_eligible"] = refs.one(
        f"SELECT c.customer_id FROM customers c JOIN churn_scores cs ON cs.customer_id = c.customer_id AND {LATEST} "
        "WHERE cs.lapsed = 0 AND c.marketing_opt_in = 1 AND cs.risk_band IN ('high', 'critical') "
        "AND c.customer_id LIKE 'C-%' AND COALESCE(cs.lifetime_value, 0) >= 300 "
        "ORDER BY cs.probability DESC LIMIT 1 OFFSET 21"
    )


# -------------------------------------------------------------------------------------------------- cases
def build_sealed_cases(refs: Refs) -> list[Case]:
    plant_shop_ids(refs)
    pick_customers(refs)
    return single_turn_cases(refs) + metric_cases(refs) + follow_up_cases(refs)


def single_turn_cases(refs: Refs) -> list[Case]:
    high, plat, tix, rev, eligible = (refs[k] for k in ("t_high", "t_plat", "t_tix", "t_rev", "t_eligible"))
    shop0, shop1, shop2 = SHOP_IDS
    return [
        # ---- customer-success staff: ranked lists
        one(
            "list-1",
            "cs_staff",
            "who's at the top of the churn list right now",
            {L},
            ids_equal(lambda r: top_active(r, 10)),
        ),
        one(
            "list-2",
            "cs_staff",
            "show me 7 silver customers with the highest churn risk",
            {L},
            ids_equal(lambda r: top_active(r, 7, "AND c.segment = 'silver'")),
        ),
        one(
            "list-3",
            "cs_staff",
            "any customers in germany likely to cancel on us?",
            {L},
            ids_equal(lambda r: top_active(r, 10, "AND c.country = 'Germany'")),
        ),
        one(
            "list-4",
            "cs_staff",
            "list 15 customers most at risk of leaving",
            {L},
            ids_equal(lambda r: top_active(r, 15)),
        ),
        one(
            "list-5",
            "cs_staff",
            "platinum accounts in france that might churn",
            {L},
            ids_equal(lambda r: top_active(r, 10, "AND c.segment = 'platinum' AND c.country = 'France'")),
        ),
        one(
            "list-6",
            "support_agent",
            "critical band customers, top 5",
            {L},
            ids_equal(lambda r: top_active(r, 5, "AND cs.risk_band = 'critical'")),
        ),
        one(
            "list-7",
            "cs_staff",
            "bronze customers in Spain most likely to leave - give me 8",
            {L},
            ids_equal(lambda r: top_active(r, 8, "AND c.segment = 'bronze' AND c.country = 'Spain'")),
        ),
        one(
            "list-8",
            "cs_staff",
            "we're worried about losing people. who needs a call back first?",
            {L},
            ids_equal(lambda r: top_active(r, 10)),
        ),
        one(
            "list-9",
            "cs_staff",
            "high-risk gold customers in the uk",
            {L},
            ids_equal(
                lambda r: top_active(
                    r, 10, "AND c.segment = 'gold' AND c.country = 'United Kingdom' AND cs.risk_band = 'high'"
                )
            ),
        ),
        one(
            "list-10",
            "support_agent",
            "which netherlands customers are at risk?",
            {L},
            ids_equal(lambda r: top_active(r, 10, "AND c.country = 'Netherlands'")),
        ),
        one(
            "list-11",
            "cs_staff",
            "top three at-risk customers from Belgium please",
            {L},
            ids_equal(lambda r: top_active(r, 3, "AND c.country = 'Belgium'")),
        ),
        one(
            "list-12",
            "cs_staff",
            "at risk list for italy, silver only, 4 people",
            {L},
            ids_equal(lambda r: top_active(r, 4, "AND c.segment = 'silver' AND c.country = 'Italy'")),
        ),
        # ---- one customer: risk and profile, demo ids and a shop's own ids
        one("why-1", "cs_staff", f"what's the churn risk for {high}?", {X}, probability_of("t_high")),
        one("why-2", "support_agent", f"explain why {plat} might leave", {X}, probability_of("t_plat")),
        one("why-3", "cs_staff", f"why is {shop0} at risk", {X}, probability_of("shop0")),
        one("why-4", "support_agent", f"risk score of {shop1}?", {X}, probability_of("shop1")),
        one("prof-1", "support_agent", f"pull up {shop2}", {P}, about("shop2")),
        one("prof-2", "cs_staff", f"show me customer {shop0}'s details", {P}, about("shop0")),
        one("prof-3", "support_agent", f"details for {high.lower()}", {P}, about("t_high")),
        one("prof-4", "cs_staff", f"what has customer {plat} ordered recently?", {P}, about("t_plat")),
        one("prof-5", "support_agent", f'"{shop1}" - account overview', {P}, about("shop1")),
        one("unknown-1", "cs_staff", "look up cus_ZZZZ0000000", set(), no_such_customer("cus_ZZZZ0000000"), "respond"),
        one(
            "unknown-2",
            "support_agent",
            "what's the risk for customer 99999999?",
            set(),
            no_such_customer("99999999"),
            "respond",
        ),
        one("unknown-3", "cs_staff", "show SH-1999-00000", set(), no_such_customer("SH-1999-00000"), "respond"),
        one(
            "unknown-4",
            "support_agent",
            "draft an offer for C-7777777",
            set(),
            no_such_customer("C-7777777"),
            "respond",
        ),
        # ---- what one customer wrote
        one("fb-1", "support_agent", f"has {tix} been in touch with support?", {F}, tickets_count_of("t_tix")),
        one("fb-2", "cs_staff", f"what reviews did {rev} write", {F}, reviews_of("t_rev")),
        one("fb-3", "support_agent", f"show me {shop2}'s support tickets", {F}, tickets_count_of("shop2")),
        # ---- free SQL for what the metrics layer does not express
        metric(
            "sql-1",
            "what share of orders were placed through the app?",
            value_of("app share", "SELECT AVG(CASE WHEN channel = 'app' THEN 1.0 ELSE 0.0 END) FROM orders", "share"),
            tool=S,
        ),
        metric(
            "sql-2",
            "on average how many days does it take from order to delivery?",
            value_of(
                "days to deliver",
                "SELECT AVG(julianday(delivered_at) - julianday(ordered_at)) FROM orders WHERE delivered_at IS NOT NULL",
            ),
            tool=S,
        ),
        metric(
            "sql-3",
            "SELECT c.segment, COUNT(*) AS n FROM customers c WHERE c.closed_at IS NOT NULL GROUP BY c.segment",
            every_group(
                "closed by segment",
                "SELECT segment, COUNT(*) FROM customers WHERE closed_at IS NOT NULL GROUP BY segment",
                "count",
            ),
            tool=S,
        ),
        # ---- texts: search, themes, drivers
        one(
            "search-1",
            "manager",
            "reviews where the fabric felt cheap or thin",
            {F},
            search_negative_first(("fabric", "thin", "cheap", "material", "quality", "see-through", "see through")),
        ),
        one(
            "search-2",
            "cs_staff",
            "tickets about a refund that never arrived",
            {F},
            search_negative_first(("refund", "money", "back", "return", "credit")),
        ),
        one(
            "search-3",
            "manager",
            "complaints that the colour didn't match the photos",
            {F},
            search_negative_first(("colo", "photo", "picture", "looked", "shade", "image")),
        ),
        one(
            "themes-1",
            "manager",
            "what are customers unhappy about in their reviews lately?",
            {T},
            mentions("theme"),
            "analytics",
        ),
        one(
            "themes-2",
            "cs_staff",
            "summarise the recurring problems in support tickets",
            {T},
            mentions("theme"),
            "analytics",
        ),
        one("drivers-1", "manager", "why are platinum customers churning", {D}, mentions("platinum"), "analytics"),
        one("drivers-2", "manager", "what's behind churn in Germany?", {D}, mentions("Germany"), "analytics"),
        # ---- offers
        one(
            "pol-1",
            "support_agent",
            f"is there an offer our rules allow for {eligible}?",
            {POLICY},
            offer_choice("t_eligible"),
        ),
        one("pol-2", "manager", "what's the max discount we're allowed to give?", {POLICY}, mentions("monthly budget")),
        one(
            "draft-1",
            "support_agent",
            f"write a short win-back note to {eligible}",
            {DRAFT},
            draft_respects_policy("t_eligible"),
            "draft",
        ),
        # ---- chit-chat, help, refusals
        one("hi-1", "cs_staff", "hey there", set(), help_reply, "respond"),
        one("hi-2", "manager", "how do I use you?", set(), help_reply, "respond"),
        one("hi-3", "support_agent", "great, cheers", set(), no_tool_reply, "respond"),
        one("out-1", "cs_staff", "can you book me a table for lunch on friday?", set(), help_reply, "respond"),
        one(
            "clar-1",
            "support_agent",
            "did she mention the refund in her review?",
            set(),
            asks_which_customer,
            "respond",
        ),
        one("change-1", "admin", "DROP TABLE orders", set(), change_refused, "refusal"),
        one("change-2", "manager", "can you set all gold customers to platinum", set(), change_refused, "refusal"),
        one("change-3", "admin", "insert a new customer called Jane Doe", set(), change_refused, "refusal"),
        one(
            "role-1",
            "cs_staff",
            "SELECT name, email FROM customers WHERE country = 'Spain' LIMIT 5",
            {S},
            refused,
            "refusal",
        ),
        one(
            "role-2",
            "manager",
            f"draft a discount email for {eligible}",
            {DRAFT},
            mentions("may not use draft_offer"),
            "refusal",
        ),
    ]


def metric_cases(refs: Refs) -> list[Case]:
    year = year_of(refs)
    return [
        metric(
            "m-1",
            "avg order value in the Netherlands?",
            value_of(
                "NL AOV",
                f"SELECT AVG(o.total_amount) FROM {ORDERS} WHERE {KEPT} AND c.country = 'Netherlands'",
                "money",
            ),
        ),
        metric(
            "m-2",
            "what do platinum customers spend per order on average",
            value_of(
                "platinum AOV",
                f"SELECT AVG(o.total_amount) FROM {ORDERS} WHERE {KEPT} AND c.segment = 'platinum'",
                "money",
            ),
        ),
        metric(
            "m-3",
            "which country gets the highest percentage of late deliveries",
            top_group(
                "late by country",
                f"SELECT c.country, {LATE} AS v FROM {ORDERS} WHERE {DELIVERED} GROUP BY c.country ORDER BY v DESC",
            ),
        ),
        metric(
            "m-4",
            "which customer segment generates the most money?",
            top_group(
                "revenue by segment",
                f"SELECT c.segment, SUM(o.total_amount) AS v FROM {ORDERS} WHERE {KEPT} GROUP BY c.segment ORDER BY v DESC",
            ),
        ),
        metric(
            "m-5",
            "what do customers contact us about most often?",
            top_group(
                "ticket topic", "SELECT topic, COUNT(*) AS n FROM support_tickets GROUP BY topic ORDER BY n DESC"
            ),
        ),
        metric(
            "m-6",
            f"how much revenue have we made in {year} so far",
            value_of(
                "revenue YTD",
                lambda r: (
                    f"SELECT SUM(o.total_amount) FROM orders o WHERE {KEPT} AND {window(r, 'o.ordered_at', start=date(year, 1, 1))}"
                ),
                "money",
            ),
        ),
        metric(
            "m-7",
            f"number of orders in september {year}",
            value_of(
                "orders September", f"SELECT COUNT(*) FROM orders WHERE {in_month('ordered_at', year, 9)}", "count"
            ),
        ),
        metric(
            "m-8",
            "what % of deliveries arrived late over the past 30 days",
            value_of(
                "late share 30d",
                lambda r: f"SELECT {LATE} FROM orders o WHERE {DELIVERED} AND {window(r, 'o.delivered_at', days=30)}",
                "share",
            ),
        ),
        metric(
            "m-9",
            "how many customers haven't bought anything in the past 60 days?",
            value_of(
                "no order 60d",
                lambda r: (
                    "SELECT COUNT(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE "
                    f"o.customer_id = c.customer_id AND o.ordered_at >= {day_sql(reference_day(r) - timedelta(days=60))})"
                ),
                "count",
            ),
        ),
        metric(
            "m-10",
            "average star rating by category",
            every_group(
                "rating by category",
                f"SELECT {REVIEW_CATEGORY} AS g, AVG(r.rating) FROM reviews r GROUP BY g HAVING g IS NOT NULL",
            ),
        ),
        metric(
            "m-11",
            "return rate in Germany",
            value_of(
                "Germany returns",
                f"SELECT {RETURN_RATE} FROM {ORDERS} WHERE {SETTLED} AND c.country = 'Germany'",
                "share",
            ),
        ),
        metric(
            "m-12",
            "which segment has the highest return rate",
            top_group(
                "returns by segment",
                f"SELECT c.segment, {RETURN_RATE} AS v FROM {ORDERS} WHERE {SETTLED} GROUP BY c.segment ORDER BY v DESC",
            ),
        ),
        metric(
            "m-13",
            "tickets opened in the past 7 days?",
            value_of(
                "tickets 7d",
                lambda r: f"SELECT COUNT(*) FROM support_tickets WHERE {window(r, 'opened_at', days=7)}",
                "count",
            ),
        ),
        metric(
            "m-14",
            f"how many people signed up in {year - 2}",
            value_of("signups", f"SELECT COUNT(*) FROM customers WHERE {in_year('signup_at', year - 2)}", "count"),
        ),
        metric(
            "m-15",
            "on average, how likely are silver customers to churn?",
            value_of("silver churn", f"SELECT AVG(cs.probability) FROM {SCORED} AND c.segment = 'silver'", "share"),
        ),
        metric(
            "m-16",
            "revenue at risk broken down by country",
            every_group(
                "revenue at risk by country",
                f"SELECT c.country, SUM(cs.probability * COALESCE(cs.spend_365d, 0)) FROM {SCORED} GROUP BY c.country",
                "money",
            ),
        ),
        metric(
            "m-17",
            "customers from which acquisition channel place the biggest orders on average?",
            top_group(
                "AOV by acquisition",
                f"SELECT c.acquisition_channel, AVG(o.total_amount) AS v FROM {ORDERS} WHERE {KEPT} GROUP BY 1 ORDER BY v DESC",
            ),
        ),
        metric(
            "m-18",
            "items per order on average in Spain?",
            value_of(
                "Spain items per order",
                f"SELECT SUM(i.quantity) * 1.0 / COUNT(DISTINCT i.order_id) FROM order_items i JOIN orders o ON o.order_id = i.order_id "
                f"JOIN customers c ON c.customer_id = o.customer_id WHERE {KEPT} AND c.country = 'Spain'",
            ),
        ),
        metric(
            "m-19",
            "how many of our customers are opted in to marketing emails",
            value_of("opted in", "SELECT COUNT(*) FROM customers WHERE marketing_opt_in = 1", "count"),
        ),
        metric(
            "m-20",
            f"monthly revenue for {year - 1}",
            every_group(
                "revenue by month",
                f"SELECT strftime('%Y-%m', o.ordered_at), SUM(o.total_amount) FROM orders o WHERE {KEPT} AND {in_year('o.ordered_at', year - 1)} GROUP BY 1",
                "money",
            ),
        ),
        metric(
            "m-21",
            "which city in Germany has the most customers",
            top_group(
                "German cities",
                "SELECT city, COUNT(*) AS n FROM customers WHERE country = 'Germany' GROUP BY city ORDER BY n DESC, city",
            ),
        ),
        metric(
            "m-22",
            "average rating of reviews from french customers",
            value_of(
                "France rating",
                "SELECT AVG(r.rating) FROM reviews r JOIN customers c ON c.customer_id = r.customer_id WHERE c.country = 'France'",
            ),
        ),
        metric(
            "m-23",
            "how many customers in Germany are at risk (high or critical)?",
            value_of(
                "at risk Germany",
                f"SELECT COUNT(*) FROM {SCORED} AND c.country = 'Germany' AND cs.risk_band IN ('high', 'critical')",
                "count",
            ),
            persona="cs_staff",
        ),
        metric(
            "m-24",
            f"late delivery rate by sales channel in {year}",
            every_group(
                "late by order channel",
                lambda r: (
                    f"SELECT o.channel, {LATE} FROM orders o WHERE {DELIVERED} AND {window(r, 'o.delivered_at', start=date(year, 1, 1))} GROUP BY o.channel"
                ),
                "share",
            ),
        ),
        metric(
            "m-25",
            "avg satisfaction on delivery delay tickets",
            value_of("delay csat", "SELECT AVG(satisfaction) FROM support_tickets WHERE topic = 'delivery_delay'"),
        ),
        metric(
            "m-26",
            "top 5 cities by revenue",
            top_group(
                "revenue by city",
                f"SELECT c.city, SUM(o.total_amount) AS v FROM {ORDERS} WHERE {KEPT} GROUP BY c.city ORDER BY v DESC",
            ),
        ),
        metric(
            "m-27",
            f"total discounts given in {year}",
            value_of(
                "discounts YTD",
                f"SELECT SUM(o.discount_amount) FROM orders o WHERE {KEPT} AND {in_year('o.ordered_at', year)}",
                "money",
            ),
        ),
        metric(
            "m-28",
            "what's the average lifetime value of platinum customers?",
            value_of(
                "platinum LTV",
                f"SELECT AVG(COALESCE(cs.lifetime_value, 0)) FROM {SCORED} AND c.segment = 'platinum'",
                "money",
            ),
        ),
        metric(
            "m-29",
            "which product category brings in the most sales",
            top_group(
                "sales by category",
                f"SELECT i.category, SUM(i.quantity * i.unit_price) AS v FROM order_items i JOIN orders o ON o.order_id = i.order_id WHERE {KEPT} GROUP BY i.category ORDER BY v DESC",
            ),
        ),
        metric(
            "m-30",
            f"how many orders were sent back in october {year}",
            value_of(
                "returns October",
                f"SELECT COUNT(*) FROM orders WHERE status = 'returned' AND returned_at IS NOT NULL AND {in_month('returned_at', year, 10)}",
                "count",
            ),
        ),
        metric(
            "m-31",
            "tickets still unresolved, per support channel",
            every_group(
                "unresolved by channel",
                "SELECT channel, COUNT(*) FROM support_tickets WHERE status <> 'resolved' GROUP BY channel",
                "count",
            ),
        ),
        metric(
            "m-32",
            "which country has the highest average churn risk",
            top_group(
                "churn by country",
                f"SELECT c.country, AVG(cs.probability) AS v FROM {SCORED} GROUP BY c.country ORDER BY v DESC",
            ),
        ),
        metric(
            "m-33",
            "how many gold customers do we have",
            value_of("gold customers", "SELECT COUNT(*) FROM customers WHERE segment = 'gold'", "count"),
            persona="cs_staff",
        ),
        metric(
            "m-34",
            "revenue at risk in Italy",
            value_of(
                "Italy at risk",
                f"SELECT SUM(cs.probability * COALESCE(cs.spend_365d, 0)) FROM {SCORED} AND c.country = 'Italy'",
                "money",
            ),
        ),
        metric(
            "m-35",
            f"orders by status in {year - 1}",
            every_group(
                "orders by status",
                f"SELECT status, COUNT(*) FROM orders WHERE {in_year('ordered_at', year - 1)} GROUP BY status",
                "count",
            ),
        ),
        metric(
            "m-36",
            "avg spend per order, country by country",
            every_group(
                "AOV by country",
                f"SELECT c.country, AVG(o.total_amount) FROM {ORDERS} WHERE {KEPT} GROUP BY c.country",
                "money",
            ),
        ),
        metric(
            "m-37",
            "support tickets per topic in the last 90 days",
            every_group(
                "topics 90d",
                lambda r: (
                    f"SELECT topic, COUNT(*) FROM support_tickets WHERE {window(r, 'opened_at', days=90)} GROUP BY topic"
                ),
                "count",
            ),
        ),
        metric(
            "m-38",
            "what % of platinum orders get returned",
            value_of(
                "platinum returns",
                f"SELECT {RETURN_RATE} FROM {ORDERS} WHERE {SETTLED} AND c.segment = 'platinum'",
                "share",
            ),
        ),
        metric(
            "m-39",
            f"how many reviews were written in {year - 1}",
            value_of(
                "reviews last year", f"SELECT COUNT(*) FROM reviews WHERE {in_year('created_at', year - 1)}", "count"
            ),
        ),
        metric(
            "m-40",
            "which category has the lowest average rating?",
            top_group(
                "rating by category asc",
                f"SELECT {REVIEW_CATEGORY} AS g, AVG(r.rating) AS v FROM reviews r GROUP BY g HAVING g IS NOT NULL ORDER BY v ASC",
            ),
        ),
        metric(
            "m-41",
            "how many critical-risk customers are there in france?",
            value_of(
                "critical France",
                f"SELECT COUNT(*) FROM {SCORED} AND c.country = 'France' AND cs.risk_band = 'critical'",
                "count",
            ),
            persona="cs_staff",
        ),
        metric(
            "m-42",
            f"customers who joined in {year - 1} by acquisition channel",
            every_group(
                "cohort by acquisition",
                f"SELECT acquisition_channel, COUNT(*) FROM customers WHERE {in_year('signup_at', year - 1)} GROUP BY acquisition_channel",
                "count",
            ),
        ),
        metric(
            "m-43",
            "share of negative reviews in spain",
            value_of(
                "Spain negative",
                "SELECT AVG(CASE WHEN r.rating <= 2 THEN 1.0 ELSE 0.0 END) FROM reviews r JOIN customers c ON c.customer_id = r.customer_id WHERE c.country = 'Spain'",
                "share",
            ),
        ),
        metric(
            "m-44",
            "revenue last quarter",
            value_of(
                "revenue last quarter",
                lambda r: (
                    f"SELECT SUM(o.total_amount) FROM orders o WHERE {KEPT} AND {window(r, 'o.ordered_at', start=last_quarter(r)[0], end=last_quarter(r)[1])}"
                ),
                "money",
            ),
        ),
    ]


def follow_up_cases(refs: Refs) -> list[Case]:
    """Multi-turn conversations where a turn changes one thing, or points back at a customer."""
    germany = top_active(refs, 5, "AND c.country = 'Germany'")
    silver = top_active(refs, 6, "AND c.segment = 'silver'")
    uk = top_active(refs, 10, "AND c.country = 'United Kingdom'")
    platinum = top_active(refs, 3, "AND c.segment = 'platinum'")
    refs.values.update(t_de4=germany[3], t_silver6=silver[5], t_uk1=uk[0], t_plat1=platinum[0])
    year = year_of(refs)
    aov = f"SELECT AVG(o.total_amount) FROM {ORDERS} WHERE {KEPT} AND "
    refunds = "SELECT COUNT(*) FROM support_tickets WHERE topic = 'refund' AND "
    revenue = f"SELECT SUM(o.total_amount) FROM orders o WHERE {KEPT} AND "

    def listed(n: int, where: str = "") -> Check:
        return ids_equal(lambda r: top_active(r, n, where))

    def case(name: str, persona: str, *steps: Step) -> Case:
        return Case(name, persona, list(steps))

    return [
        case(
            "fu-country",
            "cs_staff",
            Step("5 riskiest customers in Italy", {L}, listed(5, "AND c.country = 'Italy'")),
            Step("how about the netherlands?", {L}, listed(5, "AND c.country = 'Netherlands'")),
            Step("and belgium", {L}, listed(5, "AND c.country = 'Belgium'")),
        ),
        case(
            "fu-segment",
            "cs_staff",
            Step("riskiest platinum customers, 6 of them", {L}, listed(6, "AND c.segment = 'platinum'")),
            Step("same for bronze", {L}, listed(6, "AND c.segment = 'bronze'")),
            Step("just the critical ones", {L}, listed(6, "AND c.segment = 'bronze' AND cs.risk_band = 'critical'")),
        ),
        case(
            "fu-pick",
            "cs_staff",
            Step("top 5 at risk in Germany", {L}, listed(5, "AND c.country = 'Germany'")),
            Step("more about number 4", {P}, about("t_de4")),
            Step("why is he flagged?", {X}, probability_of("t_de4")),
            Step("has this customer contacted support?", {F}, tickets_count_of("t_de4")),
        ),
        case(
            "fu-last",
            "support_agent",
            Step("top 6 riskiest silver customers", {L}, listed(6, "AND c.segment = 'silver'")),
            Step("show me the last one", {P}, about("t_silver6")),
            Step("write them a win-back offer", {DRAFT}, draft_respects_policy("t_silver6"), "draft"),
        ),
        case(
            "fu-top",
            "cs_staff",
            Step("riskiest customers in the UK", {L}, listed(10, "AND c.country = 'United Kingdom'")),
            Step("explain the top one", {X}, probability_of("t_uk1")),
        ),
        case(
            "fu-metric-country",
            "manager",
            Step(
                "average order value in France",
                {M},
                value_of("France AOV", aov + "c.country = 'France'", "money"),
                "analytics",
            ),
            Step("and Germany?", {M}, value_of("Germany AOV", aov + "c.country = 'Germany'", "money"), "analytics"),
            Step(
                "only for platinum customers",
                {M},
                value_of("Germany platinum AOV", aov + "c.country = 'Germany' AND c.segment = 'platinum'", "money"),
                "analytics",
            ),
        ),
        case(
            "fu-metric-window",
            "manager",
            Step(
                "how many refund tickets in the last 30 days",
                {M},
                value_of("refunds 30d", lambda r: refunds + window(r, "opened_at", days=30), "count"),
                "analytics",
            ),
            Step(
                "now the last 90 days",
                {M},
                value_of("refunds 90d", lambda r: refunds + window(r, "opened_at", days=90), "count"),
                "analytics",
            ),
            Step(
                "and last month?",
                {M},
                value_of(
                    "refunds last month",
                    lambda r: refunds + window(r, "opened_at", start=last_month(r)[0], end=last_month(r)[1]),
                    "count",
                ),
                "analytics",
            ),
        ),
        case(
            "fu-metric-group",
            "manager",
            Step(
                f"orders by country in {year - 1}",
                {M},
                every_group(
                    "orders by country",
                    f"SELECT c.country, COUNT(*) FROM {ORDERS} WHERE {in_year('o.ordered_at', year - 1)} GROUP BY c.country",
                    "count",
                ),
                "analytics",
            ),
            Step(
                "and by sales channel?",
                {M},
                every_group(
                    "orders by channel",
                    f"SELECT o.channel, COUNT(*) FROM orders o WHERE {in_year('o.ordered_at', year - 1)} GROUP BY o.channel",
                    "count",
                ),
                "analytics",
            ),
        ),
        case(
            "fu-shop-id",
            "support_agent",
            Step(f"who is {SHOP_IDS[0]}", {P}, about("shop0")),
            Step("what did they complain about?", {F}, tickets_count_of("shop0")),
        ),
        case(
            "fu-first-draft",
            "support_agent",
            Step("the 3 most at-risk platinum customers", {L}, listed(3, "AND c.segment = 'platinum'")),
            Step("draft an offer for the first one", {DRAFT}, draft_respects_policy("t_plat1"), "draft"),
        ),
        case(
            "fu-metric-band",
            "cs_staff",
            Step(
                "number of at-risk customers in Italy",
                {M},
                value_of(
                    "at risk Italy",
                    f"SELECT COUNT(*) FROM {SCORED} AND c.country = 'Italy' AND cs.risk_band IN ('high', 'critical')",
                    "count",
                ),
                "analytics",
            ),
            Step(
                "what about just the critical band",
                {M},
                value_of(
                    "critical Italy",
                    f"SELECT COUNT(*) FROM {SCORED} AND c.country = 'Italy' AND cs.risk_band = 'critical'",
                    "count",
                ),
                "analytics",
            ),
        ),
        case(
            "fu-year",
            "manager",
            Step(
                f"revenue in {year - 2}",
                {M},
                value_of("revenue 2 years ago", revenue + in_year("o.ordered_at", year - 2), "money"),
                "analytics",
            ),
            Step(
                f"and in {year - 1}?",
                {M},
                value_of("revenue last year", revenue + in_year("o.ordered_at", year - 1), "money"),
                "analytics",
            ),
        ),
        case(
            "fu-metric-filter",
            "manager",
            Step(
                "return rate by segment",
                {M},
                every_group(
                    "returns by segment",
                    f"SELECT c.segment, {RETURN_RATE} FROM {ORDERS} WHERE {SETTLED} GROUP BY c.segment",
                    "share",
                ),
                "analytics",
            ),
            Step(
                "only orders placed in the app",
                {M},
                every_group(
                    "app returns by segment",
                    f"SELECT c.segment, {RETURN_RATE} FROM {ORDERS} WHERE {SETTLED} AND o.channel = 'app' GROUP BY c.segment",
                    "share",
                ),
                "analytics",
            ),
        ),
        case(
            "fu-list-country",
            "cs_staff",
            Step(
                "show 4 at-risk gold customers in Spain",
                {L},
                listed(4, "AND c.segment = 'gold' AND c.country = 'Spain'"),
            ),
            Step("what about in France?", {L}, listed(4, "AND c.segment = 'gold' AND c.country = 'France'")),
        ),
    ]
