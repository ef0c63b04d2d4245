"""Deterministic slot parsing: the facts a question names (customer ids, segments, countries, bands, dates,
limits, channels, ordinals, pronouns) read with rules, not guessed by a model. Known segment and country
names come from the database, so a question can only name values that exist."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from winback.assistant.planning.lexicon import (
    excluded_values,
    lexicon,
    marketing_consent,
    mentions,
    requested_language,
    requested_tone,
)
from winback.data.risk_bands import RISK_BANDS

NUMBER_WORDS: dict[str, int] = lexicon()["numbers"]["words"]
ORDINALS: dict[str, int] = lexicon()["ordinals"]["words"]  # "last" is -1, "top" is 1 ("explain the top one")
CUSTOMER_ID = re.compile(r"\bC-\d{1,9}\b", re.IGNORECASE)
OFFER_ID = re.compile(r"\bOF-\d{8}-[0-9A-F]{8}\b", re.IGNORECASE)
NUMBER = r"(\d[\d,]*(?:\.\d+)?|" + "|".join(NUMBER_WORDS) + r")"
LIMIT = re.compile(
    r"\b(?:top|first|best|worst|show(?: me)?|list|give me)\s+"
    + NUMBER
    + r"\b|\b(?!(?:19|20)\d\d\b)"  # a year is no count: "orders in 2025 from customers who ..."
    + NUMBER
    + r"\s+(?:most\s+[\w-]+\s+|[a-z-]+\s+){0,3}(?:customers|clients|people|accounts|shoppers|members|buyers|names)\b",
    re.IGNORECASE,
)
ORDINAL_REF = re.compile(
    r"\b(?:the\s+)?(" + "|".join(ORDINALS) + r")\s+(?:one|customer|client|person|on the list|row)\b"
    r"|\bthe\s+(" + "|".join(ORDINALS) + r")\s*[?.!]*\s*$"  # "explain the second"
    r"|\b(?:number|no\.?|#)\s*(\d{1,3})\b",
    re.IGNORECASE,
)
PRONOUN_REF = re.compile(
    r"\b(she|her|hers|he|him|his|they|them|their|this customer|that customer|the customer|"
    r"this person|this one|that one|same customer)\b",
    re.IGNORECASE,
)
SINGULAR_REF = re.compile(
    r"\b(she|her|hers|he|him|his|this customer|that customer|this person|this one|that one|"
    r"same customer|this client|that client)\b",
    re.IGNORECASE,
)
INACTIVE_VERBS = (
    r"\b(?:no orders?|not ordered|haven'?t ordered|hasn'?t ordered|havent ordered|hasnt ordered|not bought|haven'?t bought|"
    r"hasn'?t bought|haven'?t shopped|hasn'?t shopped|inactive|quiet|silent|without an order|no purchases?|not purchased|"
    r"haven'?t purchased|hasn'?t purchased|without a purchase|no (?:new )?orders? placed|not placed an order)"
    r"(?:\s+(?:anything|at all|an order|a thing))?"
)
INACTIVE = re.compile(
    INACTIVE_VERBS
    + r"\s+(?:for|in|within)\s+(?:the\s+last\s+|the\s+past\s+|over\s+|more than\s+|at least\s+)?"
    + NUMBER
    + r"\+?\s*(day|week|month)s?",
    re.IGNORECASE,
)
MONTHS = "|".join(calendar.month_name[1:]) + r"|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec"
ORDINAL_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
DAY_OF_MONTH = (  # "1 may", "1st of May", "may 1st", "Aug 15, 2025"
    rf"(?:{ORDINAL_DAY}\s+(?:of\s+)?({MONTHS})\.?|({MONTHS})\.?\s+{ORDINAL_DAY}(?!\d|\s*(?:%|k\b)))(?:,?\s+(20\d\d))?"
)
START_OF_MONTH = rf"(?:the\s+)?(?:start|beginning|first)\s+of\s+({MONTHS})(?:\s+(20\d\d))?"
INACTIVE_SINCE = re.compile(
    INACTIVE_VERBS
    + rf"\s+(?:since|after)\s+(?:(20\d\d-\d\d-\d\d)|{DAY_OF_MONTH}|{START_OF_MONTH}|({MONTHS})\b(?:\s+(20\d\d))?)",
    re.IGNORECASE,
)


def month_number(name: str) -> int:
    """1-12 for a month's name or its abbreviation ("sept", "oct")."""
    return next(n for n in range(1, 13) if calendar.month_name[n].lower().startswith(name.lower()[:3]))


def past_date(year: str | None, month: int, day: int, today: date) -> date | None:
    """The date named, in its year or, without one, the latest such date not after today."""
    try:
        if year:
            return date(int(year), month, day)
        named = date(today.year, month, day)
        return named if named <= today else date(today.year - 1, month, day)
    except ValueError:
        return None


