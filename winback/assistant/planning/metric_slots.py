"""Slots for the metrics layer: which governed measure a question names, grouped by what, filtered by which
values, over which window, and whether it asks for a superlative ("which country has the highest ...").
Read with rules from the catalog's own words and the values that exist in the database; a question that
names no measure gets no metric query."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from winback.assistant.planning.lexicon import excluded_marks, lexicon
from winback.assistant.planning.slots import (
    DAY_OF_MONTH,
    MONTHS,
    NUMBER,
    START_OF_MONTH,
    _number,
    day_of_month,
    month_number,
    without_inactivity,
)
from winback.data.metrics import Filter, MetricQuery, Window, load_catalog
from winback.data.metrics.catalog import Catalog, Dimension, Measure
from winback.data.metrics.windows import resolve

COMPARED_WINDOWS = re.compile(r"\b(?:vs\.?|versus|compared (?:to|with)|against|and)\b", re.I)


HIGHEST = re.compile(r"\b(highest|most|largest|biggest|greatest|top|maximum|max|leads?|leading|more|higher)\b", re.I)
LOWEST = re.compile(r"\b(lowest|least|fewest|smallest|minimum|min|bottom|less|fewer|lower)\b", re.I)
BEST = re.compile(r"\b(best|better)\b", re.I)  # the top or the bottom, by which way the measure is good
WORST = re.compile(r"\b(worst|worse|poorest)\b", re.I)
WHICH_GROUP = r"\b(?:which|what)\s+(?:\w+\s+){0,2}?"
MOST_COMMON = r"\b(?:the\s+)?(?:most|least)\s+(?:common|frequent|popular|usual|typical)\s+"
TOP_N = r"\b(?:top|first|bottom|worst|best)\s+" + NUMBER + r"\s+"
TOP_GROUPS = re.compile(r"\b(?:top|first|best|worst|bottom)\s+" + NUMBER + r"\s+(\w+(?:\s\w+)?)", re.I)
BY_WORDS = r"(?:by|per|for each|each|across|among|between|broken down by|split by|grouped by|in each)\s+(?:the\s+)?"
QUANTITY = re.compile(
    r"\b(how many|how much|number of|count|total|sum|volume|average|avg|mean|median|share|rate|ratio|percent(?:age)?|"
    r"proportion|fraction|what(?:'s| is| was| are| were) (?:the|our)|by|per|across|each|compare|trend|"
    r"over time|highest|lowest|most|least|biggest|largest|smallest|fewest|top \d+)\b",
    re.I,
)
WINDOWS = [
    (re.compile(rf"\bbetween\s+(?:the\s+)?{DAY_OF_MONTH}\s+and\s+(?:the\s+)?{DAY_OF_MONTH}", re.I), "days_between"),
    (
        re.compile(
            rf"\bbetween\s+({MONTHS})\s+and\s+({MONTHS})(?:\s+(20\d\d)|\s+(?:of\s+)?(this|last)\s+year)?\b", re.I
        ),
        "months_between",
    ),
    (re.compile(r"\bQ([1-4])(?:\s+|/|-)?(?:(20\d\d)|\s*(?:of\s+)?(this|last)\s+year)?\b", re.I), "quarter"),
    (re.compile(rf"\b(?:in\s+|during\s+)?({MONTHS})\.?\s+(?:of\s+)?(last|this)\s+year\b", re.I), "month_of_year"),
    (re.compile(r"\b(?:in\s+)?(?:the\s+)?(?:last|past|previous)\s+" + NUMBER + r"\s+days?\b", re.I), "last_days"),
    (re.compile(r"\b(?:in\s+)?(?:the\s+)?(?:last|past|previous)\s+" + NUMBER + r"\s+weeks?\b", re.I), "last_weeks"),
    (re.compile(r"\b(?:in\s+)?(?:the\s+)?(?:last|past|previous)\s+" + NUMBER + r"\s+months?\b", re.I), "last_months"),
    (re.compile(r"\b(?:in\s+)?(?:the\s+)?(?:last|past|previous)\s+" + NUMBER + r"\s+years?\b", re.I), "last_years"),
    (re.compile(r"\b(?:in\s+)?(?:the\s+)?(?:last|past|previous)\s+week\b", re.I), "last_week"),
    (re.compile(r"\b(?:in\s+)?(?:the\s+)?(?:last|past|previous)\s+quarter\b", re.I), "last_quarter"),
    (re.compile(r"\b(?:in\s+)?(?:the\s+)?(?:last|previous)\s+month\b", re.I), "last_month"),
    (re.compile(r"\b(?:in\s+)?(?:the\s+)?past\s+month\b", re.I), "past_month"),
    (re.compile(r"\b(?:in\s+)?(?:the\s+)?(?:last|previous)\s+year\b", re.I), "last_year"),
    (re.compile(r"\b(?:in\s+)?(?:the\s+)?past\s+year\b", re.I), "past_year"),
    (re.compile(r"\bthis\s+month\b", re.I), "this_month"),
    (re.compile(r"\b(?:this|the current)\s+quarter\b|\bquarter[- ]to[- ]date\b|\bqtd\b", re.I), "this_quarter"),
    (re.compile(r"\b(?:this|the current)\s+year\b|\byear[- ]to[- ]date\b|\bytd\b", re.I), "this_year"),
    (re.compile(rf"\b(?:since|from|after)\s+(?:the\s+)?{DAY_OF_MONTH}", re.I), "since_day"),
    (re.compile(rf"\b(?:since|from|after)\s+{START_OF_MONTH}", re.I), "since_month"),
    (re.compile(r"\b(?:since|from|after)\s+(" + MONTHS + r")(?:\s+(20\d\d))?\b", re.I), "since_month"),
    (re.compile(r"\b(?:in|during|for)\s+(" + MONTHS + r")(?:\s+(20\d\d))?\b", re.I), "in_month"),
    (re.compile(r"(?<![\w-])(" + MONTHS + r")\.?\s+(20\d\d)\b", re.I), "in_month"),  # "March 2026 sign-ups"
    (re.compile(r"\bH([12])(?:\s+|/|-)?(20\d\d)?\b|\b(first|second) half(?: of)?(?: (20\d\d))?\b", re.I), "half"),
    (
        re.compile(
            r"(?<![\w-])(" + MONTHS + r")\.?(?:\s+(20\d\d))?(?=\s+(?:vs\.?|versus|compared|against|and)\b)", re.I
        ),
        "in_month",
    ),
    (
        re.compile(r"(?<=\bvs\b\s)(" + MONTHS + r")(?:\s+(20\d\d))?\b|(?<=\bvs\.\s)(" + MONTHS + r")\b", re.I),
        "in_month",
    ),
    (re.compile(r"\b(?:since|from)\s+(20\d\d)-(\d\d)-(\d\d)\b", re.I), "since_date"),
    (re.compile(r"\b(?:in|during|for|of)\s+(20\d\d)\b", re.I), "in_year"),
    (re.compile(r"\b(?:since|from)\s+(20\d\d)\b", re.I), "since_year"),
]


@dataclass
class MetricSlots:
    measure: Measure | None = None
    measure_words: str = ""
    args: dict[str, Any] = field(default_factory=dict)  # the query's arguments as read (checked by MetricQuery)
    query: MetricQuery | None = None
    problem: str | None = None  # the question names a measure, but something it asks cannot be built
    found: list[str] = field(default_factory=list)  # what was read, for the trace
    unexplained: list[str] = field(default_factory=list)  # content words no measure, group, value or window explains
    conditions: list[str] = field(default_factory=list)  # numbers, negations ... left over: rows the layer cannot pick
    unplaced_group: str | None = None  # "by ..." with no dimension the rules know: a split asked for, not read
    inexpressible: str | None = None  # what the layer cannot compute as asked (free SQL can)
    span: tuple[str, date | None, date] | None = None  # the window said, and its first and last day
    other_window: dict[str, Any] | None = None  # a second window it is compared with ("sept vs oct")

    @property
    def windowed(self) -> bool:
        """The question read a time window (not all time)."""
        return (self.args.get("window") or {}).get("kind", "all") != "all"


def _phrase(word: str) -> str:
    """A catalog word as a pattern: spaces and hyphens interchangeable, an optional plural s."""
    parts = [re.escape(p) for p in re.split(r"[\s-]+", word.strip())]
    return r"\b" + r"[\s-]+".join(parts) + r"s?\b"


ENTITY_NOUNS = frozenset(
    ["customers", "customer", "clients", "client", "people", "accounts", "account", "users", "shoppers", "members"]
)
PHRASE_GLUE = frozenset(
    ["per", "of", "to", "the", "a", "an", "in", "with", "who", "is", "are", "at", "on", "for"]
    + ["how", "many", "much", "number", "what", "which"]  # "how many orders" says no more than "orders"
)
LOOSE_SLACK = 3  # words a loose match may hold besides the phrase's own ("deliveries were late")


def _content(word: str) -> list[str]:
    return [_stem(t) for t in re.findall(r"[a-z]+", word.lower()) if t not in PHRASE_GLUE]


@lru_cache(maxsize=1)
def _dimension_phrases() -> re.Pattern[str]:
    """Dimension names of two words or more ("risk band", "order channel"): their words name a grouping,
    not a measure, so loose matching skips them ("customers in each risk band" are not at-risk customers)."""
    phrases = {w for d in load_catalog().dimensions.values() for w in (*d.words, d.label) if " " in w.strip()}
    return re.compile("|".join(_phrase(p) for p in sorted(phrases, key=len, reverse=True)), re.I)


Token = tuple[int, int, str]  # start, end, stem


def _tokens(text: str) -> list[Token]:
    return [(m.start(), m.end(), m.group(0).lower()) for m in re.finditer(r"[A-Za-z]+", text)]


def _loose(word: str, words: list[Token], text: str) -> list[Token] | None:
    """Where all the content words of a catalog phrase stand close together, in any order and inflection
    ("deliveries were late" for "late deliveries", "spends more per order" for "spend per order"): the
    words of the first such stretch of text (only they name the measure: "deliveries to germany were late"
    leaves Germany to the filters). Phrases of one content word match only as written (_phrase). `words`:
    the text's words, once for all phrases."""
    wanted = _content(word)
    if len(wanted) < 2:
        return None
    written = {t for t in re.findall(r"[a-z]+", word.lower())}
    verbs = _entity_verbs()
    tokens = [  # an entity's verb counts only as written: "tickets were opened" are not "open tickets"
        (start, end, _stem(lowered)) for start, end, lowered in words if lowered not in verbs or lowered in written
    ]
    width = len(wanted) + LOOSE_SLACK
    for i in range(len(tokens)):
        window = tokens[i : i + width]
        spans = [next((t for t in window if t[2] == w), None) for w in wanted]
        if all(spans) and window[0][2] in wanted:
            found = sorted(t for t in spans if t is not None)
            start, end = found[0][0], found[-1][1]
            if not CONDITIONS.search(text[start:end]):  # "customers with no purchase" are not purchasing
                return found  # customers, nor "customers have placed more than 10 orders" ordering ones
    return None


