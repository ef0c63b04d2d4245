"""The SEALED test set of the assistant's evaluation, third edition (issue 16): new conversations in the three
personas' own words — typos, chit-chat, multi-turn follow-ups, ids in a shop's own formats, metrics over windows,
years and months, group superlatives — with every reference computed from the database at run time.

Written on 2026-12-03 (second session of the day), after the second sealed set (bench/agent_eval_sealed2.py)
had been measured once (80.8 % correct) and its misses read, and before any change made because of them. The
second sealed set is a development set from then on (`--set dev3`). No phrasing here may be added to router
examples (prompts/router_intents.v1.toml), catalog words, rules or prompts, and no change may be made because of
a miss seen here. Run: `python -m bench.agent_eval --set sealed`.

Measured sealed once (78.5 % correct, 2026-12-03) and its misses read: a development set since 2026-12-06
(`--set dev4`), when the fourth sealed set (bench/agent_eval_sealed4.py) was written before any change for them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from bench.agent_eval import (
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
    metric,
    year_of,
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
SHOP_IDS = ("KND-000731", "u_48213", "b7e4c19f02")  # a shop system's, a platform user id, a hash-like key

ITEMS = "order_items i JOIN orders o ON o.order_id = i.order_id JOIN customers c ON c.customer_id = o.customer_id"
TICKETS = "support_tickets t JOIN customers c ON c.customer_id = t.customer_id"
REVIEWS = "reviews r JOIN customers c ON c.customer_id = r.customer_id"
LATE_ROW = "o.delivered_at > o.promised_delivery_at"


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
    picked = [c for c in top_active(refs, 900)[300:] if c in with_texts and c.startswith("C-")][:3]
    rename_customers(refs, dict(zip(picked, SHOP_IDS, strict=True)))
    refs.values.update({f"u_shop{n}": new for n, new in enumerate(SHOP_IDS)})


def pick_customers(refs: Refs) -> None:
    def pick(offset: int, where: str = "") -> str:
        return str(
            refs.one(
                "SELECT c.customer_id FROM customers c JOIN churn_scores cs ON cs.customer_id = c.customer_id AND "
                "cs.scored_at = (SELECT MAX(scored_at) FROM churn_scores) WHERE cs.lapsed = 0 AND "
                f"c.customer_id LIKE 'C-%' {where} ORDER BY c.customer_id DESC LIMIT 1 OFFSET {offset}"
            )
        )

    refs.values["u_crit"] = pick(11, "AND cs.risk_band = 'critical'")
    refs.values["u_gold"] = pick(23, "AND c.segment = 'gold'")
    refs.values["u_low"] = pick(5, "AND cs.risk_band = 'low'")
    refs.values["u_tix"] = pick(
        7, "AND c.customer_id IN (SELECT customer_id FROM support_tickets GROUP BY customer_id HAVING COUNT(*) >= 3)"
    )
    refs.values["u_rev"] = pick(
        9, "AND c.customer_id IN (SELECT customer_id FROM reviews GROUP BY customer_id HAVING COUNT(*) >= 2)"
    )
    eligible = (
        "AND c.marketing_opt_in = 1 AND cs.risk_band IN ('high', 'critical') AND COALESCE(cs.lifetime_value, 0) >= 300"
    )
    refs.values["u_eligible"] = pick(13, eligible)
    refs.values["u_eligible2"] = pick(31, eligible)


# -------------------------------------------------------------------------------------------------- cases
def build_sealed_cases(refs: Refs) -> list[Case]:
    plant_shop_ids(refs)
    pick_customers(refs)
    return single_turn_cases(refs) + metric_cases(refs) + follow_up_cases(refs)


def single_turn_cases(refs: Refs) -> list[Case]:
    crit, gold, low, tix, rev = (refs[k] for k in ("u_crit", "u_gold", "u_low", "u_tix", "u_rev"))
    eligible = refs["u_eligible"]
    shop0, shop1, shop2 = SHOP_IDS
    return [
        # ---- customer-success staff: ranked lists
        one(
            "list-1",
            "cs_staff",
            "which customers are slipping away? need a list",
            {L},
            ids_equal(lambda r: top_active(r, 10)),
        ),
        one(
            "list-2",
            "cs_staff",
            "custmers in italy that might churn soon",
            {L},
            ids_equal(lambda r: top_active(r, 10, "AND c.country = 'Italy'")),
        ),
        one(
            "list-3",
            "cs_staff",
            "give me the 6 gold members with the highest chance of churning",
            {L},
            ids_equal(lambda r: top_active(r, 6, "AND c.segment = 'gold'")),
        ),
        one(
            "list-4",
            "support_agent",
            "irish customers at risk",
            {L},
            ids_equal(lambda r: top_active(r, 10, "AND c.country = 'Ireland'")),
        ),
        one(
            "list-5",
            "cs_staff",
            "riskiest 20 accounts overall",
            {L},
            ids_equal(lambda r: top_active(r, 20)),
        ),
        one(
            "list-6",
            "cs_staff",
            "which bronze customers in the Netherlands should we worry about",
            {L},
            ids_equal(lambda r: top_active(r, 10, "AND c.segment = 'bronze' AND c.country = 'Netherlands'")),
        ),
        one(
            "list-7",
            "cs_staff",
            "critical risk platinum clients",
            {L},
            ids_equal(lambda r: top_active(r, 10, "AND c.segment = 'platinum' AND cs.risk_band = 'critical'")),
        ),
        one(
            "list-8",
            "cs_staff",
            "2 silver customers from germany who are about to go",
            {L},
            ids_equal(lambda r: top_active(r, 2, "AND c.segment = 'silver' AND c.country = 'Germany'")),
        ),
        one(
            "list-9",
            "support_agent",
            "pls list at-risk customers in France, 5 max",
            {L},
            ids_equal(lambda r: top_active(r, 5, "AND c.country = 'France'")),
        ),
        one(
            "list-10",
            "cs_staff",
            "who in the high band is in spain",
            {L},
            ids_equal(lambda r: top_active(r, 10, "AND c.country = 'Spain' AND cs.risk_band = 'high'")),
        ),
        one(
            "list-11",
            "cs_staff",
            "Morning! Which UK customers look like they're drifting away?",
            {L},
            ids_equal(lambda r: top_active(r, 10, "AND c.country = 'United Kingdom'")),
        ),
        one(
            "list-12",
            "cs_staff",
            "belgian gold accounts most at risk, top 4",
            {L},
            ids_equal(lambda r: top_active(r, 4, "AND c.segment = 'gold' AND c.country = 'Belgium'")),
        ),
        # ---- one customer: risk and profile, demo ids and a shop's own ids
        one("why-1", "cs_staff", f"how likely is {crit} to churn", {X}, probability_of("u_crit")),
        one("why-2", "support_agent", f"what makes {gold} a churn risk?", {X}, probability_of("u_gold")),
        one("why-3", "cs_staff", f"{shop0} - why flagged?", {X}, probability_of("u_shop0")),
        one("why-4", "cs_staff", f"churn probability for {shop2} please", {X}, probability_of("u_shop2")),
        one("why-5", "support_agent", f"is {low} likely to leave?", {X}, probability_of("u_low")),
        one("prof-1", "support_agent", f"open customer {shop1}", {P}, about("u_shop1")),
        one("prof-2", "cs_staff", f"everything we know about {gold}", {P}, about("u_gold")),
        one("prof-3", "support_agent", f"give me the profile of {shop2}", {P}, about("u_shop2")),
        one("prof-4", "cs_staff", f"customer card for '{shop0}'", {P}, about("u_shop0")),
        one("prof-5", "support_agent", f"what's the order history of {crit}", {P}, about("u_crit")),
        one("unknown-1", "cs_staff", "pull up KND-999999", set(), no_such_customer("KND-999999"), "respond"),
        one("unknown-2", "support_agent", "why is u_00001 at risk?", set(), no_such_customer("u_00001"), "respond"),
        one("unknown-3", "cs_staff", "customer ffffffff00 details", set(), no_such_customer("ffffffff00"), "respond"),
        one(
            "unknown-4",
            "support_agent",
            "write a win-back email to C-0000001",
            set(),
            no_such_customer("C-0000001"),
            "respond",
        ),
        # ---- what one customer wrote
        one("fb-1", "support_agent", f"what did {tix} raise with support?", {F}, tickets_count_of("u_tix")),
        one("fb-2", "cs_staff", f"any reveiws from {rev}?", {F}, reviews_of("u_rev")),
        one("fb-3", "support_agent", f"list the tickets {shop1} opened", {F}, tickets_count_of("u_shop1")),
        # ---- free SQL for what the metrics layer does not express
        metric(
            "sql-1",
            "what is the largest single order we have ever received?",
            value_of("largest order", "SELECT MAX(total_amount) FROM orders", "money"),
            tool=S,
        ),
        metric(
            "sql-2",
            "how many customers have placed more than 10 orders?",
            value_of(
                "10+ orders",
                "SELECT COUNT(*) FROM (SELECT customer_id FROM orders GROUP BY customer_id HAVING COUNT(*) > 10)",
                "count",
            ),
            tool=S,
        ),
        metric(
            "sql-3",
            "cancellation rate of orders for each order channel",
            every_group(
                "cancelled by channel",
                "SELECT channel, AVG(CASE WHEN status = 'cancelled' THEN 1.0 ELSE 0.0 END) FROM orders GROUP BY channel",
                "share",
            ),
            tool=S,
        ),
        # ---- texts: search, themes, drivers
        one(
            "search-1",
            "manager",
            "find reviews saying the sizes run small",
            {F},
            search_negative_first(("small", "size", "tight", "fit", "snug", "runs")),
        ),
        one(
            "search-2",
            "cs_staff",
            "tickets where the parcel arrived damaged",
            {F},
            search_negative_first(("damag", "broken", "torn", "parcel", "package", "box", "ripped")),
        ),
        one(
            "search-3",
            "manager",
            "look for complaints about the app crashing",
            {F},
            search_negative_first(("app", "crash", "freez", "bug", "error", "log")),
        ),
        one(
            "themes-1",
            "manager",
            "what do people complain about most in reviews?",
            {T},
            mentions("theme"),
            "analytics",
        ),
        one(
            "themes-2",
            "cs_staff",
            "main themes in our support tickets",
            {T},
            mentions("theme"),
            "analytics",
        ),
        one("drivers-1", "manager", "reasons gold members stop buying", {D}, mentions("gold"), "analytics"),
        one("drivers-2", "manager", "why do customers in Spain leave", {D}, mentions("Spain"), "analytics"),
        # ---- offers
        one(
            "pol-1",
            "support_agent",
            f"which incentive can I offer {eligible} under the policy?",
            {POLICY},
            offer_choice("u_eligible"),
        ),
        one("pol-2", "manager", "which incentives does our policy permit?", {POLICY}, mentions("monthly budget")),
        one(
            "draft-1",
            "support_agent",
            f"prepare a retention message for {eligible}",
            {DRAFT},
            draft_respects_policy("u_eligible"),
            "draft",
        ),
        # ---- chit-chat, help, refusals
        one("hi-1", "support_agent", "hello, anyone there?", set(), help_reply, "respond"),
        one("hi-2", "cs_staff", "what kind of questions can I ask you?", set(), help_reply, "respond"),
        one("hi-3", "manager", "thanks, that's all for now", set(), no_tool_reply, "respond"),
        one("out-1", "manager", "what's the weather going to be like tomorrow?", set(), help_reply, "respond"),
        one("clar-1", "cs_staff", "why did his score go up?", set(), asks_which_customer, "respond"),
        one("change-1", "admin", "delete every review with 1 star", set(), change_refused, "refusal"),
        one("change-2", "manager", "update the country of C-1042 to Spain", set(), change_refused, "refusal"),
        one("change-3", "admin", "TRUNCATE support_tickets", set(), change_refused, "refusal"),
        one(
            "role-1",
            "support_agent",
            "SELECT customer_id, email FROM customers LIMIT 3",
            {S},
            refused,
            "refusal",
        ),
        one(
            "role-2",
            "cs_staff",
            f"can you write up a discount for {eligible}?",
            {DRAFT},
            mentions("may not use draft_offer"),
            "refusal",
        ),
    ]


def metric_cases(refs: Refs) -> list[Case]:
    year = year_of(refs)
    ytd = date(year, 1, 1)
    return [
        metric(
            "m-1",
            f"what was our turnover in {year - 1}?",
            value_of(
                "revenue last year",
                f"SELECT SUM(o.total_amount) FROM orders o WHERE {KEPT} AND {in_year('o.ordered_at', year - 1)}",
                "money",
            ),
        ),
        metric(
            "m-2",
            "avg order amount for italian customers",
            value_of(
                "Italy AOV", f"SELECT AVG(o.total_amount) FROM {ORDERS} WHERE {KEPT} AND c.country = 'Italy'", "money"
            ),
        ),
        metric(
            "m-3",
            "which segment is most likely to churn on average?",
            top_group(
                "churn by segment",
                f"SELECT c.segment, AVG(cs.probability) AS v FROM {SCORED} GROUP BY c.segment ORDER BY v DESC",
            ),
        ),
        metric(
            "m-4",
            "percentage of orders returned, per country",
            every_group(
                "returns by country",
                f"SELECT c.country, {RETURN_RATE} FROM {ORDERS} WHERE {SETTLED} GROUP BY c.country",
                "share",
            ),
        ),
        metric(
            "m-5",
            "how many payment tickets have we had this year",
            value_of(
                "payment tickets YTD",
                lambda r: (
                    f"SELECT COUNT(*) FROM support_tickets WHERE topic = 'payment' AND {window(r, 'opened_at', start=ytd)}"
                ),
                "count",
            ),
        ),
        metric(
            "m-6",
            f"new sign-ups per month in {year - 1}",
            every_group(
                "signups by month",
                f"SELECT strftime('%Y-%m', signup_at), COUNT(*) FROM customers WHERE {in_year('signup_at', year - 1)} GROUP BY 1",
                "count",
            ),
        ),
        metric(
            "m-7",
            "which acquisition channel brings customers with the highest lifetime value?",
            top_group(
                "LTV by acquisition",
                f"SELECT c.acquisition_channel, AVG(COALESCE(cs.lifetime_value, 0)) AS v FROM {SCORED} GROUP BY 1 ORDER BY v DESC",
            ),
        ),
        metric(
            "m-8",
            "how many deliveries were late last month?",
            value_of(
                "late last month",
                lambda r: (
                    f"SELECT COUNT(*) FROM orders o WHERE {DELIVERED} AND {LATE_ROW} AND "
                    f"{window(r, 'o.delivered_at', start=last_month(r)[0], end=last_month(r)[1])}"
                ),
                "count",
            ),
        ),
        metric(
            "m-9",
            "what fraction of our customers accept marketing?",
            value_of(
                "opt-in share", "SELECT AVG(CASE WHEN marketing_opt_in THEN 1.0 ELSE 0.0 END) FROM customers", "share"
            ),
            persona="cs_staff",
        ),
        metric(
            "m-10",
            f"how many orders came in via the marketplace in {year}",
            value_of(
                "marketplace orders",
                lambda r: (
                    f"SELECT COUNT(*) FROM orders o WHERE o.channel = 'marketplace' AND {window(r, 'o.ordered_at', start=ytd)}"
                ),
                "count",
            ),
        ),
        metric(
            "m-11",
            f"units sold in each category in {year - 1}",
            every_group(
                "units by category",
                f"SELECT i.category, SUM(i.quantity) FROM {ITEMS} WHERE {KEPT} AND {in_year('o.ordered_at', year - 1)} GROUP BY i.category",
                "count",
            ),
        ),
        metric(
            "m-12",
            "where is the most revenue at risk - which country?",
            top_group(
                "at risk by country",
                f"SELECT c.country, SUM(cs.probability * COALESCE(cs.spend_365d, 0)) AS v FROM {SCORED} GROUP BY c.country ORDER BY v DESC",
            ),
        ),
        metric(
            "m-13",
            "mean satisfaction score of tickets by contact channel",
            every_group(
                "csat by channel",
                "SELECT channel, AVG(satisfaction) FROM support_tickets GROUP BY channel",
            ),
        ),
        metric(
            "m-14",
            "how many 1-star reviews do we have?",
            value_of("one-star", "SELECT COUNT(*) FROM reviews WHERE rating = 1", "count"),
        ),
        metric(
            "m-15",
            "what rating do gold customers give us on average",
            value_of("gold rating", f"SELECT AVG(r.rating) FROM {REVIEWS} WHERE c.segment = 'gold'"),
        ),
        metric(
            "m-16",
            "how many support tickets from the UK are not resolved yet?",
            value_of(
                "UK unresolved",
                f"SELECT COUNT(*) FROM {TICKETS} WHERE t.status <> 'resolved' AND c.country = 'United Kingdom'",
                "count",
            ),
            persona="cs_staff",
        ),
        metric(
            "m-17",
            "share of late deliveries in the netherlands over the last 180 days",
            value_of(
                "NL late 180d",
                lambda r: (
                    f"SELECT {LATE} FROM {ORDERS} WHERE {DELIVERED} AND c.country = 'Netherlands' AND "
                    f"{window(r, 'o.delivered_at', days=180)}"
                ),
                "share",
            ),
        ),
        metric(
            "m-18",
            f"which month in {year - 1} had the most orders?",
            top_group(
                "orders by month",
                f"SELECT strftime('%Y-%m', ordered_at) AS m, COUNT(*) AS n FROM orders WHERE {in_year('ordered_at', year - 1)} GROUP BY m ORDER BY n DESC",
            ),
        ),
        metric(
            "m-19",
            "total discount amount given to platinum customers",
            value_of(
                "platinum discounts",
                f"SELECT SUM(o.discount_amount) FROM {ORDERS} WHERE {KEPT} AND c.segment = 'platinum'",
                "money",
            ),
        ),
        metric(
            "m-20",
            "who spends more per order: app or web?",
            top_group(
                "AOV app vs web",
                f"SELECT o.channel, AVG(o.total_amount) AS v FROM orders o WHERE {KEPT} AND o.channel IN ('app', 'web') GROUP BY o.channel ORDER BY v DESC",
            ),
        ),
        metric(
            "m-21",
            "count of customers in each risk band",
            every_group(
                "customers by band", f"SELECT cs.risk_band, COUNT(*) FROM {SCORED} GROUP BY cs.risk_band", "count"
            ),
            persona="cs_staff",
        ),
        metric(
            "m-22",
            f"sales of shoes in {year - 1}",
            value_of(
                "shoe sales",
                f"SELECT SUM(i.quantity * i.unit_price) FROM {ITEMS} WHERE {KEPT} AND i.category = 'shoes' AND {in_year('o.ordered_at', year - 1)}",
                "money",
            ),
        ),
        metric(
            "m-23",
            "which city has the worst return rate",
            top_group(
                "returns by city",
                f"SELECT c.city, {RETURN_RATE} AS v FROM {ORDERS} WHERE {SETTLED} GROUP BY c.city ORDER BY v DESC",
            ),
        ),
        metric(
            "m-24",
            "share of bad reviews for each product category",
            every_group(
                "negative by category",
                f"SELECT {REVIEW_CATEGORY} AS g, AVG(CASE WHEN r.rating <= 2 THEN 1.0 ELSE 0.0 END) FROM reviews r GROUP BY g HAVING g IS NOT NULL",
                "share",
            ),
        ),
        metric(
            "m-25",
            "average number of items in a web order",
            value_of(
                "web items per order",
                f"SELECT SUM(i.quantity) * 1.0 / COUNT(DISTINCT i.order_id) FROM {ITEMS} WHERE {KEPT} AND o.channel = 'web'",
            ),
        ),
        metric(
            "m-26",
            f"revenue per segment for {year}",
            every_group(
                "revenue by segment YTD",
                lambda r: (
                    f"SELECT c.segment, SUM(o.total_amount) FROM {ORDERS} WHERE {KEPT} AND "
                    f"{window(r, 'o.ordered_at', start=ytd)} GROUP BY c.segment"
                ),
                "money",
            ),
        ),
        metric(
            "m-27",
            "which kind of support issue leaves customers least satisfied?",
            top_group(
                "csat by topic asc",
                "SELECT topic, AVG(satisfaction) AS v FROM support_tickets GROUP BY topic HAVING v IS NOT NULL ORDER BY v ASC",
            ),
        ),
        metric(
            "m-28",
            f"how many deliveries to germany were late in august {year}",
            value_of(
                "Germany late August",
                f"SELECT COUNT(*) FROM {ORDERS} WHERE {DELIVERED} AND {LATE_ROW} AND c.country = 'Germany' AND {in_month('o.delivered_at', year, 8)}",
                "count",
            ),
        ),
        metric(
            "m-29",
            "how does churn risk differ between acquisition channels",
            every_group(
                "churn by acquisition",
                f"SELECT c.acquisition_channel, AVG(cs.probability) FROM {SCORED} GROUP BY c.acquisition_channel",
                "share",
            ),
        ),
        metric(
            "m-30",
            "number of gold customers in the critical band",
            value_of(
                "gold critical",
                f"SELECT COUNT(*) FROM {SCORED} AND c.segment = 'gold' AND cs.risk_band = 'critical'",
                "count",
            ),
            persona="cs_staff",
        ),
        metric(
            "m-31",
            "how many different customers ordered in the last 90 days",
            value_of(
                "ordering 90d",
                lambda r: (
                    f"SELECT COUNT(DISTINCT o.customer_id) FROM orders o WHERE {window(r, 'o.ordered_at', days=90)}"
                ),
                "count",
            ),
        ),
        metric(
            "m-32",
            "top 3 categories by units sold",
            top_group(
                "units by category",
                f"SELECT i.category, SUM(i.quantity) AS v FROM {ITEMS} WHERE {KEPT} GROUP BY i.category ORDER BY v DESC",
            ),
        ),
        metric(
            "m-33",
            "average order value year by year",
            every_group(
                "AOV by year",
                f"SELECT CAST(strftime('%Y', o.ordered_at) AS INTEGER), AVG(o.total_amount) FROM orders o WHERE {KEPT} GROUP BY 1",
                "money",
            ),
        ),
        metric(
            "m-34",
            f"signups that came from social in {year - 1}",
            value_of(
                "social signups",
                f"SELECT COUNT(*) FROM customers WHERE acquisition_channel = 'social' AND {in_year('signup_at', year - 1)}",
                "count",
            ),
        ),
        metric(
            "m-35",
            "mean churn probability of customers who came via referral",
            value_of(
                "referral churn",
                f"SELECT AVG(cs.probability) FROM {SCORED} AND c.acquisition_channel = 'referral'",
                "share",
            ),
        ),
        metric(
            "m-36",
            "revenue from customers in Dublin",
            value_of(
                "Dublin revenue",
                f"SELECT SUM(o.total_amount) FROM {ORDERS} WHERE {KEPT} AND c.city = 'Dublin'",
                "money",
            ),
        ),
        metric(
            "m-37",
            "how many returns did we process in the past 2 weeks?",
            value_of(
                "returns 14d",
                lambda r: (
                    f"SELECT COUNT(*) FROM orders o WHERE o.status = 'returned' AND o.returned_at IS NOT NULL AND {window(r, 'o.returned_at', days=14)}"
                ),
                "count",
            ),
        ),
        metric(
            "m-38",
            f"reviews per month in {year}",
            every_group(
                "reviews by month",
                lambda r: (
                    f"SELECT strftime('%Y-%m', created_at), COUNT(*) FROM reviews WHERE {window(r, 'created_at', start=ytd)} GROUP BY 1"
                ),
                "count",
            ),
        ),
        metric(
            "m-39",
            "which country writes the most support tickets?",
            top_group(
                "tickets by country",
                f"SELECT c.country, COUNT(*) AS n FROM {TICKETS} GROUP BY c.country ORDER BY n DESC",
            ),
        ),
        metric(
            "m-40",
            "customers with no purchase in the last 120 days - how many?",
            value_of(
                "no order 120d",
                lambda r: (
                    "SELECT COUNT(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE "
                    f"o.customer_id = c.customer_id AND o.ordered_at >= {day_sql(reference_day(r) - timedelta(days=120))})"
                ),
                "count",
            ),
            persona="cs_staff",
        ),
    ]


def follow_up_cases(refs: Refs) -> list[Case]:
    """Multi-turn conversations where a turn changes one thing, or points back at a customer."""
    gold8 = top_active(refs, 8, "AND c.segment = 'gold'")
    top10 = top_active(refs, 10)
    refs.values.update(u_gold2=gold8[1], u_top3=top10[2])
    year = year_of(refs)
    rating = f"SELECT AVG(r.rating) FROM {REVIEWS} WHERE "
    revenue_by_country = f"SELECT c.country, SUM(o.total_amount) FROM {ORDERS} WHERE {KEPT} AND "
    returns = f"SELECT {RETURN_RATE} FROM {ORDERS} WHERE {SETTLED}"

    def listed(n: int, where: str = "") -> Check:
        return ids_equal(lambda r: top_active(r, n, where))

    def case(name: str, persona: str, *steps: Step) -> Case:
        return Case(name, persona, list(steps))

    def analytics(question: str, check: Check) -> Step:
        return Step(question, {M}, check, "analytics")

    return [
        case(
            "fu-country",
            "cs_staff",
            Step("who are the 5 most at-risk customers in Spain", {L}, listed(5, "AND c.country = 'Spain'")),
            Step("ok and in ireland", {L}, listed(5, "AND c.country = 'Ireland'")),
            Step("just platinum", {L}, listed(5, "AND c.country = 'Ireland' AND c.segment = 'platinum'")),
        ),
        case(
            "fu-second",
            "support_agent",
            Step("top 8 gold customers at risk", {L}, listed(8, "AND c.segment = 'gold'")),
            Step("tell me more about the second one", {P}, about("u_gold2")),
            Step("why might they leave?", {X}, probability_of("u_gold2")),
            Step("draft them something", {DRAFT}, draft_respects_policy("u_gold2"), "draft"),
        ),
        case(
            "fu-revenue-filter",
            "manager",
            analytics(
                f"revenue by country in {year - 1}",
                every_group(
                    "revenue by country",
                    revenue_by_country + in_year("o.ordered_at", year - 1) + " GROUP BY 1",
                    "money",
                ),
            ),
            analytics(
                "now just app orders",
                every_group(
                    "app revenue by country",
                    revenue_by_country + in_year("o.ordered_at", year - 1) + " AND o.channel = 'app' GROUP BY 1",
                    "money",
                ),
            ),
            analytics(
                f"and for {year - 2}",
                every_group(
                    "app revenue by country 2y",
                    revenue_by_country + in_year("o.ordered_at", year - 2) + " AND o.channel = 'app' GROUP BY 1",
                    "money",
                ),
            ),
        ),
        case(
            "fu-tickets-topic",
            "manager",
            analytics(
                "how many tickets did we get in the last 60 days",
                value_of(
                    "tickets 60d",
                    lambda r: f"SELECT COUNT(*) FROM support_tickets WHERE {window(r, 'opened_at', days=60)}",
                    "count",
                ),
            ),
            analytics(
                "which topic came up most?",
                top_group(
                    "topic 60d",
                    lambda r: (
                        f"SELECT topic, COUNT(*) AS n FROM support_tickets WHERE {window(r, 'opened_at', days=60)} "
                        "GROUP BY topic ORDER BY n DESC"
                    ),
                ),
            ),
        ),
        case(
            "fu-rating-country",
            "manager",
            analytics("average review rating in Germany", value_of("Germany rating", rating + "c.country = 'Germany'")),
            analytics("and what about france", value_of("France rating", rating + "c.country = 'France'")),
        ),
        case(
            "fu-shop-id",
            "cs_staff",
            Step(f"find {SHOP_IDS[1]} for me", {P}, about("u_shop1")),
            Step("what's their churn probability?", {X}, probability_of("u_shop1")),
            Step("did they leave any reviews?", {F}, reviews_of("u_shop1")),
        ),
        case(
            "fu-tickets-reviews",
            "support_agent",
            Step(f"show the support tickets of {refs['u_tix']}", {F}, tickets_count_of("u_tix")),
            Step("and their reviews?", {F}, reviews_of("u_tix")),
        ),
        case(
            "fu-late-group",
            "manager",
            analytics(
                "late delivery share by month this year",
                every_group(
                    "late by month YTD",
                    lambda r: (
                        f"SELECT strftime('%Y-%m', o.delivered_at), {LATE} FROM orders o WHERE {DELIVERED} AND "
                        f"{window(r, 'o.delivered_at', start=date(year, 1, 1))} GROUP BY 1"
                    ),
                    "share",
                ),
            ),
            analytics(
                "by country instead",
                every_group(
                    "late by country YTD",
                    lambda r: (
                        f"SELECT c.country, {LATE} FROM {ORDERS} WHERE {DELIVERED} AND "
                        f"{window(r, 'o.delivered_at', start=date(year, 1, 1))} GROUP BY 1"
                    ),
                    "share",
                ),
            ),
        ),
        case(
            "fu-critical-nl",
            "cs_staff",
            Step(
                "critical customers in the netherlands",
                {L},
                listed(10, "AND c.country = 'Netherlands' AND cs.risk_band = 'critical'"),
            ),
            Step("top 3 only", {L}, listed(3, "AND c.country = 'Netherlands' AND cs.risk_band = 'critical'")),
        ),
        case(
            "fu-returns",
            "manager",
            analytics("overall, what percentage of orders get returned?", value_of("return rate", returns, "share")),
            analytics("for bronze?", value_of("bronze returns", returns + " AND c.segment = 'bronze'", "share")),
            analytics(
                "and over the last 90 days",
                value_of(
                    "bronze returns 90d",
                    lambda r: returns + f" AND c.segment = 'bronze' AND {window(r, 'o.ordered_at', days=90)}",
                    "share",
                ),
            ),
        ),
        case(
            "fu-draft-policy",
            "support_agent",
            Step(
                f"{refs['u_eligible2']}: put together a win-back offer",
                {DRAFT},
                draft_respects_policy("u_eligible2"),
                "draft",
            ),
            Step("what does the policy allow for this customer?", {POLICY}, offer_choice("u_eligible2")),
        ),
        case(
            "fu-number",
            "cs_staff",
            Step("top ten customers at risk", {L}, listed(10)),
            Step("explain number 3", {X}, probability_of("u_top3")),
        ),
        case(
            "fu-signups",
            "manager",
            analytics(
                f"how many customers signed up in {year - 1}",
                value_of("signups", f"SELECT COUNT(*) FROM customers WHERE {in_year('signup_at', year - 1)}", "count"),
            ),
            analytics(
                "how many of them are platinum",
                value_of(
                    "platinum signups",
                    f"SELECT COUNT(*) FROM customers WHERE segment = 'platinum' AND {in_year('signup_at', year - 1)}",
                    "count",
                ),
            ),
        ),
        case(
            "fu-aov-top",
            "manager",
            analytics(
                "AOV by segment",
                every_group(
                    "AOV by segment",
                    f"SELECT c.segment, AVG(o.total_amount) FROM {ORDERS} WHERE {KEPT} GROUP BY c.segment",
                    "money",
                ),
            ),
            analytics(
                "and by acquisition channel",
                every_group(
                    "AOV by acquisition",
                    f"SELECT c.acquisition_channel, AVG(o.total_amount) FROM {ORDERS} WHERE {KEPT} GROUP BY 1",
                    "money",
                ),
            ),
        ),
        case(
            "fu-greeting",
            "cs_staff",
            Step("hi! who should I call first today?", {L}, listed(10)),
            Step("perfect, thank you", set(), no_tool_reply, "respond"),
        ),
        case(
            "fu-she",
            "support_agent",
            Step(f"show me customer {refs['u_rev']}", {P}, about("u_rev")),
            Step("has she complained about anything?", {F}, tickets_count_of("u_rev")),
        ),
    ]