def day_of_month(groups: tuple[str | None, ...], today: date) -> date | None:
    """The date of a DAY_OF_MONTH match's five groups."""
    day, month, month_first, day_second, year = groups
    return past_date(year, month_number(month or month_first or ""), int(day or day_second or 1), today)


def inactive_since(text: str, today: date) -> int | None:
    """Days since the date in "haven't ordered since 1 May" / "since the start of July" (None: not said)."""
    m = INACTIVE_SINCE.search(text)
    if not m:
        return None
    named: date | None
    if m[1]:
        try:
            named = date.fromisoformat(m[1])
        except ValueError:
            return None
    elif m[2] or m[4]:
        named = day_of_month(m.groups()[1:6], today)
    else:
        month, year = (m[7], m[8]) if m[7] else (m[9], m[10])
        named = past_date(year, month_number(month), 1, today)
    return None if named is None else max(0, (today - named).days)


def without_inactivity(text: str) -> str:
    """The question without its inactivity clause (its number or date is no window)."""
    return INACTIVE_SINCE.sub(" ", INACTIVE.sub(" ", text))


MIN_VALUE = re.compile(
    r"\b(?:worth|value|valued|spent|spend|ltv|lifetime value)\s+(?:of\s+)?(?:more than|over|above|at least|>=?)\s*"
    r"[€$£]?\s*(\d[\d,]*(?:\.\d+)?)\s*(k\b)?",
    re.IGNORECASE,
)
PERCENT = re.compile(r"\b(\d{1,3}(?:\.\d+)?)\s*(?:%|percent\b|per\s*cent\b|pct\b)", re.IGNORECASE)
RATING = re.compile(r"\b([1-5])[- ]?(?:stars?|★)", re.IGNORECASE)
ISO_DATE = re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b")
SINCE_MONTH = re.compile(
    r"\b(?:since|from|after)\s+(" + "|".join(calendar.month_name[1:]) + r")(?:\s+(20\d\d))?\b", re.IGNORECASE
)
LAST_PERIOD = re.compile(
    r"\b(?:in\s+)?(?:the\s+)?(?:last|past)\s+" + NUMBER + r"?\s*(day|week|month|year)s?\b", re.IGNORECASE
)
GROUP_BY: dict[str, str] = lexicon()["group_by"]["words"]
EVERY = re.compile(r"\b(?:" + "|".join(map(re.escape, lexicon()["numbers"]["all_words"])) + r")\b", re.IGNORECASE)


@dataclass
class Vocabulary:
    """Values that exist in the data, and words people use for them."""

    segments: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)  # {"segment": {"premium": "platinum"}, ...}
    metric_values: dict[str, list[str]] = field(default_factory=dict)  # filterable values per metric dimension


@dataclass
class Slots:
    customer_ids: list[str] = field(default_factory=list)
    offer_id: str | None = None
    segment: str | None = None  # the one segment named (None when several are)
    country: str | None = None
    segments: list[str] = field(default_factory=list)  # every segment named, left-out ones apart
    countries: list[str] = field(default_factory=list)
    not_segments: list[str] = field(default_factory=list)  # "not bronze", "leave out France and the UK"
    not_countries: list[str] = field(default_factory=list)
    cities: list[str] = field(default_factory=list)  # cities named (the data's "city" values), left-out ones apart
    not_cities: list[str] = field(default_factory=list)
    risk_bands: list[str] = field(default_factory=list)
    limit: int | None = None
    since: date | None = None
    inactive_days: int | None = None
    min_value: float | None = None
    marketing_opt_in: bool | None = None  # "opted in to marketing" / "not opted in"
    channel: str | None = None
    tone: str | None = None
    kind: str | None = None  # review / ticket
    max_rating: int | None = None
    ordinal: int | None = None  # "the second customer" -> 2; "the last one" -> -1
    pronoun: bool = False  # "her", "their", "this customer": the conversation's current customer
    singular: bool = False  # a reference that can only mean one customer ("her", "this customer")
    sort: str | None = None
    population: str | None = None
    group_by: str | None = None
    percent: float | None = None  # a discount asked about ("can we give her 40 % off?")
    language: str | None = None  # a language a draft is asked for ("in German": "de")

    def found(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, [], False)}


def _number(text: str) -> float:
    word = text.lower()
    return float(NUMBER_WORDS[word]) if word in NUMBER_WORDS else float(text.replace(",", ""))


def _word(pattern: str, text: str) -> bool:
    return re.search(rf"\b{pattern}\b", text, re.IGNORECASE) is not None


def _since(text: str, today: date) -> date | None:
    if m := ISO_DATE.search(text):
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    if m := SINCE_MONTH.search(text):
        return past_date(m[2], month_number(m[1]), 1, today)
    if m := LAST_PERIOD.search(text):
        n = int(_number(m[1])) if m[1] else 1
        days = {"day": 1, "week": 7, "month": 30, "year": 365}[m[2].lower()] * n
        return today - timedelta(days=days)
    if _word("this year", text):
        return date(today.year, 1, 1)
    if _word("this month", text):
        return today.replace(day=1)
    if _word("this quarter", text):
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return None


