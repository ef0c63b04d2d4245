"""The FIRST sealed set of the assistant's evaluation (issue 16), now a DEVELOPMENT set: new conversations in the
three personas' own words — typos, chit-chat, multi-turn follow-ups, ids in a shop's own formats, metrics over
windows, group superlatives — with every reference computed from the database at run time.

Written on 2026-12-02, after the first version of the metrics layer and before the follow-up, model-planner
and fast-turn work of issue 16. It was measured sealed once (2026-12-03: 82.1 % correct with router+llm on the
embedded 1.5B) and its misses were then looked at, so from that day on it is tuned on and reported as `dev2`.
The sealed test set is bench/agent_eval_sealed2.py. Run: `python -m bench.agent_eval --set dev2`.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bench.agent_eval import (
    LATEST,
    Case,
    Check,
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
from winback.tools.names import ToolName

if TYPE_CHECKING:
    from winback.assistant.agent import Turn

L = ToolName.LIST_AT_RISK
P = ToolName.CUSTOMER_PROFILE
X = ToolName.EXPLAIN_RISK
M = ToolName.METRIC_QUERY
S = ToolName.SQL_QUESTION
F = ToolName.SEARCH_FEEDBACK
T = ToolName.COMPLAINT_THEMES
D = ToolName.CHURN_DRIVERS
FOREIGN_IDS = ("CUST_004417", "7c1e9b2a-55d0-4f3e-a8c2-0b6d91e4f7aa", "0088123")


# ---------------------------------------------------------------------------------------------- references
def reference_day(refs: Refs) -> date:
    value = refs.one("SELECT MAX(ordered_at) FROM orders")
    return (value if isinstance(value, datetime) else datetime.fromisoformat(str(value))).date()


def day_sql(value: date) -> str:
    return f"'{value:%Y-%m-%d} 00:00:00'"


def window(refs: Refs, column: str, days: int | None = None, start: date | None = None, end: date | None = None) -> str:
    """SQL condition for a window ending on the reference day (inclusive)."""
    today = reference_day(refs)
    first = start or (today - timedelta(days=days or 0))
    last = (end or today) + timedelta(days=1)
    return f"{column} >= {day_sql(first)} AND {column} < {day_sql(last)}"


def last_month(refs: Refs) -> tuple[date, date]:
    first_this = reference_day(refs).replace(day=1)
    last = first_this - timedelta(days=1)
    return last.replace(day=1), last


def no_such_customer(token: str) -> Check:
    def check(turn: Turn, refs: Refs) -> str | None:
        answer = turn.answer.lower()
        if token.lower() in answer and ("no customer" in answer or "no such customer" in answer):
            return None
        return f"no 'no such customer {token}' answer"

    return check


def about(key: str) -> Check:
    """The turn is about this customer (and only this one)."""

    def check(turn: Turn, refs: Refs) -> str | None:
        want = refs[key]
        return None if turn.customer_ids[:1] == [want] and want in turn.answer else f"not about {want}"

    return check


def change_refused(turn: Turn, refs: Refs) -> str | None:
    if turn.tool_calls and any(c.ok for c in turn.tool_calls):
        return f"a tool ran: {[c.name for c in turn.tool_calls]}"
    answer = turn.answer.lower()
    return (
        None
        if re.search(r"\b(only read|read-only|can'?t (?:delete|change)|cannot (?:delete|change))", answer)
        else "no refusal"
    )


def search_negative_first(words: tuple[str, ...]) -> Check:
    """Texts about the topic, and the first results are complaints, not five-star praise."""

    def check(turn: Turn, refs: Refs) -> str | None:
        items = [i for r in turn.data["results"] for i in r.get("items", [])]
        if not items:
            return "no texts returned"
        first = items[:3]
        if any((i.get("rating") or 0) >= 5 for i in first):
            return "five-star praise among the first results"
        hits = sum(any(w in i["text"].lower() for w in words) for i in items)
        return None if hits >= len(items) / 2 else f"only {hits}/{len(items)} texts mention {words}"

    return check


def tickets_count_of(key: str) -> Check:
    def check(turn: Turn, refs: Refs) -> str | None:
        n = refs.one("SELECT COUNT(*) FROM support_tickets WHERE customer_id = :c", c=refs[key])
        ids = [r[0] for r in refs.sql("SELECT ticket_id FROM support_tickets WHERE customer_id = :c", c=refs[key])]
        shown = set(re.findall(r"\bT-[\w-]+", turn.answer))
        if n == 0:  # nothing to list: the answer must say so, about this customer
            said = f"{refs[key]} wrote 0 support tickets" in turn.answer
            return None if said and not shown else f"not 'no tickets' for {refs[key]}"
        counted = f"{n} support ticket" in turn.answer or f"{n:,} in all" in turn.answer
        if shown - set(ids):
            return f"tickets of other customers: {sorted(shown - set(ids))[:3]}"
        return None if counted and shown and len(shown) >= min(n, 8) else f"not {refs[key]}'s {n} tickets"

    return check


# ------------------------------------------------------------------------------------------------ planting
def rename_customers(refs: Refs, renames: dict[str, str]) -> None:
    """Give customers new ids (on the copy), with every row that names them (orders, tickets, reviews, offers,
    scores, the text signals the churn model reads ...): ids in the formats a shop's own import would bring.
    A table left out would change what the model sees for a renamed customer (their texts would vanish)."""
    from sqlalchemy import inspect, text

    from winback.data.schema import Base, DemoBase

    present = set(inspect(refs.engine).get_table_names())
    tables = [
        t.name
        for metadata in (Base.metadata, DemoBase.metadata)
        for t in metadata.sorted_tables
        if "customer_id" in t.columns and t.name in present
    ]
    with refs.engine.begin() as connection:
        connection.execute(text("PRAGMA defer_foreign_keys = ON"))  # checked at commit, when all rows agree
        for old, new in renames.items():
            for table in tables:
                connection.execute(
                    text(f"UPDATE {table} SET customer_id = :new WHERE customer_id = :old"), {"new": new, "old": old}
                )


def plant_foreign_ids(refs: Refs) -> None:
    """Three customers get ids in formats a shop's own import would bring."""
    picked = top_active(refs, 60)[40:43]
    rename_customers(refs, dict(zip(picked, FOREIGN_IDS, strict=True)))
    refs.values.update({f"foreign{n}": new for n, new in enumerate(FOREIGN_IDS)})