@lru_cache(maxsize=1)
def _entity_verbs() -> frozenset[str]:
    return frozenset(v.lower() for e in load_catalog().entities.values() for v in e.verbs if " " not in v)


def _masked(text: str, values: dict[str, list[str]] | None) -> str:
    """The text with dimension names and values of several words blanked out (same length), for loose
    matching: "customers in each risk band" are not at-risk customers, "delivery delay tickets" are tickets
    about a topic, not delayed deliveries."""
    text = _dimension_phrases().sub(lambda m: " " * len(m.group(0)), text)
    for value in sorted({str(v) for vs in (values or {}).values() for v in vs}, key=len, reverse=True):
        if re.search(r"[\s_]", value):
            text = re.sub(value_pattern(value), lambda m: " " * len(m.group(0)), text, flags=re.I)
    return text


def _longest(text: str, named: dict[str, tuple[str, ...]], loose_text: str | None = None) -> tuple[str, str] | None:
    """The name whose words the text says most specifically, and the text matched: a measure named by more
    than the entity's bare noun wins ("rating" over "customers" in "what rating do gold customers give");
    then more content words; then a phrase as written over a loose one; then the longer stretch; then
    the earliest."""
    best: tuple[bool, int, bool, int, int, str, str] | None = None
    exact: dict[str, tuple[int, int, str]] = {}  # per name, its longest phrase as written
    text_words = _tokens(loose_text if loose_text is not None else text)
    for name, words in named.items():
        for word in words:
            spans = [(m.start(), m.end(), True, m.group(0)) for m in re.finditer(_phrase(word), text, re.I)]
            loose = _loose(word, text_words, text)
            if loose is not None:
                spans.append((loose[0][0], loose[-1][1], False, " ".join(text[a:b] for a, b, _ in loose)))
            for start, end, as_written, matched in spans:
                if as_written and (name not in exact or end - start > exact[name][1] - exact[name][0]):
                    exact[name] = (start, end, matched)
                only_noun = all(t.lower() in ENTITY_NOUNS for t in re.findall(r"[A-Za-z]+", matched))
                key = (only_noun, -len(_content(word)), not as_written, -(end - start), start, name, matched)
                if best is None or key < best:
                    best = key
    if best is None:
        return None
    name = best[5]
    return name, exact[name][2] if name in exact else best[6]  # the words as written, where the name has some


