"""Step 3 of planning, by rules: what holds whatever the embeddings (or the model) say. A request to
change data is refused; a question about one customer is not one about a group; a question that asks for
a governed measure is a metric query."""

from __future__ import annotations

import re

from winback.assistant.intents import Intent
from winback.assistant.memory import ConversationState
from winback.assistant.planning.calls import RESPOND
from winback.assistant.planning.candidates import load_intents
from winback.assistant.planning.metric_slots import MetricSlots, asks_for_measure
from winback.assistant.planning.slots import Slots
from winback.tools.sql_query import LOOKS_LIKE_SQL

QUANTITY_WORDS = re.compile(
    r"^\s*(how many|how much|what is the (?:average|total|median|share|number|percentage)|"
    r"what's the (?:average|total|median|share|number)|average|total number|count|median|"
    r"what (?:share|percentage|fraction))\b",
    re.IGNORECASE,
)
WHY_WORDS = re.compile(r"\b(why|how come|what makes|reasons?|explain)\b", re.IGNORECASE)
RISK_WORDS = re.compile(
    r"\b(why|risk\w*|churn\w*|leav\w*|likely|score\w*|probab\w*|reasons?|driv\w*|stop\w*|"
    r"los\w*|quit\w*|cancel\w*|explain\w*)\b",
    re.IGNORECASE,
)
CHURN_WORDS = re.compile(
    r"\b(churn\w*|leav\w*|los(?:e|ing) (?:them|customers)|quit\w*|stop (?:buying|ordering))\b", re.I
)
ABOUT_CLAUSE = re.compile(
    r"\b(?:complaints?|reviews?|tickets?|feedback|comments?)\s+(?:that|which|where|saying|mentioning|with|"
    r"complaining|describing|in which)\b",
    re.IGNORECASE,
)
WHO_WORDS = re.compile(
    r"^\s*(who|whom|who'?s|which (?:\d+ )?(?:customers|clients|shoppers|people|accounts|ones))\b", re.IGNORECASE
)
_ASKING = (  # "also please delete ...", "can you set ..."
    r"(?:(?:also|and|ok|okay|now|then)\s+)?"
    r"(?:please\s+|can you\s+|could you\s+|would you\s+|i (?:want|need) (?:you )?to\s+|let'?s\s+)?"
)
_RECORDS = r"(?:customers?|clients?|accounts?|orders?|reviews?|tickets?|records?|rows?|entries|columns?|tables?|users?)"
CHANGE_REQUEST = re.compile(
    r"\b(?:delete\s+from|drop\s+(?:table|database|schema|view|index|role|user)|truncate\s+(?:table\s+)?\w+|"
    r"update\s+\w+\s+set|insert\s+(?:or\s+\w+\s+)?into|replace\s+into|alter\s+(?:table|role|user|database)|"
    r"create\s+(?:or\s+replace\s+)?(?:temp\w*\s+)?(?:table|index|view|role|user|database|trigger|function)|"
    r"grant\s+\w+|revoke\s+\w+|attach\s+database|pragma\s+\w+|vacuum\b)"
    rf"|^\s*{_ASKING}(?:delete|remove|erase|wipe|purge)\s+(?:all\s+|every\s+|the\s+)?"
    r"(?:[\w'’-]+\s+){0,3}?(?:customers?|orders?|reviews?|tickets?|offers?|records?|rows?|data|tables?|scores?)\b"
    rf"|^\s*{_ASKING}(?:change|set|modify|edit|update)\s+(?:the\s+)?(?:[\w-]+\s+){{0,3}}?"
    r"(?:of|for)\s+\S+\s+to\b"  # "change the segment of C-17 to gold"
    rf"|^\s*{_ASKING}(?:set|change|modify|edit|update|mark|upgrade|downgrade|reset|rename)\s+"
    rf"(?:(?:all|every|each|the|these|those|this|that)\s+)?(?:[\w-]+\s+){{0,3}}?{_RECORDS}\s+(?:\S+\s+){{0,4}}?(?:to|as|into)\b"  # "set all gold customers to platinum"
    rf"|^\s*{_ASKING}(?:(?:insert|create|register)\s+(?:an?\s+|some\s+)?|add\s+(?:an?|some|new)\s+)"
    r"(?!(?:\S+\s+){0,2}(?:list|report|chart|summary|table)s?\s+of\b)"  # "create a list of customers" reads
    rf"(?:new\s+|fake\s+|test\s+)?(?:[\w-]+\s+){{0,2}}?{_RECORDS}\b",  # "insert a new customer"
    re.IGNORECASE,
)
CUSTOMER_LIST = re.compile(
    r"\b(?:list|rank|show(?: me)?|give me|top \d+|which)\s+(?:the\s+)?(?:[\w-]+\s+){0,3}?"
    r"(?:customers|clients|people|accounts|members|shoppers|buyers)\b",
    re.IGNORECASE,
)
CUSTOMER_TEXT_ENTITIES = {"tickets", "reviews"}  # a measure over these, for one customer: what they wrote
CUSTOMER_RISK_ENTITIES = {"scores"}  # ... over these: their risk
TEXT_WORDS = re.compile(
    r"\b(tickets?|reviews?|stars?|complain\w*|wrote|written|said|told|support|contacted|in touch)\b", re.IGNORECASE
)
PROFILE_WORDS = re.compile(
    r"\b(profile|details?|card|overview|history|orders?|ordered|bought|who is|who's|tell me (?:more )?about|"
    r"everything|more about)\b",
    re.IGNORECASE,
)
CAMPAIGN_WORDS = re.compile(r"\b(campaigns?|hold-?outs?|control groups?)\b", re.IGNORECASE)
# without a campaign word, the nearest ordinary intent: a filtered group of customers is a list, and
# "did it work" about offers is their history
NOT_A_CAMPAIGN: dict[str, Intent] = {
    Intent.START_CAMPAIGN: Intent.LIST_AT_RISK,
    Intent.CAMPAIGN_REPORT: Intent.OFFER_HISTORY,
}
GROUP_INTENTS = {Intent.CHURN_DRIVERS, Intent.SEGMENTS, Intent.COMPLAINT_THEMES}
TEXT_INTENTS = {Intent.COMPLAINT_THEMES, Intent.SEARCH_FEEDBACK, Intent.CUSTOMER_FEEDBACK}
GROUP_TO_CUSTOMER: dict[str, Intent] = {
    Intent.CHURN_DRIVERS: Intent.EXPLAIN_RISK,
    Intent.COMPLAINT_THEMES: Intent.CUSTOMER_FEEDBACK,
    Intent.SEARCH_FEEDBACK: Intent.CUSTOMER_FEEDBACK,
    Intent.LIST_AT_RISK: Intent.CUSTOMER_PROFILE,
    Intent.SEGMENTS: Intent.CUSTOMER_PROFILE,
}