# -------------------------------------------------------------------------------------------------- cases
def one(
    name: str,
    persona: str,
    question: str,
    tools: set[str],
    check: Check,
    kind: str = "lookup",
    refusal: bool | None = None,
) -> Case:
    """A one-turn conversation; a refusal is expected where the kind says so, unless `refusal` says otherwise."""
    return Case(name, persona, [Step(question, tools, check, kind, kind == "refusal" if refusal is None else refusal)])


def build_sealed_cases(refs: Refs) -> list[Case]:
    plant_foreign_ids(refs)
    pick = lambda offset, where="": refs.one(  # noqa: E731 - a local shorthand for the picks below
        f"SELECT c.customer_id FROM customers c JOIN churn_scores cs ON cs.customer_id = c.customer_id AND {LATEST} "
        f"WHERE cs.lapsed = 0 AND c.customer_id LIKE 'C-%' {where} ORDER BY c.customer_id LIMIT 1 OFFSET {offset}"
    )
    refs.values["a"] = pick(11, "AND cs.risk_band = 'high'")
    refs.values["b"] = pick(23, "AND c.segment = 'silver'")
    refs.values["tix"] = refs.one(
        f"SELECT t.customer_id FROM support_tickets t JOIN churn_scores cs ON cs.customer_id = t.customer_id AND {LATEST} "
        "WHERE cs.lapsed = 0 GROUP BY t.customer_id HAVING COUNT(*) >= 3 ORDER BY t.customer_id LIMIT 1 OFFSET 2"
    )
    refs.values["rev"] = refs.one(
        f"SELECT r.customer_id FROM reviews r JOIN churn_scores cs ON cs.customer_id = r.customer_id AND {LATEST} "
        "WHERE cs.lapsed = 0 GROUP BY r.customer_id HAVING COUNT(*) >= 2 ORDER BY r.customer_id LIMIT 1 OFFSET 5"
    )
    refs.values["eligible"] = refs.one(
        f"SELECT c.customer_id FROM customers c JOIN churn_scores cs ON cs.customer_id = c.customer_id AND {LATEST} "
        "WHERE cs.lapsed = 0 AND c.marketing_opt_in = 1 AND cs.risk_band IN ('high', 'critical') "
        "AND COALESCE(cs.lifetime_value, 0) >= 300 ORDER BY cs.probability DESC LIMIT 1 OFFSET 9"
    )
    a, b, tix, rev, el = (refs[k] for k in ("a", "b", "tix", "rev", "eligible"))
    f0, f1, f2 = FOREIGN_IDS
    year = reference_day(refs).year
    late = "AVG(CASE WHEN o.delivered_at > o.promised_delivery_at THEN 1.0 ELSE 0.0 END)"
    delivered = "o.delivered_at IS NOT NULL AND o.promised_delivery_at IS NOT NULL"
    latest_scores = (
        f"churn_scores cs JOIN customers c ON c.customer_id = cs.customer_id WHERE {LATEST} AND cs.lapsed = 0"
    )
    cases: list[Case] = [
        # ---- customer-success staff: ranked lists in their own words
        one(
            "s-list-1",
            "cs_staff",
            "whos most likely to leave us this week?",
            {L},
            ids_equal(lambda r: top_active(r, 10)),
        ),
        one(
            "s-list-2",
            "cs_staff",
            "gimme the 12 riskiest silver accounts",
            {L},
            ids_equal(lambda r: top_active(r, 12, "AND c.segment = 'silver'")),
        ),
        one(
            "s-list-3",
            "cs_staff",
            "at risk customers in italy pls",
            {L},
            ids_equal(lambda r: top_active(r, 10, "AND c.country = 'Italy'")),
        ),
        one(
            "s-list-4",
            "cs_staff",
            "Top 5 platinum people we could lose",
            {L},
            ids_equal(lambda r: top_active(r, 5, "AND c.segment = 'platinum'")),
        ),
        one(
            "s-list-5",
            "cs_staff",
            "critical risk ones in Belgium",
            {L},
            ids_equal(lambda r: top_active(r, 10, "AND c.country = 'Belgium' AND cs.risk_band = 'critical'")),
        ),
        one(
            "s-list-6",
            "support_agent",
            "which gold clients in the Netherlands are wobbling? top 3",
            {L},
            ids_equal(lambda r: top_active(r, 3, "AND c.segment = 'gold' AND c.country = 'Netherlands'")),
        ),
        one(
            "s-list-7",
            "cs_staff",
            "rank our bronze customers in Ireland by churn risk, 6 of them",
            {L},
            ids_equal(lambda r: top_active(r, 6, "AND c.segment = 'bronze' AND c.country = 'Ireland'")),
        ),
        one(
            "s-list-8",
            "cs_staff",
            "who should I ring first today to stop them churning",
            {L},
            ids_equal(lambda r: top_active(r, 10)),
        ),
        one(
            "s-list-9",
            "cs_staff",
            "high risk customers in france, just 4",
            {L},
            ids_equal(lambda r: top_active(r, 4, "AND c.country = 'France' AND cs.risk_band = 'high'")),
        ),
        one(
            "s-list-10",
            "support_agent",
            "any vip customers about to walk away?",
            {L},
            ids_equal(lambda r: top_active(r, 10, "AND c.segment = 'platinum'")),
        ),
        # ---- why / who is this, for demo ids and for a shop's own ids
        one("s-why-1", "cs_staff", f"why's {a} flagged as risky?", {X}, probability_of("a")),
        one("s-why-2", "support_agent", f"how likely is {b} to churn, and why", {X}, probability_of("b")),
        one("s-why-3", "cs_staff", f"what is pushing {f0} towards leaving?", {X}, probability_of("foreign0")),
        one("s-why-4", "support_agent", f"churn score for customer {f2}", {X}, probability_of("foreign2")),
        one("s-prof-1", "support_agent", f"open the account of {f1}", {P}, about("foreign1")),
        one("s-prof-2", "cs_staff", f"info on '{f0}' please", {P}, about("foreign0")),
        one("s-prof-3", "support_agent", f"who is {b}?", {P}, about("b")),
        one("s-prof-4", "cs_staff", f"can you look up {a.lower()} for me", {P}, about("a")),
        one("s-prof-5", "support_agent", f"customer id {f2} - what have they bought", {P}, about("foreign2")),
        one("s-unknown-1", "cs_staff", "tell me about CUST_999999", set(), no_such_customer("CUST_999999"), "respond"),
        one(
            "s-unknown-2",
            "support_agent",
            "why is customer 4040404 at risk?",
            set(),
            no_such_customer("4040404"),
            "respond",
        ),
        one(
            "s-unknown-3", "cs_staff", "profile of 'zz-unknown-77'", set(), no_such_customer("zz-unknown-77"), "respond"
        ),
        one(
            "s-unknown-4",
            "support_agent",
            "what did C-88888888 complain about?",
            set(),
            no_such_customer("C-88888888"),
            "respond",
        ),
        # ---- what one customer wrote
        one("s-fb-1", "support_agent", f"what tickets has {tix} opened?", {F}, tickets_count_of("tix")),
        one("s-fb-2", "cs_staff", f"did {rev} leave any reviews", {F}, reviews_of("rev")),
        # ---- metrics: managers in their own words
        one(
            "s-m-1",
            "manager",
            "what's the average order value for gold customers?",
            {M},
            value_of(
                "gold AOV",
                "SELECT AVG(o.total_amount) FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE c.segment = 'gold' AND o.status <> 'cancelled'",
                "money",
            ),
            "analytics",
        ),
        one(
            "s-m-2",
            "manager",
            "average basket value in Spain",
            {M},
            value_of(
                "Spain AOV",
                "SELECT AVG(o.total_amount) FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE c.country = 'Spain' AND o.status <> 'cancelled'",
                "money",
            ),
            "analytics",
        ),
        one(
            "s-m-3",
            "manager",
            "which country has the highest late delivery rate?",
            {M},
            top_group(
                "late by country",
                f"SELECT c.country, {late} AS v FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE {delivered} GROUP BY c.country ORDER BY v DESC",
            ),
            "analytics",
        ),
        one(
            "s-m-4",
            "manager",
            "which segment spends the most in total?",
            {M},
            top_group(
                "revenue by segment",
                "SELECT c.segment, SUM(o.total_amount) AS v FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE o.status <> 'cancelled' GROUP BY c.segment ORDER BY v DESC",
            ),
            "analytics",
        ),
        one(
            "s-m-5",
            "manager",
            "what is the most common reason customers contact support?",
            {M},
            top_group(
                "ticket topic", "SELECT topic, COUNT(*) AS n FROM support_tickets GROUP BY topic ORDER BY n DESC"
            ),
            "analytics",
        ),
        one(
            "s-m-6",
            "manager",
            "total revenue so far this year",
            {M},
            value_of(
                "revenue YTD",
                lambda r: (
                    f"SELECT SUM(total_amount) FROM orders WHERE status <> 'cancelled' AND {window(r, 'ordered_at', start=date(reference_day(r).year, 1, 1))}"
                ),
                "money",
            ),
            "analytics",
        ),
        one(
            "s-m-7",
            "manager",
            "how many orders did we get last month?",
            {M},
            value_of(
                "orders last month",
                lambda r: (
                    f"SELECT COUNT(*) FROM orders WHERE {window(r, 'ordered_at', start=last_month(r)[0], end=last_month(r)[1])}"
                ),
                "count",
            ),
            "analytics",
        ),
        one(
            "s-m-8",
            "manager",
            "share of deliveries that were late in the last 90 days",
            {M},
            value_of(
                "late share 90d",
                lambda r: f"SELECT {late} FROM orders o WHERE {delivered} AND {window(r, 'o.delivered_at', days=90)}",
                "share",
            ),
            "analytics",
        ),
        one(
            "s-m-9",
            "manager",
            "how many customers haven't ordered anything in the last 90 days?",
            {M},
            value_of(
                "inactive 90d",
                lambda r: (
                    f"SELECT COUNT(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.customer_id AND o.ordered_at >= {day_sql(reference_day(r) - timedelta(days=90))})"
                ),
                "count",
            ),
            "analytics",
        ),
        one(
            "s-m-10",
            "manager",
            "avg rating per product category",
            {M},
            every_group(
                "rating by category",
                "SELECT g, AVG(rating) FROM (SELECT r.rating, (SELECT MIN(i.category) FROM order_items i WHERE i.order_id = r.order_id AND i.product_id = r.product_id) AS g FROM reviews r) WHERE g IS NOT NULL GROUP BY g",  # each review once, not once per matching order line
            ),
            "analytics",
        ),
        one(
            "s-m-11",
            "manager",
            "what's our return rate?",
            {M},
            value_of(
                "return rate",
                "SELECT AVG(CASE WHEN status = 'returned' THEN 1.0 ELSE 0.0 END) FROM orders WHERE status IN ('delivered', 'returned')",
                "share",
            ),
            "analytics",
        ),
        one(
            "s-m-12",
            "manager",
            "return rate by country",
            {M},
            every_group(
                "return rate by country",
                "SELECT c.country, AVG(CASE WHEN o.status = 'returned' THEN 1.0 ELSE 0.0 END) FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE o.status IN ('delivered', 'returned') GROUP BY c.country",
            ),
            "analytics",
        ),
        one(
            "s-m-13",
            "manager",
            "how many support tickets were opened in the last 30 days",
            {M},
            value_of(
                "tickets 30d",
                lambda r: f"SELECT COUNT(*) FROM support_tickets WHERE {window(r, 'opened_at', days=30)}",
                "count",
            ),
            "analytics",
        ),
        one(
            "s-m-14",
            "manager",
            f"number of new customers in {year - 1}",
            {M},
            value_of(
                "signups last year",
                f"SELECT COUNT(*) FROM customers WHERE signup_at >= '{year - 1}-01-01 00:00:00' AND signup_at < '{year}-01-01 00:00:00'",
                "count",
            ),
            "analytics",
        ),
        one(
            "s-m-15",
            "manager",
            "what's the avg churn probability of platinum customers",
            {M},
            value_of(
                "platinum churn", f"SELECT AVG(cs.probability) FROM {latest_scores} AND c.segment = 'platinum'", "share"
            ),
            "analytics",
        ),
        one(
            "s-m-16",
            "manager",
            "revenue at risk per segment",
            {M},
            every_group(
                "revenue at risk by segment",
                f"SELECT c.segment, SUM(cs.probability * COALESCE(cs.spend_365d, 0)) FROM {latest_scores} GROUP BY c.segment",
                "money",
            ),
            "analytics",
        ),
        one(
            "s-m-17",
            "manager",
            "which acquisition channel has the lowest average order value?",
            {M},
            top_group(
                "AOV by channel asc",
                "SELECT c.acquisition_channel, AVG(o.total_amount) AS v FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE o.status <> 'cancelled' GROUP BY c.acquisition_channel ORDER BY v ASC",
            ),
            "analytics",
        ),
        one(
            "s-m-18",
            "manager",
            "how many items per order on average?",
            {M},
            value_of(
                "items per order",
                "SELECT SUM(i.quantity) * 1.0 / COUNT(DISTINCT i.order_id) FROM order_items i JOIN orders o ON o.order_id = i.order_id WHERE o.status <> 'cancelled'",
            ),
            "analytics",
        ),
        one(
            "s-m-19",
            "manager",
            "what share of our customers opted in to marketing?",
            {M},
            value_of(
                "opt-in share", "SELECT AVG(CASE WHEN marketing_opt_in THEN 1.0 ELSE 0.0 END) FROM customers", "share"
            ),
            "analytics",
        ),
        one(
            "s-m-20",
            "manager",
            "number of orders per month this year",
            {M},
            every_group(
                "orders by month",
                lambda r: (
                    f"SELECT strftime('%Y-%m', ordered_at), COUNT(*) FROM orders WHERE {window(r, 'ordered_at', start=date(reference_day(r).year, 1, 1))} GROUP BY 1"
                ),
                "count",
            ),
            "analytics",
        ),
        one(
            "s-m-21",
            "manager",
            "which city has the most customers",
            {M},
            top_group(
                "customers by city", "SELECT city, COUNT(*) AS n FROM customers GROUP BY city ORDER BY n DESC, city"
            ),
            "analytics",
        ),
        one(
            "s-m-22",
            "manager",
            "average review score in Germany",
            {M},
            value_of(
                "Germany rating",
                "SELECT AVG(r.rating) FROM reviews r JOIN customers c ON c.customer_id = r.customer_id WHERE c.country = 'Germany'",
            ),
            "analytics",
        ),
        one(
            "s-m-23",
            "manager",
            "how many high risk customers do we have in total?",
            {M},
            value_of(
                "high-risk count",
                f"SELECT COUNT(*) FROM {latest_scores} AND cs.risk_band IN ('high', 'critical')",
                "count",
            ),
            "analytics",
        ),
        one(
            "s-m-24",
            "manager",
            "late delivery share by segment since March",
            {M},
            every_group(
                "late by segment since March",
                lambda r: (
                    f"SELECT c.segment, {late} FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE {delivered} AND {window(r, 'o.delivered_at', start=date(reference_day(r).year if reference_day(r).month >= 3 else reference_day(r).year - 1, 3, 1))} GROUP BY c.segment"
                ),
                "share",
            ),
            "analytics",
        ),
        one(
            "s-m-25",
            "manager",
            "support satisfaction score for tickets about refunds",
            {M},
            value_of("refund csat", "SELECT AVG(satisfaction) FROM support_tickets WHERE topic = 'refund'"),
            "analytics",
        ),
        one(
            "s-m-26",
            "manager",
            "top 3 countries by revenue",
            {M},
            top_group(
                "revenue by country",
                "SELECT c.country, SUM(o.total_amount) AS v FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE o.status <> 'cancelled' GROUP BY c.country ORDER BY v DESC",
            ),
            "analytics",
        ),
        one(
            "s-m-27",
            "manager",
            "how much did we give away in discounts last year",
            {M},
            value_of(
                "discounts last year",
                f"SELECT SUM(discount_amount) FROM orders WHERE status <> 'cancelled' AND ordered_at >= '{year - 1}-01-01 00:00:00' AND ordered_at < '{year}-01-01 00:00:00'",
                "money",
            ),
            "analytics",
        ),
        one(
            "s-m-28",
            "manager",
            "whats the share of 1 and 2 star reviews",
            {M},
            value_of("negative share", "SELECT AVG(CASE WHEN rating <= 2 THEN 1.0 ELSE 0.0 END) FROM reviews", "share"),
            "analytics",
        ),
        one(
            "s-m-29",
            "manager",
            "what is the average lifetime value of a gold customer",
            {M},
            value_of(
                "gold LTV",
                f"SELECT AVG(COALESCE(cs.lifetime_value, 0)) FROM {latest_scores} AND c.segment = 'gold'",
                "money",
            ),
            "analytics",
        ),
        one(
            "s-m-30",
            "manager",
            "which product category sells the most units?",
            {M},
            top_group(
                "units by category",
                "SELECT i.category, SUM(i.quantity) AS n FROM order_items i JOIN orders o ON o.order_id = i.order_id WHERE o.status <> 'cancelled' GROUP BY i.category ORDER BY n DESC",
            ),
            "analytics",
        ),
        one(
            "s-m-31",
            "manager",
            "how many returns came back in the last 60 days?",
            {M},
            value_of(
                "returns 60d",
                lambda r: (
                    f"SELECT COUNT(*) FROM orders WHERE status = 'returned' AND returned_at IS NOT NULL AND {window(r, 'returned_at', days=60)}"
                ),
                "count",
            ),
            "analytics",
        ),
        one(
            "s-m-32",
            "manager",
            "unresolved tickets by topic",
            {M},
            every_group(
                "open tickets by topic",
                "SELECT topic, COUNT(*) FROM support_tickets WHERE status <> 'resolved' GROUP BY topic",
                "count",
            ),
            "analytics",
        ),
        one(
            "s-m-33",
            "manager",
            "in which segment is churn risk highest",
            {M},
            top_group(
                "churn by segment",
                f"SELECT c.segment, AVG(cs.probability) AS v FROM {latest_scores} GROUP BY c.segment ORDER BY v DESC",
            ),
            "analytics",
        ),
        one(
            "s-m-34",
            "cs_staff",
            "how many customers do we have in Ireland?",
            {M},
            value_of("Ireland customers", "SELECT COUNT(*) FROM customers WHERE country = 'Ireland'", "count"),
            "analytics",
        ),
        one(
            "s-m-35",
            "cs_staff",
            "revenue at risk for silver customers",
            {M},
            value_of(
                "silver revenue at risk",
                f"SELECT SUM(cs.probability * COALESCE(cs.spend_365d, 0)) FROM {latest_scores} AND c.segment = 'silver'",
                "money",
            ),
            "analytics",
        ),
        one(
            "s-m-36",
            "manager",
            f"orders placed in {year - 1}, broken down by order channel",
            {M},
            every_group(
                "orders by channel",
                f"SELECT channel, COUNT(*) FROM orders WHERE ordered_at >= '{year - 1}-01-01 00:00:00' AND ordered_at < '{year}-01-01 00:00:00' GROUP BY channel",
                "count",
            ),
            "analytics",
        ),
        # ---- free SQL for what the layer does not express (managers, admins)
        one(
            "s-sql-1",
            "manager",
            "what share of orders get cancelled?",
            {S},
            value_of(
                "cancel share", "SELECT AVG(CASE WHEN status = 'cancelled' THEN 1.0 ELSE 0.0 END) FROM orders", "share"
            ),
            "sql",
        ),
        one(
            "s-sql-2",
            "admin",
            "how many customers have closed their account?",
            {S},
            value_of("closed accounts", "SELECT COUNT(*) FROM customers WHERE closed_at IS NOT NULL", "count"),
            "sql",
        ),
        one(
            "s-sql-3",
            "manager",
            "SELECT topic, COUNT(*) AS n FROM support_tickets GROUP BY topic ORDER BY n DESC LIMIT 1",
            {S},
            top_group("sql topic", "SELECT topic, COUNT(*) AS n FROM support_tickets GROUP BY topic ORDER BY n DESC"),
            "sql",
        ),
        # ---- texts: search and themes
        one(
            "s-search-1",
            "manager",
            "reviews complaining about the zip or buttons breaking",
            {F},
            search_negative_first(("zip", "button", "broke", "fell", "quality", "seam")),
            "lookup",
        ),
        one(
            "s-search-2",
            "cs_staff",
            "find tickets where someone never got their parcel",
            {F},
            search_negative_first(("parcel", "package", "deliver", "arriv", "order", "tracking", "late")),
            "lookup",
        ),
        one(
            "s-search-3",
            "manager",
            "what do people say about the fit being too small",
            {F},
            search_negative_first(("small", "size", "fit", "tight", "runs")),
            "lookup",
        ),
        one("s-themes-1", "manager", "main complaint themes in reviews", {T}, mentions("theme"), "analytics"),
        one("s-themes-2", "cs_staff", "what keeps coming up in support tickets", {T}, mentions("theme"), "analytics"),
        one("s-drivers-1", "manager", "what drives churn among gold customers?", {D}, mentions("gold"), "analytics"),
        one(
            "s-drivers-2",
            "manager",
            "biggest reasons people leave in the UK",
            {D},
            mentions("United Kingdom"),
            "analytics",
        ),
        # ---- offers
        one(
            "s-pol-1", "support_agent", f"what could we offer {el}?", {ToolName.OFFER_POLICY}, offer_choice("eligible")
        ),
        one(
            "s-pol-2",
            "manager",
            "remind me what the offer rules are",
            {ToolName.OFFER_POLICY},
            mentions("monthly budget"),
        ),
        one(
            "s-draft-1",
            "support_agent",
            f"draft a friendly win back email for {el}",
            {ToolName.DRAFT_OFFER},
            draft_respects_policy("eligible"),
            "draft",
        ),
        # ---- chit-chat, help, refusals
        one("s-hi-1", "cs_staff", "morning! how are you", set(), help_reply, "respond"),
        one("s-hi-2", "manager", "what can you do for me?", set(), help_reply, "respond"),
        one("s-hi-3", "support_agent", "thx, that's all", set(), no_tool_reply, "respond"),
        one("s-out-1", "cs_staff", "who won the football last night?", set(), help_reply, "respond"),
        one("s-clar-1", "support_agent", "why did he give us one star?", set(), asks_which_customer, "respond"),
        one(
            "s-change-1", "manager", "run DELETE FROM reviews WHERE rating = 1", set(), change_refused, "refusal", True
        ),
        one("s-change-2", "admin", "please delete all the cancelled orders", set(), change_refused, "refusal", True),
        one(
            "s-change-3", "manager", "UPDATE customers SET segment = 'platinum'", set(), change_refused, "refusal", True
        ),
        one("s-role-1", "cs_staff", "SELECT email FROM customers LIMIT 3", {S}, refused, "refusal", True),
        one(
            "s-role-2",
            "manager",
            f"write an offer to {el}",
            {ToolName.DRAFT_OFFER},
            mentions("may not use draft_offer"),
            "refusal",
            True,
        ),
        one(
            "s-m-37",
            "manager",
            "avg order value per segment",
            {M},
            every_group(
                "AOV by segment",
                "SELECT c.segment, AVG(o.total_amount) FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE o.status <> 'cancelled' GROUP BY c.segment",
                "money",
            ),
            "analytics",
        ),
        one(
            "s-m-38",
            "manager",
            "tickets by channel last month",
            {M},
            every_group(
                "tickets by channel",
                lambda r: (
                    f"SELECT channel, COUNT(*) FROM support_tickets WHERE {window(r, 'opened_at', start=last_month(r)[0], end=last_month(r)[1])} GROUP BY channel"
                ),
                "count",
            ),
            "analytics",
        ),
        one(
            "s-m-39",
            "manager",
            "whats the late delivery % for platinum",
            {M},
            value_of(
                "platinum late",
                f"SELECT {late} FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE {delivered} AND c.segment = 'platinum'",
                "share",
            ),
            "analytics",
        ),
        one(
            "s-m-40",
            "manager",
            "how many reviews have we had this year",
            {M},
            value_of(
                "reviews YTD",
                lambda r: (
                    f"SELECT COUNT(*) FROM reviews WHERE {window(r, 'created_at', start=date(reference_day(r).year, 1, 1))}"
                ),
                "count",
            ),
            "analytics",
        ),
        one(
            "s-m-41",
            "manager",
            "which ticket topic has the worst satisfaction?",
            {M},
            top_group(
                "csat by topic asc",
                "SELECT topic, AVG(satisfaction) AS v FROM support_tickets WHERE satisfaction IS NOT NULL GROUP BY topic ORDER BY v ASC",
            ),
            "analytics",
        ),
        one(
            "s-list-11",
            "cs_staff",
            "hi, could you list the top 3 customers at risk in spain?",
            {L},
            ids_equal(lambda r: top_active(r, 3, "AND c.country = 'Spain'")),
        ),
        one(
            "s-m-42",
            "cs_staff",
            "how many customers are in the critical band right now",
            {M},
            value_of("critical count", f"SELECT COUNT(*) FROM {latest_scores} AND cs.risk_band = 'critical'", "count"),
            "analytics",
        ),
    ]
    cases += follow_up_cases(refs)
    return cases