COUNTING = re.compile(r"\b(?:how many|number of|count of|count the)\b", re.I)
PERCENT_SIGN = re.compile(r"(?<![\d.])%")  # "what % of", not "90% off" (a number's own sign is a value)
SHARE_CUE = re.compile(r"\b(?:share|percent(?:age)?|proportion|fraction|rate)\b|" + PERCENT_SIGN.pattern, re.I)
ABBREVIATIONS = ((re.compile(r"\bavg\b\.?", re.I), "average"), (re.compile(r"\bno\.(?=\s*of\b)", re.I), "number"))


def expand_abbreviations(text: str) -> str:
    """ "avg order value" reads as "average order value": catalog words are written out."""
    for pattern, word in ABBREVIATIONS:
        text = pattern.sub(word, text)
    return text


def find_measure(
    text: str, catalog: Catalog | None = None, values: dict[str, list[str]] | None = None
) -> tuple[Measure, str] | None:
    """The measure the text names (abbreviations already expanded, as parse_metric does); `values`: the
    dimensions' values, whose words never name a measure loosely."""
    catalog = catalog or load_catalog()
    loose_text = _masked(text, values)
    measures = list(catalog.measures.values())
    if COUNTING.search(text) and not SHARE_CUE.search(text):  # "how many customers opted in": a count, not a share
        measures = [m for m in measures if m.kind != "share"]
    if SHARE_CUE.search(text):  # "what share of customers opted in": the share, not the customers
        shares = _longest(text, {m.name: m.words for m in measures if m.kind == "share"}, loose_text)
        if shares:
            return catalog.measures[shares[0]], shares[1]
        outcome = _outcome_share(text, [m for m in measures if m.kind == "share"], catalog)
        if outcome:
            return outcome
    hit = _longest(text, {m.name: m.words for m in measures}, loose_text)
    return (catalog.measures[hit[0]], hit[1]) if hit else None


OUTCOME_SHARE = re.compile(r"^\s*AVG\(\s*CASE\s+WHEN\b", re.I)  # a share of rows with an outcome
SHARE_GENERIC = frozenset(lexicon()["share_generic"]["words"])  # "on-time" is the inverse


def _outcome_share(text: str, shares: list[Measure], catalog: Catalog) -> tuple[Measure, str] | None:
    """A share asked for by its outcome in any inflection ("what % of platinum orders get returned" is the
    return rate): a word of the question with the stem of a share measure's own outcome word ("returned",
    "late", "redeemed"), for shares of rows with an outcome."""
    outcomes: dict[str, Measure] = {}
    for measure in shares:
        if OUTCOME_SHARE.match(measure.sql):
            entity = catalog.entity_of(measure)  # its noun and verbs name the rows, not the outcome
            rows = {_stem(t) for w in (entity.noun, *entity.verbs) for t in re.findall(r"[a-z]+", w.lower())}
            for word in measure.words:
                for token in re.findall(r"[a-z]+", word.lower()):
                    if token not in SHARE_GENERIC and len(token) > 2 and _stem(token) not in rows:
                        outcomes.setdefault(_stem(token), measure)
    for m in re.finditer(r"[a-z]+", text.lower()):
        named = outcomes.get(_stem(m.group(0)))
        if named is not None:
            return named, text[m.start() : m.end()]
    return None


def _without_measure(text: str, words: str) -> str:
    """The text without the words that named the measure: the phrase as written, or each word of a loose match."""
    if re.search(_phrase(words), text, re.I):
        return re.sub(_phrase(words), " ", text, count=1, flags=re.I)
    for word in words.split():
        text = re.sub(rf"\b{re.escape(word)}\b", " ", text, count=1, flags=re.I)
    return text