def parse_slots(text: str, vocabulary: Vocabulary, today: date | datetime) -> Slots:
    today = today.date() if isinstance(today, datetime) else today
    slots = Slots()
    slots.customer_ids = list(dict.fromkeys(m.upper() for m in CUSTOMER_ID.findall(text)))
    if m := OFFER_ID.search(text):
        slots.offer_id = m.group(0).upper()
    for name, plural, known in (
        ("segment", "segments", vocabulary.segments),
        ("country", "countries", vocabulary.countries),
        ("city", "cities", vocabulary.metric_values.get("city", [])),
    ):
        named = mentions(text, known, vocabulary.aliases.get(name, {}))
        kept = list(dict.fromkeys(m.value for m in named if not m.excluded))
        setattr(slots, plural, kept)
        setattr(slots, f"not_{plural}", list(dict.fromkeys(m.value for m in named if m.excluded)))
        if name != "city":
            setattr(slots, name, kept[0] if len(kept) == 1 else None)
    slots.risk_bands = [
        b
        for b in RISK_BANDS
        if re.search(rf"\b{b}(?:[- ]risk|\b(?=.*\brisk))", text, re.IGNORECASE)
        or re.search(rf"\b{b} band\b", text, re.IGNORECASE)
        or re.search(  # "critical customers", "high gold accounts"; not "high-value customers"
            rf"\b{b}\s+(?:(?!value|valued|spend|spending|paying|volume|priority|ltv)[a-z]+\s+)?"
            r"(?:customers|clients|accounts|members|shoppers)\b",
            text,
            re.IGNORECASE,
        )
    ]
    left_out = excluded_values(text, list(RISK_BANDS))  # "high, not critical"
    slots.risk_bands = [b for b in slots.risk_bands if b not in left_out]
    if m := LIMIT.search(text):
        value = m.group(1) or m.group(2)
        if value:
            slots.limit = max(1, int(_number(value)))
    elif EVERY.search(text):
        slots.limit = lexicon()["numbers"]["all_limit"]
    if m := INACTIVE.search(text):
        slots.inactive_days = int(_number(m[1]) * {"day": 1, "week": 7, "month": 30}[m[2].lower()])
    else:
        slots.inactive_days = inactive_since(text, today)
    if m := MIN_VALUE.search(text):
        slots.min_value = _number(m[1]) * (1000 if m[2] else 1)
    slots.marketing_opt_in = marketing_consent(text)
    slots.since = _since(text, today)
    if _word("sms|text message", text):
        slots.channel = "sms"
    elif _word("e-?mail", text):
        slots.channel = "email"
    slots.tone = requested_tone(text)
    if _word("reviews?|rated|ratings?", text) and not _word("tickets?", text):
        slots.kind = "review"
    elif _word("tickets?|support", text):
        slots.kind = "ticket"
    if m := PERCENT.search(text):
        slots.percent = float(m[1])
    slots.language = requested_language(text)
    if m := RATING.search(text):
        slots.max_rating = int(m[1])
    elif _word("negative|bad|low[- ]rated|unhappy|angry", text):
        slots.max_rating = 2
    if m := ORDINAL_REF.search(text):
        slots.ordinal = ORDINALS[(m[1] or m[2]).lower()] if m[1] or m[2] else int(m[3])
    slots.pronoun = PRONOUN_REF.search(text) is not None
    slots.singular = SINGULAR_REF.search(text) is not None
    if _word("revenue at risk|money at risk|most revenue|biggest revenue", text):
        slots.sort = "revenue_at_risk"
    elif _word(
        "predicted value|future value|predicted spend|expected spend|expected to spend|value next year|"
        "next year's value|12-month value|predicted clv|worth next year",
        text,
    ):
        slots.sort = "predicted_value"
    elif (
        _word("most valuable|highest value|biggest spenders|top spenders|lifetime value", text) and not slots.min_value
    ):
        slots.sort = "lifetime_value"
    elif _word("longest inactive|quiet the longest|longest without", text):
        slots.sort = "days_inactive"
    if _word("lapsed|already churned|already gone|churned customers", text):
        slots.population = "lapsed"
    elif _word("including lapsed|all customers including|even lapsed", text):
        slots.population = "all"
    mentioned = [
        (m.start(), dimension)
        for words, dimension in GROUP_BY.items()
        for m in re.finditer(rf"\b{words}\b", text, re.IGNORECASE)
    ]
    if mentioned:  # the first dimension word named ("which country...", "by channel", "compare segments")
        slots.group_by = min(mentioned)[1]
    return slots