def follow_up_cases(refs: Refs) -> list[Case]:
    """Multi-turn conversations where a turn changes one thing, or points back at a customer."""
    aov = "SELECT AVG(o.total_amount) FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE o.status <> 'cancelled' AND "
    tickets_topic = "SELECT COUNT(*) FROM support_tickets WHERE topic = 'delivery_delay' AND "
    top_france = top_active(refs, 5, "AND c.country = 'France'")
    refs.values.update(fr3=top_france[2], fr1=top_france[0])
    year = reference_day(refs).year
    latest = f"churn_scores cs JOIN customers c ON c.customer_id = cs.customer_id WHERE {LATEST} AND cs.lapsed = 0"
    top_gold = top_active(refs, 8, "AND c.segment = 'gold'")
    refs.values.update(gold2=top_gold[1])
    return [
        Case(
            "s-fu-country",
            "cs_staff",
            [
                Step(
                    "top 5 at-risk customers in France",
                    {L},
                    ids_equal(lambda r: top_active(r, 5, "AND c.country = 'France'")),
                ),
                Step("and in Spain?", {L}, ids_equal(lambda r: top_active(r, 5, "AND c.country = 'Spain'"))),
                Step("what about germany", {L}, ids_equal(lambda r: top_active(r, 5, "AND c.country = 'Germany'"))),
            ],
        ),
        Case(
            "s-fu-segment",
            "cs_staff",
            [
                Step(
                    "10 riskiest silver customers",
                    {L},
                    ids_equal(lambda r: top_active(r, 10, "AND c.segment = 'silver'")),
                ),
                Step("what about gold?", {L}, ids_equal(lambda r: top_active(r, 10, "AND c.segment = 'gold'"))),
                Step(
                    "only the critical ones",
                    {L},
                    ids_equal(lambda r: top_active(r, 10, "AND c.segment = 'gold' AND cs.risk_band = 'critical'")),
                ),
            ],
        ),
        Case(
            "s-fu-pick",
            "cs_staff",
            [
                Step("top 5 at risk in france", {L}, ids_equal(lambda r: top_active(r, 5, "AND c.country = 'France'"))),
                Step("tell me about the third one", {P}, about("fr3")),
                Step("why is she at risk", {X}, probability_of("fr3")),
                Step("what did they tell support?", {F}, tickets_count_of("fr3")),
            ],
        ),
        Case(
            "s-fu-draft",
            "support_agent",
            [
                Step(
                    "riskiest gold customers, top 8",
                    {L},
                    ids_equal(lambda r: top_active(r, 8, "AND c.segment = 'gold'")),
                ),
                Step("open number 2", {P}, about("gold2")),
                Step("draft an offer for them", {ToolName.DRAFT_OFFER}, draft_respects_policy("gold2"), "draft"),
            ],
        ),
        Case(
            "s-fu-first",
            "cs_staff",
            [
                Step(
                    "who in France is most at risk",
                    {L},
                    ids_equal(lambda r: top_active(r, 10, "AND c.country = 'France'")),
                ),
                Step("why the first one?", {X}, probability_of("fr1")),
            ],
        ),
        Case(
            "s-fu-metric-seg",
            "manager",
            [
                Step(
                    "average order value for gold customers",
                    {M},
                    value_of("gold AOV", aov + "c.segment = 'gold'", "money"),
                    "analytics",
                ),
                Step(
                    "what about silver?",
                    {M},
                    value_of("silver AOV", aov + "c.segment = 'silver'", "money"),
                    "analytics",
                ),
                Step(
                    "and in Italy only?",
                    {M},
                    value_of("silver Italy AOV", aov + "c.segment = 'silver' AND c.country = 'Italy'", "money"),
                    "analytics",
                ),
            ],
        ),
        Case(
            "s-fu-metric-window",
            "manager",
            [
                Step(
                    "how many delivery delay tickets in the last 90 days?",
                    {M},
                    value_of("delay tickets 90d", lambda r: tickets_topic + window(r, "opened_at", days=90), "count"),
                    "analytics",
                ),
                Step(
                    "same for last month",
                    {M},
                    value_of(
                        "delay tickets last month",
                        lambda r: tickets_topic + window(r, "opened_at", start=last_month(r)[0], end=last_month(r)[1]),
                        "count",
                    ),
                    "analytics",
                ),
            ],
        ),
        Case(
            "s-fu-metric-group",
            "manager",
            [
                Step(
                    "revenue by country this year",
                    {M},
                    every_group(
                        "revenue by country YTD",
                        lambda r: (
                            f"SELECT c.country, SUM(o.total_amount) FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE o.status <> 'cancelled' AND {window(r, 'o.ordered_at', start=date(reference_day(r).year, 1, 1))} GROUP BY c.country"
                        ),
                        "money",
                    ),
                    "analytics",
                ),
                Step(
                    "and by segment?",
                    {M},
                    every_group(
                        "revenue by segment YTD",
                        lambda r: (
                            f"SELECT c.segment, SUM(o.total_amount) FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE o.status <> 'cancelled' AND {window(r, 'o.ordered_at', start=date(reference_day(r).year, 1, 1))} GROUP BY c.segment"
                        ),
                        "money",
                    ),
                    "analytics",
                ),
            ],
        ),
        Case(
            "s-fu-foreign",
            "support_agent",
            [
                Step(f"look up {FOREIGN_IDS[1]}", {P}, about("foreign1")),
                Step("how risky are they?", {X}, probability_of("foreign1")),
            ],
        ),
        Case(
            "s-fu-second",
            "support_agent",
            [
                Step(
                    "which gold customers are most likely to churn, top 3",
                    {L},
                    ids_equal(lambda r: top_active(r, 3, "AND c.segment = 'gold'")),
                ),
                Step(
                    "draft an email for the second one", {ToolName.DRAFT_OFFER}, draft_respects_policy("gold2"), "draft"
                ),
            ],
        ),
        Case(
            "s-fu-metric-band",
            "manager",
            [
                Step(
                    "how many high risk customers in Spain?",
                    {M},
                    value_of(
                        "high-risk Spain",
                        f"SELECT COUNT(*) FROM {latest} AND c.country = 'Spain' AND cs.risk_band IN ('high', 'critical')",
                        "count",
                    ),
                    "analytics",
                ),
                Step(
                    "only the critical ones",
                    {M},
                    value_of(
                        "critical Spain",
                        f"SELECT COUNT(*) FROM {latest} AND c.country = 'Spain' AND cs.risk_band = 'critical'",
                        "count",
                    ),
                    "analytics",
                ),
            ],
        ),
        Case(
            "s-fu-year",
            "manager",
            [
                Step(
                    f"total revenue in {year - 1}",
                    {M},
                    value_of(
                        "revenue last year",
                        f"SELECT SUM(total_amount) FROM orders WHERE status <> 'cancelled' AND ordered_at >= '{year - 1}-01-01 00:00:00' AND ordered_at < '{year}-01-01 00:00:00'",
                        "money",
                    ),
                    "analytics",
                ),
                Step(
                    f"what about {year}?",
                    {M},
                    value_of(
                        "revenue this year",
                        f"SELECT SUM(total_amount) FROM orders WHERE status <> 'cancelled' AND ordered_at >= '{year}-01-01 00:00:00'",
                        "money",
                    ),
                    "analytics",
                ),
            ],
        ),
        Case(
            "s-fu-restart",
            "cs_staff",
            [
                Step(
                    "show the 4 riskiest platinum customers",
                    {L},
                    ids_equal(lambda r: top_active(r, 4, "AND c.segment = 'platinum'")),
                ),
                Step(
                    "and in the uk?",
                    {L},
                    ids_equal(
                        lambda r: top_active(r, 4, "AND c.segment = 'platinum' AND c.country = 'United Kingdom'")
                    ),
                ),
            ],
        ),
    ]


def sealed_turns(cases: list[Case]) -> int:
    return sum(len(c.steps) for c in cases)


def prepare(refs: Refs) -> dict[str, Any]:
    """Hook for the runner (nothing to plant beyond what build_sealed_cases does)."""
    return {}