def _measure_end(text: str, words: str) -> int | None:
    """Where the words that named the measure end in the text."""
    if named := re.search(_phrase(words), text, re.I):
        return named.end()
    ends = [m.end() for w in words.split() if (m := re.search(rf"\b{re.escape(w)}\b", text, re.I))]
    return max(ends) if ends else None


def filter_args(flt: Filter) -> dict[str, Any]:
    """A filter as call arguments: `share` only where it is set (a share of rows, not a scope)."""
    return {k: v for k, v in flt.model_dump().items() if k != "share" or v}


def _share_filters(
    text: str,
    measure_words: str,
    filters: list[Filter],
    verbs: tuple[str, ...],
    dimensions: list[Dimension],
    values: dict[str, list[str]],
    groups: list[str],
    aliases: dict[str, dict[str, str]] | None,
) -> list[Filter]:
    """Which filters a share of a count measures: the values said after its noun ("what share of platinum
    orders came through the app": the app, among platinum orders), or all of them when none follow
    ("share of cancelled orders")."""
    named = _measure_end(text, measure_words)
    after = text[named:] if named is not None else ""
    later = {f.dimension for f in _filters(_without_verbs(after, verbs), dimensions, values, groups, aliases or {})}
    measured = later or {f.dimension for f in filters}
    return [f.model_copy(update={"share": f.dimension in measured}) for f in filters]


def _counted_by_verb(text: str, measure: Measure, words: str, catalog: Catalog) -> tuple[Measure, str]:
    """ "how many orders were sent back" counts returns: a bare count over rows that another entity reads
    from the same tables, with that entity's own verb, is that entity's count."""
    if measure.kind != "count" or measure.where or words.lower().split()[-1] not in BARE_NOUNS:
        return measure, words
    own = catalog.entity_of(measure)
    for entity in catalog.entities.values():
        if entity.name == own.name or entity.from_sql != own.from_sql:
            continue
        if any(re.search(_phrase(verb), text, re.I) for verb in entity.verbs if verb not in own.verbs):
            counts = [m for m in catalog.measures.values() if m.entity == entity.name and m.kind == "count"]
            plain = [m for m in counts if not m.where]
            if len(plain) == 1:
                return plain[0], words
    return measure, words


def _dimension_words(dimensions: list[Dimension]) -> dict[str, tuple[str, ...]]:
    return {d.name: d.words + (d.label,) for d in dimensions}


TIME_GROUPS = {
    "month": re.compile(r"\b(?:monthly|month by month|over time|trend|each month|per month)\b", re.I),
    "year": re.compile(r"\b(?:yearly|annual|year by year|each year|per year)\b", re.I),
}


def _group_by(text: str, dimensions: list[Dimension]) -> list[str]:
    """Dimensions asked for as groups: "by country", "per month", "which segment", "monthly"."""
    hits: list[tuple[int, str]] = []
    for dimension in dimensions:
        for word in (*dimension.words, dimension.label):
            core = _phrase(word)[2:-2]
            for lead in (BY_WORDS, WHICH_GROUP, MOST_COMMON, TOP_N):
                hits += [
                    (m.start(m.lastindex or 0), dimension.name)
                    for m in re.finditer(lead + "(" + core + r")s?\b", text, re.I)
                ]
        if dimension.name in TIME_GROUPS:
            hits += [(m.start(), dimension.name) for m in TIME_GROUPS[dimension.name].finditer(text)]
    for head, name in _heads(dimensions).items():
        hits += [(m.start(1), name) for m in re.finditer(BY_WORDS + "(" + head + r")s?\b", text, re.I)]
    return list(dict.fromkeys(name for _, name in sorted(hits)))[:2]


NOUN_AFTER = r"(?!\s+(?:[a-z]+\s+)?(?:orders?|tickets?|reviews?|returns?|offers?|customers?|deliveries|items?)\b)"


def _without_verbs(text: str, verbs: tuple[str, ...]) -> str:
    """ "orders placed in 2025" says when orders were made, not that their status is `placed`; "placed
    orders", a verb before its noun, stays a value."""
    for verb in verbs:
        text = re.sub(_phrase(verb) + NOUN_AFTER, " ", text, flags=re.I)
    return text


def _heads(dimensions: list[Dimension]) -> dict[str, str]:
    """Last words of dimension names ("channel" of "ticket channel") that say which dimension they mean on
    their own: the only one of the measure's entity ("tickets by channel": the ticket channel, not the
    customer's acquisition channel), or the only one there is."""
    own: dict[str, set[str]] = {}
    every: dict[str, set[str]] = {}
    single = {w.lower() for d in dimensions for w in (*d.words, d.label) if " " not in w.strip()}
    for dimension in dimensions:
        for word in (*dimension.words, dimension.label):
            parts = word.lower().split()
            if len(parts) < 2 or parts[-1] in single:
                continue
            every.setdefault(parts[-1], set()).add(dimension.name)
            if dimension.entities is not None:
                own.setdefault(parts[-1], set()).add(dimension.name)
    heads = {}
    for head, names in every.items():
        if len(own.get(head, ())) == 1:
            heads[head] = next(iter(own[head]))
        elif len(names) == 1:
            heads[head] = next(iter(names))
    return heads


RELATIVE = {"last_days", "last_weeks", "last_months", "last_years", "last_week", "last_quarter", "this_quarter"}
RELATIVE |= {"past_month", "past_year", "last_month", "last_year", "this_month", "this_year"}
SPANS = {"quarter", "months_between", "days_between", "half"}


def _window(text: str, today: date) -> tuple[Window, str] | None:
    """The first window the question names (WINDOWS in order), and the words that said it."""
    for pattern, kind in WINDOWS:
        m = pattern.search(text)
        if not m:
            continue
        window: Window | None
        if kind in RELATIVE:
            window = _relative(kind, m)
        else:
            window = _span(kind, m, today) if kind in SPANS else _from_a_date(kind, m, today)
        return (window, m.group(0).strip()) if window is not None else None
    return None


