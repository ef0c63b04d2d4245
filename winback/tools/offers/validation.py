"""Checks every drafted message in code before it can be saved: the exact offer terms are there, no other
amount, percentage, code, date, order number or customer, the customer is named, and the length fits the
channel. A message that fails is regenerated or replaced by a template; it is never saved as it is."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime

from winback.tools.offers.facts import DraftFacts
from winback.tools.offers.terms import format_day

LIMITS = {  # channel: (subject min, subject max, body min, body max) in characters
    "email": (5, 90, 150, 1500),
    "sms": (0, 0, 40, 320),
}
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_PERCENT = re.compile(r"\d+(?:[.,]\d+)?\s?(?:%|percent\b|per cent\b)", re.I)
_MONEY = re.compile(r"(?:[€$£]\s?\d[\d,.]*|\d[\d,.]*\s?(?:€|EUR|USD|GBP|euros?|dollars?|pounds?)\b)", re.I)
_POINTS = re.compile(r"\d[\d,.]*\s?(?:loyalty\s)?points?\b", re.I)
# codes: WB-7K2Q9 style, and any other capitals-and-digits token a person might type ("FREE100", "SAVE20")
_CODE = re.compile(r"\b[A-Z]{2,}-[A-Z0-9]{4,}\b|\b(?=[A-Z0-9]*\d)[A-Z]{2,}[A-Z0-9]*\d[A-Z0-9]*\b")
_ORDER = re.compile(r"\bO-\d+-\d+\b")
_CUSTOMER = re.compile(r"\bC-\d+\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
# links and phone numbers: a message a second person approves must not send the customer anywhere the
# policy does not name (phishing through an approved offer)
_URL = re.compile(
    r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s<>\"')]+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|co|shop|info|biz|ly|me"
    r"|app|link|xyz|online|site|store|eu|uk|de|fr|it|es|nl|ru|cn)\b(?:/[^\s<>\"')]*)?",
    re.I,
)
_PHONE = re.compile(r"(?<![\w-])\+?\(?\d[\d\s().-]{7,}\d(?![\w-])")
_DATE = re.compile(
    rf"\b\d{{4}}-\d{{2}}-\d{{2}}\b|\b\d{{1,2}}(?:st|nd|rd|th)? (?:{MONTHS})(?: \d{{4}})?\b|"
    rf"\b(?:{MONTHS}) \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b"
)


@dataclass(frozen=True)
class Draft:
    subject: str
    body: str


def _day_forms(when: datetime) -> set[str]:
    return {
        when.strftime("%Y-%m-%d"),
        format_day(when),
        f"{when.day} {when:%B}",
        f"{when:%B} {when.day}",
        f"{when:%B} {when.day}, {when.year}",
    }


def validate_draft(
    draft: Draft, facts: DraftFacts, channel: str, allowed_contacts: frozenset[str] = frozenset()
) -> list[str]:
    """Problems, one line each; empty when the draft may be saved. `allowed_contacts` are the links,
    addresses and phone numbers the offer policy lets messages carry (`contacts_allowed`)."""
    problems: list[str] = []
    text = f"{draft.subject}\n{draft.body}"
    lowered = text.lower()
    s_min, s_max, b_min, b_max = LIMITS[channel]
    if channel == "email" and not s_min <= len(draft.subject.strip()) <= s_max:
        problems.append(f"the subject must be {s_min}-{s_max} characters, not {len(draft.subject.strip())}")
    if not b_min <= len(draft.body.strip()) <= b_max:
        problems.append(f"the {channel} body must be {b_min}-{b_max} characters, not {len(draft.body.strip())}")
    if facts.first_name.lower() not in draft.body.lower():
        problems.append(f"the message must greet the customer by name ({facts.first_name})")
    for phrase in facts.terms.required_phrases():
        if phrase.lower() not in lowered:
            problems.append(f"the exact offer is missing: write {phrase!r}")
    allowed_percent = (
        {facts.terms.value_text.lower().replace(" ", "")} if facts.terms.offer_type == "percent_discount" else set()
    )
    for match in _PERCENT.findall(text):
        if match.lower().replace(" ", "").replace("percent", "%").replace("per cent", "%") not in allowed_percent:
            problems.append(f"{match.strip()!r} is not the offer ({facts.terms.value_text})")
    for match in _MONEY.findall(text):
        problems.append(f"no amount may be stated ({match.strip()!r}); the offer is {facts.terms.value_text}")
    for match in _POINTS.findall(text):
        if facts.terms.offer_type != "loyalty_points" or facts.terms.value_text.split()[0] not in match:
            problems.append(f"{match.strip()!r} is not the offer ({facts.terms.value_text})")
    for code in set(_CODE.findall(text)) - {facts.terms.code}:
        problems.append(f"{code} is not this offer's code")
    for order in set(_ORDER.findall(text)) - set(facts.order_ids):
        problems.append(f"order {order} is not one of this customer's recent orders")
    for customer in set(_CUSTOMER.findall(text)) - {facts.customer_id}:
        problems.append(f"{customer} is another customer")
    allowed = {c.lower() for c in allowed_contacts}
    emails = set(_EMAIL.findall(text))
    for email in emails:
        if email.lower() not in allowed:
            problems.append(f"the address {email} must not appear (the policy allows no such contact)")
    for link in set(_URL.findall(text)):
        if link.lower().rstrip(".,;:!?") not in allowed and not any(link in e for e in emails):
            problems.append(f"the link {link!r} must not appear (the policy allows no such link)")
    for phone in set(_PHONE.findall(text)):
        digits = re.sub(r"\D", "", phone)
        if _DATE.fullmatch(phone.strip()):
            continue
        if len(digits) >= 8 and digits not in {re.sub(r"\D", "", c) for c in allowed}:
            problems.append(f"the phone number {phone.strip()!r} must not appear (the policy allows no such number)")
    allowed_days = set().union(*(_day_forms(d) for d in facts.dates))
    for day in set(_DATE.findall(text)):
        if day not in allowed_days and re.sub(r"(?<=\d)(st|nd|rd|th)", "", day) not in allowed_days:
            problems.append(f"the date {day!r} is not one of the facts")
    return list(dict.fromkeys(problems))


_REFUSAL = re.compile(r"\b(can(?:no|')t (?:assist|help)|as an ai|language model|i am unable|i'm unable)\b", re.I)
_OTHER_OFFER = re.compile(
    r"\b(refund\w*|voucher\w*|discount\w*|credit\w*|compensat\w*|free\b|coupon\w*|"
    r"reimburs\w*|gift\w*|cash ?back|money back)",
    re.I,
)
_APOLOGY = re.compile(r"\b(sorry|apologi[sz]e\w*|apology)\b", re.I)


def validate_opening(subject: str, opening: str, facts: DraftFacts, channel: str, example: str = "") -> list[str]:
    """The part the model writes may only acknowledge and apologise: the offer and every figure come from code."""
    problems = []
    text = " ".join(opening.split())
    if example and difflib.SequenceMatcher(None, text.lower(), example.lower()).ratio() > 0.6:
        problems.append("the opening copies the example instead of describing this customer's problem")
    if facts.complaint:
        matcher = difflib.SequenceMatcher(None, text.lower(), facts.complaint.lower(), autojunk=False)
        if matcher.find_longest_match().size >= 30:
            problems.append("the opening repeats the customer's own words; describe the problem in the shop's words")
    if not 40 <= len(text) <= (220 if channel == "sms" else 450):
        problems.append(
            f"the opening must be 1-3 sentences (40-{220 if channel == 'sms' else 450} characters), not {len(text)}"
        )
    if re.search(r"\d", text):
        problems.append("the opening may not contain any number, date or order number")
    if not _APOLOGY.search(text):
        problems.append("the opening must apologise (sorry / apologise)")
    if _REFUSAL.search(text):
        problems.append("the opening reads like a refusal, not a message to the customer")
    for word in sorted({m.lower() for m in _OTHER_OFFER.findall(text)}):
        problems.append(f"the opening may not promise anything ({word!r}); the offer is added by the shop")
    if channel == "email" and facts.first_name.lower() not in subject.lower():
        problems.append(f"the subject must mention {facts.first_name}")
    return problems