def refine_intent(
    intent: str, question: str, slots: Slots, state: ConversationState, metric: MetricSlots | None = None
) -> str:
    """Rules that hold whatever the embeddings say: a question about one customer (named once, picked
    from the last list, or "her") is not a question about a group; texts cannot answer "how many"; a
    question that asks for a governed measure (a number, a share, a breakdown) is a metric query; a
    campaign is started or reported only when the question says campaign (or holdout)."""
    if intent in NOT_A_CAMPAIGN and not CAMPAIGN_WORDS.search(question):
        intent = NOT_A_CAMPAIGN[intent]  # "critical risk platinum clients" lists them; it starts nothing
    one_customer = (
        len(slots.customer_ids) == 1
        or (slots.ordinal is not None and bool(state.customer_ids))
        or (slots.pronoun and state.focus is not None)  # the focus ends with a new list: "they" is one
    )
    people = WHO_WORDS.search(question) is not None or CUSTOMER_LIST.search(question) is not None
    nobody = slots.singular and not slots.customer_ids and state.focus is None  # "her", and no one to be her
    people_described = (  # "critical customers in Belgium with lifetime value above 2000": people to list
        intent == Intent.LIST_AT_RISK
        and (slots.risk_bands or slots.min_value or slots.inactive_days)
        and not QUANTITY_WORDS.search(question)
    )
    if (
        metric is not None
        and not people_described
        and not one_customer
        and not nobody
        and not slots.customer_ids
        and not ((people or slots.limit) and not (metric.query and metric.query.group_by))
        and (intent != Intent.OFFER_POLICY or _measured_over_time(question, metric))
        and intent != Intent.DRAFT_OFFER
        and not LOOKS_LIKE_SQL.match(question)
        and asks_for_measure(question, metric)
    ):
        if metric.unexplained or metric.conditions:  # words the layer cannot account for: free SQL
            return Intent.SQL_QUESTION
        return Intent.METRIC_QUERY
    if not LOOKS_LIKE_SQL.match(question) and (
        (intent == Intent.METRIC_QUERY and one_customer)
        or (intent in (Intent.METRIC_QUERY, Intent.SQL_QUESTION) and nobody)
    ):
        return _about_one_customer(question, metric)  # a statistic of one customer is that customer's page
    if nobody and intent in GROUP_TO_CUSTOMER:
        return GROUP_TO_CUSTOMER[intent]  # "why is she leaving?" with nobody in focus: which customer?
    if (
        intent == Intent.METRIC_QUERY
        and (people or slots.limit)
        and not (metric and metric.query and metric.query.group_by)
    ):
        return Intent.LIST_AT_RISK  # "critical-risk bronze customers in Italy, top 4": people, not a number
    if intent == Intent.METRIC_QUERY:
        intent = Intent.SQL_QUESTION  # sounds like one, but names no measure the layer can compute as asked
    if intent == RESPOND and (slots.ordinal is not None and state.customer_ids or slots.singular and state.focus):
        intent = Intent.CUSTOMER_PROFILE  # "the third one", "this customer": a customer, not small talk
    if one_customer and intent in GROUP_TO_CUSTOMER and not slots.limit:
        intent = GROUP_TO_CUSTOMER[intent]
    if one_customer and intent == Intent.CUSTOMER_PROFILE and WHY_WORDS.search(question):
        return Intent.EXPLAIN_RISK  # "why ..." about one customer asks for the explanation
    if (
        one_customer
        and intent == Intent.CUSTOMER_PROFILE
        and TEXT_WORDS.search(question)
        and not PROFILE_WORDS.search(question)
    ):
        return Intent.CUSTOMER_FEEDBACK  # "has this customer contacted support?": what they wrote
    if intent == Intent.EXPLAIN_RISK and not RISK_WORDS.search(question):
        return Intent.CUSTOMER_PROFILE  # nothing about risk: they want the customer, not the model
    if (
        intent in (Intent.LIST_AT_RISK, Intent.METRIC_QUERY, Intent.SEGMENTS, Intent.SQL_QUESTION)
        and not one_customer
        and not slots.customer_ids
        and WHY_WORDS.search(question)
        and CHURN_WORDS.search(question)
        and not WHO_WORDS.search(question)
    ):
        return Intent.CHURN_DRIVERS  # "why are platinum customers churning": a group's reasons, not a list
    if intent == Intent.COMPLAINT_THEMES and ABOUT_CLAUSE.search(question) and not QUANTITY_WORDS.search(question):
        return Intent.SEARCH_FEEDBACK  # "complaints that the colour didn't match": those texts, not all themes
    if intent in GROUP_INTENTS and people and not one_customer:
        return Intent.LIST_AT_RISK  # "who ...", "which bronze customers ..." ask for people, not a group's statistics
    if intent in GROUP_INTENTS | TEXT_INTENTS and not one_customer and only_customers_named(question, slots):
        return Intent.LIST_AT_RISK  # "critical customers in the netherlands": those customers
    if intent in TEXT_INTENTS and QUANTITY_WORDS.search(question) and not slots.customer_ids:
        return Intent.SQL_QUESTION
    return intent