def _relative(kind: str, m: re.Match[str]) -> Window:
    """A window counted back from the reference date ("last 30 days", "this quarter")."""
    if kind in ("last_days", "last_weeks", "last_months", "last_years"):
        n = int(_number(m.group(1)))
        if kind == "last_days":
            return Window(kind="last_days", n=n)
        if kind == "last_weeks":
            return Window(kind="last_days", n=7 * n)
        return Window(kind="last_months", n=n * (12 if kind == "last_years" else 1))
    if kind == "last_week":
        return Window(kind="last_days", n=7)
    if kind == "past_month":
        return Window(kind="last_days", n=30)
    if kind == "past_year":
        return Window(kind="last_months", n=12)
    return Window(kind=kind)  # last_quarter, this_quarter, last_month, last_year, this_month, this_year


def _span(kind: str, m: re.Match[str], today: date) -> Window | None:
    """A window between two calendar days ("Q2 this year", "between March and June", "H1")."""
    if kind == "quarter":
        quarter = int(m.group(1))
        year = int(m.group(2)) if m.group(2) else today.year - (3 * quarter - 2 > today.month)
        if m.group(3):  # "Q2 this year", "Q4 last year"
            year = today.year - (m.group(3).lower() == "last")
        end_month = 3 * quarter
        end = date(year + (end_month == 12), end_month % 12 + 1, 1) - timedelta(days=1)
        return Window(kind="between", start=date(year, end_month - 2, 1), end=end)
    if kind == "months_between":
        first, last = month_number(m.group(1)), month_number(m.group(2))
        year = int(m.group(3)) if m.group(3) else (today.year if last <= today.month else today.year - 1)
        if m.group(4):  # "between march and june this year"
            year = today.year - (m.group(4).lower() == "last")
        start = date(year - (first > last), first, 1)
        end = date(year + (last == 12), last % 12 + 1, 1) - timedelta(days=1)
        return Window(kind="between", start=start, end=min(end, today))
    if kind == "days_between":
        until = day_of_month(m.groups()[5:10], today)
        opening = m.groups()[0:5]
        since = day_of_month(opening, until or today) if not opening[4] and until else day_of_month(opening, today)
        if since is None or until is None or since > until:
            return None
        return Window(kind="between", start=since, end=until)
    if kind == "half":
        half = int(m.group(1)) if m.group(1) else (1 if m.group(3).lower() == "first" else 2)
        year = int(m.group(2) or m.group(4) or today.year)
        start, end = date(year, 6 * half - 5, 1), date(year, 6, 30) if half == 1 else date(year, 12, 31)
        return Window(kind="between", start=start, end=min(end, today))
    return None


def _from_a_date(kind: str, m: re.Match[str], today: date) -> Window | None:
    """A window from a named day, month or year ("since May 1st", "nov last year", "in 2025")."""
    if kind == "since_day":
        named = day_of_month(m.groups()[0:5], today)
        return Window(kind="between", start=named) if named else None
    if kind == "month_of_year":
        year = today.year - (m.group(2).lower() == "last")
        return Window(kind="month", year=year, month=month_number(m.group(1)))
    if kind in ("since_month", "in_month"):
        if m.group(1) is None:  # the "vs <month>" form keeps its month in the third group
            month = month_number(m.group(3))
            year = today.year if month <= today.month else today.year - 1
            return Window(kind="month", year=year, month=month)
        month = month_number(m.group(1))
        year = int(m.group(2)) if m.group(2) else (today.year if month <= today.month else today.year - 1)
        if kind == "in_month":
            return Window(kind="month", year=year, month=month)
        return Window(kind="between", start=date(year, month, 1))
    if kind == "since_date":
        try:
            return Window(kind="between", start=date(int(m[1]), int(m[2]), int(m[3])))
        except ValueError:
            return None
    if kind == "in_year":
        return Window(kind="year", year=int(m.group(1)))
    if kind == "since_year":
        return Window(kind="between", start=date(int(m.group(1)), 1, 1))
    return None


def value_pattern(value: str) -> str:
    shown = str(value).replace("_", " ")
    return r"\b" + r"[\s_-]+".join(re.escape(p) for p in shown.split()) + r"(?:e?s)?\b"


NUMBERED = r"\b(\d{1,3})(?:\s*(?:,|and|or|to|-)\s*(\d{1,3}))?[\s-]*"


def _numbers_with_unit(text: str, dimension: Dimension, known: list[str]) -> list[tuple[int, int, str, str]]:
    """Numeric values are read only beside their unit ("1 and 2 star reviews", "5-star"): a bare number
    is too ambiguous. "1 to 3 stars" is every value between."""
    units = {w.split()[-1].rstrip("s") for w in (*dimension.words, dimension.label) if w.split()[-1] != "rating"}
    found = []
    for unit in units:
        for m in re.finditer(NUMBERED + re.escape(unit) + r"s?\b", text, re.I):
            low, high = int(m[1]), int(m[2] or m[1])
            wanted = (
                range(low, high + 1)
                if "to" in m.group(0) or "-" in m.group(0)[len(m[1]) : -len(unit) - 1]
                else {low, high}
            )
            for value in (str(v) for v in known):
                if value.isdigit() and int(value) in wanted:
                    found.append((-(m.end() - m.start()), m.start(), dimension.name, value))
    return found


