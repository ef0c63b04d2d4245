"""The planner's structure words as data (prompts/planning_lexicon.v1.toml): what negates a value, what
joins values into a list, what may sit between. `mentions` reads every value a question names, in order,
each marked included or left out, so "leave out France and the UK" is never a list *of* the UK."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from winback.prompts import load_prompt

LEXICON_FILE = "planning_lexicon.v1.toml"


@lru_cache(maxsize=1)
def lexicon() -> dict[str, Any]:
    return tomllib.loads(load_prompt(LEXICON_FILE))


def _alternatives(words: list[str]) -> str:
    return "|".join(
        re.escape(w) if not w.isalpha() else rf"\b{re.escape(w)}\b" for w in sorted(words, key=len, reverse=True)
    )


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    spec = lexicon()
    negation = re.compile(rf"(?:{_alternatives(spec['negation']['words'])})[\s-]*$", re.I)
    joiner = re.compile(rf"(?:\s*(?:{_alternatives(spec['coordination']['words'])})\s*)+$", re.I)
    between = re.compile(rf"(?:\s*\b(?:{_alternatives(spec['between']['words'])})\b\s*)+$", re.I)
    return negation, joiner, between


@dataclass(frozen=True)
class Mention:
    value: str
    start: int
    end: int
    excluded: bool


def value_spans(text: str, values: list[str], aliases: dict[str, str]) -> list[tuple[int, int, str]]:
    """Where each known value (or a word for it) is named, longest first, no overlaps, in text order."""
    found: list[tuple[int, int, str]] = []
    words = [(v, v) for v in values] + [(a, v) for a, v in aliases.items() if v in values]
    for said, value in sorted(words, key=lambda w: -len(w[0])):
        for m in re.finditer(rf"(?<![\w-]){re.escape(said)}(?![\w-])", text, re.I):
            if not any(m.start() < e and s < m.end() for s, e, _ in found):
                found.append((m.start(), m.end(), value))
    return sorted(found)


def mentions(text: str, values: list[str], aliases: dict[str, str]) -> list[Mention]:
    """Every value named, each marked excluded when a negation reaches it."""
    spans = value_spans(text, values, aliases)
    marks = excluded_marks(text, [(start, end) for start, end, _ in spans])
    return [Mention(value, start, end, out) for (start, end, value), out in zip(spans, marks, strict=True)]


def excluded_marks(text: str, spans: list[tuple[int, int]]) -> list[bool]:
    """For spans in text order: is each left out? Directly ("not in Spain") or through a list that began
    after a negation ("leave out France and the UK")."""
    negation, joiner, between = _patterns()
    marks: list[bool] = []
    for i, (start, _) in enumerate(spans):
        out = negation.search(between.sub("", text[:start])) is not None
        if not out and marks:
            gap = text[spans[i - 1][1] : start]
            if joiner.fullmatch(gap) or re.fullmatch(r"\s*(?:,\s*)?(?:and|or|nor)?\s*(?:the\s+)?", gap, re.I):
                out = marks[-1]  # a list shares its first value's negation
        marks.append(out)
    return marks


def requested_language(text: str) -> str | None:
    """The language a draft is asked for ("in German" -> "de"), or None."""
    spec = lexicon()["languages"]
    names = _alternatives(list(spec["codes"]))
    before, after = _alternatives(spec["before"]), _alternatives(spec["after"])
    m = re.search(rf"(?:{before})\s+({names})|({names})\s+(?:{after})", text, re.I)
    return spec["codes"][(m.group(1) or m.group(2)).lower()] if m else None


def requested_tone(text: str) -> str | None:
    """The tone a draft is asked for ("a short sms" -> "brief"), or None."""
    words = lexicon()["tones"]["words"]
    m = re.search(rf"\b({_alternatives(list(words))})\b", text, re.I)
    return words[m.group(1).lower()] if m else None


def asks_one_value(text: str) -> bool:
    """The question asks for one number ("how many customers ordered twice?"), not one per group."""
    spec = lexicon()["one_value"]
    if not re.match(rf"\s*(?:{_alternatives(spec['cues'])})", text, re.I):
        return False
    return re.search(rf"\b(?:{_alternatives(spec['grouping'])})\b", text, re.I) is None


def marketing_consent(text: str) -> bool | None:
    """True for customers "opted in" to marketing, False for "opted out" / "not opted in", None if not said."""
    spec = lexicon()["consent"]
    for wanted, key in ((False, "no"), (True, "yes")):
        if re.search(rf"\b(?:{_alternatives(spec[key])})\b", text, re.I):
            return wanted
    return None


def members_asked(text: str) -> bool:
    """The question points at the rows of the last answer ("which of them are in Spain")."""
    return re.search(rf"(?:{_alternatives(lexicon()['follow_up']['of_them'])})", text, re.I) is not None


def members_counted(text: str) -> bool:
    """The question counts among the rows of the last answer ("how many of them are in Spain")."""
    cues = lexicon()["one_value"]["cues"]
    return members_asked(text) and re.search(rf"\b(?:{_alternatives(cues)})\b", text, re.I) is not None


def refers_back(text: str) -> bool:
    """The question is about the group the last answer showed ("in that group", "from there", "... there?")."""
    words = lexicon()["follow_up"]["refer_back"]
    return bool(
        re.search(rf"\b(?:{_alternatives(words)})\b", text, re.I)
        or re.search(r"(?<!\bare )(?<!\bis )(?<!\bwere )(?<!\bwas )\bthere\s*[?.!]*\s*$", text, re.I)
    )


def follow_up_lead(text: str) -> bool:
    """The question starts like a follow-up that changes the last answer, or points back at its rows."""
    spec = lexicon()["follow_up"]
    return bool(
        re.match(rf"\s*(?:{_alternatives(spec['leads'])})", text, re.I)
        or re.search(rf"(?:{_alternatives(spec['of_them'])})", text, re.I)
    )


ABOUT_A_CUSTOMER = re.compile(
    r"\b(?:C-\d+|her|his|their|him|them|this customer|that customer|the customer|customer's|client's)\b|['’]s\b",
    re.IGNORECASE,
)


def asks_personal_data(text: str) -> bool:
    """The question asks for a customer's personal data ("what's C-17's e-mail address?", "her phone"),
    not about a channel ("tickets that came in by email", "phone tickets")."""
    named = re.search(rf"(?:{_alternatives(lexicon()['personal']['words'])})", text, re.I)
    # "write them a win-back email" is writing to them; "send me their phone numbers" is not
    writing = re.search(r"\b(?:write|draft|compose|prepare)\b|\bsend\s+(?!me\b|us\b|over\b)", text, re.I)
    of_a_group = re.search(  # "names and phone numbers of the critical platinum customers"
        rf"(?:{_alternatives(lexicon()['personal']['words'])})s?\s+(?:[\w-]+\s+){{0,4}}?(?:of|for)\s+"
        r"(?:[\w-]+\s+){0,4}?(?:customers|clients|accounts|people)\b",
        text,
        re.I,
    )
    about = ABOUT_A_CUSTOMER.search(text) or of_a_group
    return named is not None and writing is None and about is not None


STATEMENT = re.compile(r"(?is)^(.{0,80}?[:\-–]\s*)?((?:select|with)\b.+\bfrom\b.*)$")


def embedded_statement(text: str) -> str:
    """A SQL statement after a short lead-in ("can u run this for me: SELECT ...") is that statement."""
    m = STATEMENT.match(text.strip())
    return m.group(2).strip() if m and m.group(1) else text


def excluded_values(text: str, values: list[str]) -> set[str]:
    """The values a negation reaches ("high, not critical" -> {"critical"})."""
    return {m.value for m in mentions(text, values, {}) if m.excluded}