TOTAL_WORDS = re.compile(r"\b(total|sum|in total|overall|altogether|so far)\b", re.IGNORECASE)
CUSTOMER_NOUNS = re.compile(r"\b(?:customers?|clients?|accounts?|shoppers?|members?|people|buyers?)\b", re.IGNORECASE)
RISK_PHRASES = re.compile(
    r"\b(?:at[- ]risk|risky|riskiest|high[- ]risk|(?:critical|high|medium|low)[- ]risk|risk|band|tier|segment|from|in|"
    r"the|of|our|with|who|are|is|only|all|just|show|list|me|please|pls|top|\d+|and|or|churning|likely to churn)\b",
    re.IGNORECASE,
)


def only_customers_named(question: str, slots: Slots) -> bool:
    """The question is a plain description of customers ("critical customers in the netherlands", "gold
    accounts in Spain at risk"): a customer noun and filters, nothing else to ask about them."""
    if not CUSTOMER_NOUNS.search(question) or not (
        slots.segment or slots.country or slots.risk_bands or slots.min_value or slots.inactive_days
    ):
        return False
    rest = CUSTOMER_NOUNS.sub(" ", question)
    aliases = load_intents().aliases
    for dimension, value in (("segment", slots.segment), ("country", slots.country), ("band", None)):
        words = [value] if value else []
        words += [alias for alias, named in aliases.get(dimension, {}).items() if value and named == value]
        for word in words:
            rest = re.sub(rf"\b{re.escape(str(word))}\b", " ", rest, flags=re.IGNORECASE)
    for band in slots.risk_bands:
        rest = re.sub(rf"\b{re.escape(band)}\b", " ", rest, flags=re.IGNORECASE)
    return not re.findall(r"[a-z]{3,}", RISK_PHRASES.sub(" ", rest).lower())


def _measured_over_time(question: str, metric: MetricSlots) -> bool:
    """ "total discounts given in 2026" asks what was given, not what the offer policy allows."""
    return metric.windowed or TOTAL_WORDS.search(question) is not None


def _about_one_customer(question: str, metric: MetricSlots | None) -> Intent:
    """The one-customer tool for a question that sounds like a statistic ("what tickets has C-17 opened?",
    "why did he give us one star?"): their texts, their risk, or their profile; with nobody named or in
    focus, the plan asks which customer."""
    entity = metric.measure.entity if metric is not None and metric.measure is not None else None
    if entity in CUSTOMER_TEXT_ENTITIES or (entity is None and TEXT_WORDS.search(question)):
        return Intent.CUSTOMER_FEEDBACK
    if entity in CUSTOMER_RISK_ENTITIES or RISK_WORDS.search(question):
        return Intent.EXPLAIN_RISK
    return Intent.CUSTOMER_PROFILE