def _filters(
    text: str,
    dimensions: list[Dimension],
    values: dict[str, list[str]],
    groups: list[str],
    aliases: dict[str, dict[str, str]],
) -> list[Filter]:
    """Values of a dimension the question names ("in Spain", "gold customers", "delivery delay tickets"),
    except for a dimension it groups by. Longer values first, so "United Kingdom" wins over a city; where
    two dimensions have the value, the rows' own wins ("orders via the marketplace": the order channel)."""
    found: list[Filter] = []
    taken: list[tuple[int, int, str]] = []
    candidates: list[tuple[int, int, str, str]] = []
    own = {
        d.name for d in dimensions if d.entities is not None
    }  # the rows' own: an order's channel, not the customer's
    for dimension in dimensions:
        if dimension.timed:
            continue
        for value in values.get(dimension.name, []):
            if len(str(value)) < 3 or str(value).isdigit():
                continue  # "1", "2024": too ambiguous to read as a filter from free text
            for m in re.finditer(value_pattern(str(value)), text, re.I):
                candidates.append((-(m.end() - m.start()), m.start(), dimension.name, str(value)))
        for alias, value in aliases.get(dimension.name, {}).items():
            if value in values.get(dimension.name, []):
                for m in re.finditer(value_pattern(alias), text, re.I):
                    candidates.append((-(m.end() - m.start()), m.start(), dimension.name, value))
        candidates += _numbers_with_unit(text, dimension, values.get(dimension.name, []))
    kept: list[tuple[int, int, str, str]] = []
    for length, start, name, value in sorted(candidates, key=lambda c: (c[0], c[1], c[2] not in own, c[2], c[3])):
        end = start - length
        if any(start < b and a < end and (a, b, n) != (start, end, name) for a, b, n in taken):
            continue  # another reading has these words ("1 and 2 star" holds two values of one dimension)
        taken.append((start, end, name))
        kept.append((start, end, name, value))
    in_order = sorted(kept)
    marks = dict(zip(in_order, excluded_marks(text, [(a, b) for a, b, _, _ in in_order]), strict=True))
    by_dimension: dict[tuple[str, bool], list[str]] = {}
    for (_, _, name, value), out in ((k, marks[k]) for k in kept):
        by_dimension.setdefault((name, out), [])
        if value not in by_dimension[(name, out)]:
            by_dimension[(name, out)].append(value)
    for (name, exclude), picked in by_dimension.items():
        if name in groups and not exclude:
            continue  # a value of the grouping is one of its groups; one left out stays a filter ("without the UK")
        found.append(Filter(dimension=name, values=picked, exclude=exclude))
    return found


def parse_metric(
    text: str,
    today: date | datetime,
    values: dict[str, list[str]],
    aliases: dict[str, dict[str, str]] | None = None,
    inactive_days: int | None = None,
    limit: int | None = None,
) -> MetricSlots:
    """`values`: the filterable values per dimension (from the database); `aliases`: words for values
    ({"segment": {"premium": "platinum"}})."""
    today = today.date() if isinstance(today, datetime) else today
    catalog = load_catalog()
    text = expand_abbreviations(text)
    slots = MetricSlots()
    if said := _window(SIGNED_UP.sub(" ", text), today) or _window(text, today):  # for free SQL's check too
        span = resolve(said[0], today)
        slots.span = (said[1], span.start, span.end) if span else None
    hit = find_measure(without_inactivity(text) if inactive_days is not None else text, catalog, values)
    if hit is None:
        return slots
    slots.measure, slots.measure_words = _counted_by_verb(text, *hit, catalog)
    rest = _without_measure(without_inactivity(text) if inactive_days is not None else text, slots.measure_words)
    slots.measure = _per_item(slots.measure, rest, values, aliases or {}, catalog, slots.found)
    measure = slots.measure
    entity = catalog.entity_of(measure)
    dimensions = catalog.dimensions_for(measure)
    groups = _group_by(rest, dimensions)
    timed = without_inactivity(text) if inactive_days is not None else text
    cohort = _cohort(timed, entity.name, dimensions)
    if cohort is not None:  # "orders of customers who signed up in 2025": a filter, not the orders' window
        timed, rest = timed.replace(cohort[1], " "), rest.replace(cohort[1], " ")
    window = _window(timed, today)
    if window and COMPARED_WINDOWS.search(text):  # "returns sept vs oct": the same figure for two windows
        other = _window(text.replace(window[1], " ", 1), today)
        if other and other[0] != window[0]:
            slots.other_window = other[0].model_dump(mode="json", exclude_none=True)
            rest = rest.replace(other[1], " ", 1)
    filters = _filters(_without_verbs(rest, entity.verbs), dimensions, values, groups, aliases or {})
    if cohort is not None:
        filters.append(cohort[0])
    sort: str | None = None
    top_k: int | None = None
    if not groups and (compared := _compared(rest, filters)):
        groups = [compared]  # "who spends more per order: app or web?": the two groups side by side
    direction = _direction(text, measure)  # the whole question: "spends more per order" holds its "more"
    superlative = (re.search(WHICH_GROUP, text, re.I) or re.search(MOST_COMMON, text, re.I)) and groups
    if m := TOP_GROUPS.search(rest):
        if groups:
            top_k = max(1, int(_number(m.group(1))))
            lead = m.group(0).lower().split()[0]
            sort = {"bottom": "asc", "worst": _opposite(_good(measure)), "best": _good(measure)}.get(lead, "desc")
    elif superlative and direction:
        sort, top_k = direction, 1
    elif groups and direction:
        sort = direction
    slots.unexplained, residue = _unexplained(
        rest,
        dimensions,
        values,
        aliases or {},
        window[1] if window else None,
        inactive_days is not None,
        (*measure.words, measure.label),
        entity.verbs,
    )
    slots.conditions = [c for c in _conditions(residue, top_k) if limit is None or c != str(limit)]
    if not groups and (split := UNPLACED_GROUP.search(residue)):
        slots.unplaced_group = split.group(0)  # "split by where folks live": a grouping the rules cannot read
    if measure.kind == "count" and (cue := SHARE_CUE.search(text)):  # "what share of orders were placed in the app"
        if filters and measure.sql == "COUNT(*)":
            filters = _share_filters(
                text, slots.measure_words, filters, entity.verbs, dimensions, values, groups, aliases
            )
        else:
            slots.inexpressible = f"a share of {measure.label} ({cue.group(0)!r}) with no value to count"
            slots.unexplained.append(cue.group(0))
    if window and entity.time is None:
        window = None  # churn probability and revenue at risk come from the latest run, whatever the window
        slots.found.append("window ignored: the measure is read from the latest scoring run")
    slots.args = {
        "measure": measure.name,
        "group_by": groups,
        "filters": [filter_args(f) for f in filters],
        "window": window[0].model_dump(mode="json", exclude_none=True) if window else {"kind": "all"},
        "inactive_days": inactive_days,
        "sort": sort,
        "top_k": top_k,
    }
    slots.args = {k: v for k, v in slots.args.items() if v not in (None, [])}
    try:
        slots.query = MetricQuery.model_validate(slots.args)
    except ValueError as exc:
        slots.problem = str(exc).splitlines()[-1]
    slots.found.append(f"measure {measure.name} ({slots.measure_words!r})")
    if groups:
        slots.found.append(f"by {', '.join(groups)}")
    if filters:
        slots.found.append("filters " + "; ".join(f"{f.dimension}={','.join(f.values)}" for f in filters))
    if window:
        slots.found.append(f"window {window[1]!r}")
    return slots


