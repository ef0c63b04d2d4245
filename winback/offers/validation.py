"""Checks every drafted message in code before it can be saved: the exact offer terms are there, no other
amount, percentage, code, date, order number or customer, the customer is named, and the length fits the
channel — in every language drafts are written in (amounts, percentages and dates in local formats). A
message that fails is regenerated or replaced by a template; it is never saved as it is."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from winback.data.plain_text import control_problem
from winback.offers.facts import DraftFacts
from winback.offers.language import (
    LANGUAGES,
    fold,
    language_name,
    language_scores,
    month_numbers,
    phrases,
    written_in,
)

LIMITS = {  # channel: (subject min, subject max, body min, body max) in characters
    "email": (5, 90, 150, 1500),
    "sms": (0, 0, 40, 320),
}
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_PERCENT_WORDS = r"percent|per cent|prozent|pour ?cent|por ?ciento|per ?cento|procent"
_PERCENT = re.compile(rf"\d+(?:[.,]\d+)?[\s\u00a0\u202f]?(?:%|(?:{_PERCENT_WORDS})\b)", re.I)
_MONEY = re.compile(
    r"(?:[€$£]\s?\d[\d,.]*|\d[\d,.]*[\s\u00a0\u202f]?(?:[€$£]|(?:EUR|USD|GBP|euros?|dollars?|pounds?)\b))", re.I
)
_POINTS = re.compile(
    r"\d[\d,.\u00a0\u202f ]*\s?(?:loyalty\s)?(?:points?|punkte?|treuepunkte?|puntos?|punti|punten|spaarpunten)\b",
    re.I,
)
# codes: WB-7K2Q9 style, and any other capitals-and-digits token a person might type ("FREE100", "SAVE20")
_CODE = re.compile(r"\b[A-Z]{2,}-[A-Z0-9]{4,}\b|\b(?=[A-Z0-9]*\d)[A-Z]{2,}[A-Z0-9]*\d[A-Z0-9]*\b")
_ORDER = re.compile(r"\bO-\d+-\d+\b")
_CUSTOMER = re.compile(r"\bC-\d+\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
# links and phone numbers: a message a second person approves must not send the customer anywhere the
# policy does not name (phishing through an approved offer)
# a host is any name ending in a dot and a top-level domain of letters (all lower or all upper case, so
# "thanks.See you" is a typo, not a host): .top, .pl and every other TLD, not a list that falls behind
_URL = re.compile(
    r"(?i:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s<>\"')]+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:[a-z]{2,24}|[A-Z]{2,24})(?![\w-])(?:/[^\s<>\"')]*)?"
)
_DOT_LOOKALIKES = str.maketrans({"\u3002": ".", "\uff61": ".", "\u2024": ".", "\ufe52": ".", "\uff0e": "."})
_PHONE = re.compile(r"(?<![\w-])\+?\(?\d[\d\s().-]{7,}\d(?![\w-])")
_MONTHS = "|".join(sorted((re.escape(m) for m in month_numbers()), key=len, reverse=True))
# dates as any supported language writes them, matched on accent-folded lower-case text
_DATE = re.compile(
    rf"\b(?P<iso>\d{{4}}-\d{{2}}-\d{{2}})\b"
    rf"|\b(?P<num>\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}})\b"
    rf"|\b(?P<dm>\d{{1,2}})(?:st|nd|rd|th|er|e|\.)? (?:de )?(?P<dm_month>{_MONTHS})\.?(?:,? (?:de )?(?P<dm_year>\d{{4}}))?\b"
    rf"|\b(?P<md_month>{_MONTHS})\.? (?P<md>\d{{1,2}})(?:st|nd|rd|th)?(?:,? (?P<md_year>\d{{4}}))?\b"
)


@dataclass(frozen=True)
class Draft:
    subject: str
    body: str


def _mentioned_days(text: str) -> list[tuple[str, list[tuple[int, int, int | None]]]]:
    """Each date the text names, with the (day, month, year or None) readings it may have."""
    found = []
    months = month_numbers()
    for match in _DATE.finditer(fold(text)):
        readings: list[tuple[int, int, int | None]] = []
        if match["iso"]:
            year, month, day = (int(x) for x in match["iso"].split("-"))
            readings.append((day, month, year))
        elif match["num"]:
            a, b, c = (int(x) for x in re.split(r"[./-]", match["num"]))
            year = c + 2000 if c < 100 else c
            readings += [(a, b, year), (b, a, year)]  # day first in Europe, month first in the US
        elif match["dm"]:
            readings.append((int(match["dm"]), months[match["dm_month"]], _year(match["dm_year"])))
        else:
            readings.append((int(match["md"]), months[match["md_month"]], _year(match["md_year"])))
        found.append((match.group(0), readings))
    return found


def _year(text: str | None) -> int | None:
    return int(text) if text else None


def _is_date(text: str) -> bool:
    return bool(_DATE.fullmatch(fold(text.strip())))


def _allowed_day(readings: list[tuple[int, int, int | None]], dates: list[datetime]) -> bool:
    return any(
        d.day == day and d.month == month and year in (None, d.year) for day, month, year in readings for d in dates
    )


def validate_draft(
    draft: Draft, facts: DraftFacts, channel: str, allowed_contacts: frozenset[str] = frozenset()
) -> list[str]:
    """Problems, one line each; empty when the draft may be saved. `allowed_contacts` are the links,
    addresses and phone numbers the offer policy lets messages carry (`contacts_allowed`)."""
    problems: list[str] = []
    for part, value, long_text in (("subject", draft.subject, False), ("message", draft.body, True)):
        problem = control_problem(value, long_text)  # a CR/LF in a subject would start a new mail header
        if problem:
            problems.append(f"the {part} {problem}")
    text = f"{draft.subject}\n{draft.body}"
    lowered = _SPACES.sub(" ", text).lower()
    s_min, s_max, b_min, b_max = LIMITS[channel]
    if channel == "email" and not s_min <= len(draft.subject.strip()) <= s_max:
        problems.append(f"the subject must be {s_min}-{s_max} characters, not {len(draft.subject.strip())}")
    if not b_min <= len(draft.body.strip()) <= b_max:
        problems.append(f"the {channel} body must be {b_min}-{b_max} characters, not {len(draft.body.strip())}")
    if facts.first_name.lower() not in draft.body.lower():
        problems.append(f"the message must greet the customer by name ({facts.first_name})")
    for phrase in facts.terms.required_phrases():
        if _SPACES.sub(" ", phrase).lower() not in lowered:
            problems.append(f"the exact offer is missing: write {phrase!r}")
    allowed_percent = {_number_of(facts.terms.value_text)} if facts.terms.offer_type == "percent_discount" else set()
    offer_words = facts.terms.value_text or "no incentive"
    for match in _PERCENT.findall(text):
        if _number_of(match) not in allowed_percent:
            problems.append(f"{match.strip()!r} is not the offer ({offer_words})")
    for match in _MONEY.findall(text):
        problems.append(f"no amount may be stated ({match.strip()!r}); the offer is {offer_words}")
    for match in _POINTS.findall(text):
        if facts.terms.offer_type != "loyalty_points" or _number_of(facts.terms.value_text) != _number_of(match):
            problems.append(f"{match.strip()!r} is not the offer ({offer_words})")
    for code in set(_CODE.findall(text)) - {facts.terms.code}:
        problems.append(f"{code} is not this offer's code")
    for order in set(_ORDER.findall(text)) - set(facts.order_ids):
        problems.append(f"order {order} is not one of this customer's recent orders")
    for customer in set(_CUSTOMER.findall(text)) - {facts.customer_id}:
        problems.append(f"{customer} is another customer")
    allowed = {c.lower() for c in allowed_contacts}
    text = unicodedata.normalize("NFKC", text).translate(_DOT_LOOKALIKES)  # "evil․com" is evil.com
    emails = set(_EMAIL.findall(text))
    for email in emails:
        if email.lower() not in allowed:
            problems.append(f"the address {email} must not appear (the policy allows no such contact)")
    for link in set(_URL.findall(text)):
        if link.lower().rstrip(".,;:!?") not in allowed and not any(link in e for e in emails):
            problems.append(f"the link {link!r} must not appear (the policy allows no such link)")
    for phone in set(_PHONE.findall(text)):
        digits = _number_of(phone)
        if _is_date(phone):
            continue
        if len(digits) >= 8 and digits not in {_number_of(c) for c in allowed}:
            problems.append(f"the phone number {phone.strip()!r} must not appear (the policy allows no such number)")
    for day, readings in _mentioned_days(text):
        if not _allowed_day(readings, facts.dates):
            problems.append(f"the date {day!r} is not one of the facts")
    return list(dict.fromkeys(problems))


def _number_of(text: str) -> str:
    """The digits of a figure, whatever its separators: '1 000 Treuepunkte' and '1,000 points' -> '1000'."""
    return re.sub(r"\D", "", text)


def _any_language(key: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{phrases(language)['checks'][key]})" for language in LANGUAGES), re.I)


_REFUSAL = _any_language("refusal")
_OTHER_OFFER = _any_language("promise")  # a promise in any language is refused, whichever the message is in


def validate_opening(
    subject: str, opening: str, facts: DraftFacts, channel: str, examples: list[str] | None = None
) -> list[str]:
    """The part the model writes may only acknowledge and apologise, in the customer's language: the offer,
    every figure and the customer's name come from code."""
    problems = []
    text = " ".join(opening.split())
    if any(difflib.SequenceMatcher(None, text.lower(), o.lower()).ratio() > 0.6 for o in examples or []):
        problems.append("the opening copies the example instead of describing this customer's problem")
    if facts.complaint:
        matcher = difflib.SequenceMatcher(None, text.lower(), facts.complaint.lower(), autojunk=False)
        if matcher.find_longest_match().size >= 30:
            problems.append("the opening repeats the customer's own words; describe the problem in the shop's words")
    if not 40 <= len(text) <= (220 if channel == "sms" else 450):
        problems.append(
            f"the opening must be 1-3 sentences (40-{220 if channel == 'sms' else 450} characters), not {len(text)}"
        )
    sentences = [x.strip().lower() for x in re.split(r"(?<=[.!?])\s+", text) if x.strip()]
    if len(sentences) > 3:
        problems.append(f"the opening must be 1-3 sentences, not {len(sentences)}")
    if len(set(sentences)) < len(sentences):
        problems.append("the opening repeats a sentence")
    if text and text[-1] not in ".!?…":
        problems.append("the opening must end with a full sentence")
    shouted = sorted(set(re.findall(r"\b[^\W\d_]{4,}\b", f"{subject} {text}")) - {facts.first_name})
    for word in [w for w in shouted if w.isupper()]:
        problems.append(f"{word!r} is shouted or copied from somewhere; write in plain words")
    if re.search(r"\d", text) or re.search(r"\d", subject):
        problems.append("the subject and opening may not contain any number, date or order number")
    checks = phrases(facts.language)["checks"]
    apologies = len(re.findall(checks["apology"], text, re.I))
    if not apologies:
        problems.append(f"the opening must apologise, in {language_name(facts.language)}")
    elif apologies > 1:
        problems.append(f"the opening must apologise once, not {apologies} times")
    if re.search(r"[\[\]{}<>_*#|]|\.\.\.|…|\bX{2,}\b|\bTODO\b", f"{subject} {text}"):
        problems.append("the subject and opening may not contain placeholders, brackets or markup")
    if not written_in(text, facts.language):
        problems.append(f"the opening must be written in {language_name(facts.language)}")
    scores = language_scores(subject)
    if max(scores.values()) > 0 and scores[facts.language] < max(scores.values()):
        problems.append(f"the subject must be written in {language_name(facts.language)}")
    if _REFUSAL.search(text):
        problems.append("the opening reads like a refusal, not a message to the customer")
    # a word the problem itself uses ("your message about a refund") names the problem, it promises nothing
    named = {m.group(0).lower() for m in _OTHER_OFFER.finditer(facts.problem_brief)}
    for word in sorted({m.group(0).lower() for m in _OTHER_OFFER.finditer(text)} - named):
        problems.append(f"the opening may not promise anything ({word!r}); the offer is added by the shop")
    for word in sorted({m.group(0).lower() for m in _OTHER_OFFER.finditer(subject)} - named):
        problems.append(f"the subject may not promise anything ({word!r}); the offer is added by the shop")
    return list(dict.fromkeys(problems))