SIGNED_UP = re.compile(
    rf"\b(?:signed up|signed-up|sign-?ups?|joined|registered)\s+(?:in\s+|during\s+)?(?:({MONTHS})\.?\s+)?(20\d\d)\b"
    rf"|\b(20\d\d)\s+(?:sign-?ups?|cohort|joiners)\b",
    re.I,
)


def _cohort(text: str, entity: str, dimensions: list[Dimension]) -> tuple[Filter, str] | None:
    """The signup cohort a question about another entity names ("AOV of customers who signed up in 2025",
    "the 2024 signups"): a filter on the signup year or month, and the words that said it."""
    m = SIGNED_UP.search(text)
    names = {d.name for d in dimensions}
    if m is None or entity == "customers" or not {"signup_year", "signup_month"} <= names:
        return None  # customers' own window is their signup: "customers who signed up in 2025" is a window
    if m.group(1):
        return Filter(dimension="signup_month", values=[f"{m.group(2)}-{month_number(m.group(1)):02d}"]), m.group(0)
    return Filter(dimension="signup_year", values=[m.group(2) or m.group(3)]), m.group(0)


def _good(measure: Measure) -> str:
    return "desc" if measure.better == "higher" else "asc"


def _opposite(sort: str) -> str:
    return "asc" if sort == "desc" else "desc"


def _direction(text: str, measure: Measure) -> str | None:
    """Which way the question ranks groups, by its first ranking word: "highest"/"most" down, "lowest"/
    "least" up; "best"/"worst" by the way the measure is good (the worst return rate is the highest)."""
    hits = [(m.start(), "desc") for m in HIGHEST.finditer(text)] + [(m.start(), "asc") for m in LOWEST.finditer(text)]
    hits += [(m.start(), _good(measure)) for m in BEST.finditer(text)]
    hits += [(m.start(), _opposite(_good(measure))) for m in WORST.finditer(text)]
    return min(hits)[1] if hits else None


COMPARED = re.compile(  # "high or critical" alone is one filter; "app or web: who spends more?" two groups
    r"\b(?:vs\.?|versus|compared (?:to|with)|against|compare|which|who|more|less|higher|lower|better|worse|"
    r"bigger|smaller|difference)\b",
    re.I,
)


def _compared(text: str, filters: list[Filter]) -> str | None:
    """A dimension two or more of whose values are set side by side ("app or web", "Italy vs Spain"):
    grouped by it, so each value gets its own figure."""
    for flt in filters:
        if len(flt.values) >= 2 and not flt.exclude and not flt.share and COMPARED.search(text):
            return flt.dimension
    return None


def _per_item(
    measure: Measure,
    text: str,
    values: dict[str, list[str]],
    aliases: dict[str, dict[str, str]],
    catalog: Catalog,
    found: list[str],
) -> Measure:
    """The measure's order-line twin when the question names what only order lines know ("sales of shoes":
    revenue has no category, sales at list price does)."""
    if measure.per_item is None:
        return measure
    twin = catalog.measure(measure.per_item)
    own = {d.name for d in catalog.dimensions_for(measure)}
    extra = [d for d in catalog.dimensions_for(twin) if d.name not in own and not d.timed]
    if _filters(text, extra, values, [], aliases) or _group_by(text, extra):
        found.append(f"{twin.label} instead of {measure.label}: the question names {', '.join(d.label for d in extra)}")
        return twin
    return measure


CONDITIONS = re.compile(
    r"(?<![\w.-])\d+(?:[.,]\d+)?(?![\w.])|\b(?:never|not|no|without|none|nobody|single|first|again|repeat\w*|twice|once|"
    r"exactly)\b|n't\b",
    re.I,
)


UNPLACED_GROUP = re.compile(
    r"\b(?:split by|broken down by|grouped by|by|per|for each|in each|across)\s+(?:the\s+|each\s+)?[a-z]+", re.I
)


def _conditions(residue: str, top_k: int | None) -> list[str]:
    """Words left over that change which rows count — a number ("more than 10 orders"), a negation, "first",
    "again", "single" — which no measure, filter or window of the layer expresses. A question with any of
    them is not the metric the layer would compute."""
    found = [m.group(0).lower() for m in CONDITIONS.finditer(residue)]
    if top_k is not None and str(top_k) in found:
        found.remove(str(top_k))
    return found


@lru_cache(maxsize=1)
def function_words() -> frozenset[str]:
    """Words that only join a question (prompts/planning_lexicon.v1.toml, [function] and [chat])."""
    spec = lexicon()
    return frozenset([*spec["function"]["words"], *spec["chat"]["words"]])


def _unexplained(
    text: str,
    dimensions: list[Dimension],
    values: dict[str, list[str]],
    aliases: dict[str, dict[str, str]],
    window_words: str | None,
    inactive: bool,
    vocabulary: tuple[str, ...] = (),
    verbs: tuple[str, ...] = (),
) -> tuple[list[str], str]:
    """Words of the question that nothing the layer read accounts for ("closed their account", "deleted"):
    when there are any, the rules are not sure the measure answers the question. `vocabulary`: the measure's
    own words ("satisfaction score"), which like the dimensions' words explain a word in any inflection
    ("stars" by "star"); `verbs`: its entity's ("opened", "came back"), exactly as written ("open" is not
    "opened": open tickets are a measure of their own). Also returns what is left of the text, for _conditions."""
    rest = without_inactivity(text) if inactive else text
    if window_words:
        rest = rest.replace(window_words, " ")
    for phrase in (*vocabulary, *verbs):
        rest = re.sub(_phrase(phrase), " ", rest, flags=re.I)
    known = set(vocabulary)
    for dimension in dimensions:
        known.update((*dimension.words, dimension.label))
        for word in (*dimension.words, dimension.label):
            rest = re.sub(_phrase(word), " ", rest, flags=re.I)
        for value in values.get(dimension.name, []):
            rest = re.sub(NEGATED + value_pattern(str(value)), " ", rest, flags=re.I)
        for alias in aliases.get(dimension.name, {}):
            rest = re.sub(NEGATED + value_pattern(alias), " ", rest, flags=re.I)
    stems = {_stem(w) for phrase in known for w in re.findall(r"[a-z]+", phrase.lower())}
    words = re.findall(r"[a-z]+(?:'[a-z]+)?", rest.lower())
    unexplained = [
        w
        for w in words
        if w not in function_words()
        and w.split("'")[0] not in function_words()
        and len(w) > 1
        and _stem(w) not in stems
    ]
    return unexplained, rest


# a value's negation goes with it ("not resolved" is an excluded value, not a condition left over)
NEGATED = (  # the lexicon's negation words ("without the UK", "leave out bronze")
    r"(?:\b(?:"
    + "|".join(re.escape(w) for w in sorted(lexicon()["negation"]["words"], key=len, reverse=True))
    + r")[\s-]+(?:yet\s+|been\s+|in\s+|the\s+)?)?"
)


def _stem(word: str) -> str:
    """A crude English stem, enough to match a catalog word's inflections ("stars"/"star", "opened"/"open",
    "purchases"/"purchase", "spends"/"spend", "deliveries"/"delivery")."""
    word = word.lower()
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zes")) and len(word) > 4:
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            doubled = len(stem) > 4 and stem[-1] == stem[-2] and stem[-1] in "bdglmnprt"
            return stem[:-1] if doubled else stem  # "shipped" / "ship", "cancelled" / "cancel"
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


COUNT_CUE = re.compile(
    r"\b(how many|number of|count|total|sum|in total|altogether|volume|per|by|each|across|most common|most frequent|"
    r"which (?:\w+\s+){1,4}?(?:has|had|have|gets?|got|sees?|saw) the (?:most|fewest|least|highest|lowest))\b",
    re.I,
)
BARE_NOUNS = frozenset(lexicon()["bare_nouns"]["words"])


def is_bare_noun(words: str) -> bool:
    """ "customers", "order": an entity's plain noun, which names rows rather than asking for a figure."""
    lowered = " ".join(w for w in words.lower().split() if w not in PHRASE_GLUE)  # "how many customers" too
    return lowered in BARE_NOUNS or lowered.rstrip("s") + "s" in BARE_NOUNS


def asks_for_measure(text: str, slots: MetricSlots) -> bool:
    """The question asks for the measure it names as a number, a share or a breakdown, not for texts or
    people. The name of a money, share or rating measure is a quantity ("revenue at risk for silver", "csat
    on refund tickets"); a count's name is a noun ("at-risk customers in Italy" are people to list) and needs
    a quantity word, a bare one ("customers", "tickets") a counting cue; a bare word of another measure
    ("late") any quantity word ("share", "%", "average")."""
    if slots.measure is None:
        return False
    if slots.inexpressible or (slots.query is not None and any(f.share for f in slots.query.filters)):
        return True  # "what share of orders ...": a figure is asked for
    bare = is_bare_noun(slots.measure_words)
    if slots.measure.kind == "count":  # "at-risk customers in Italy" are people to list until counted
        if bare and _rows_in_a_window(text, slots):
            return True  # "tickets opened in the past 7 days?": how many, over that window
        return QUANTITY.search(text) is not None and (not bare or COUNT_CUE.search(text) is not None)
    scoped = slots.windowed or (slots.query is not None and bool(slots.query.filters))
    return (
        not bare
        or QUANTITY.search(text) is not None
        or PERCENT_SIGN.search(text) is not None
        or (slots.measure.kind == "money" and scoped)  # "sales of shoes in 2025": a sum over that scope
    )


def _rows_in_a_window(text: str, slots: MetricSlots) -> bool:
    """The bare noun of a count, its entity's own verb and a window ("returns that came back last month"):
    the rows that happened then, counted."""
    assert slots.measure is not None
    verbs = load_catalog().entity_of(slots.measure).verbs
    return slots.windowed and any(re.search(_phrase(verb), text, re.I) for verb in verbs)
