"""Customer ids as shops have them: the demo's C-1042, an import's CUST_000123, a UUID, a plain number.
Candidate tokens are read from the question (quoted strings, tokens after "customer"/"id"/"client", and
any token mixing letters and digits) and kept only if they exist in the database; a candidate the
question clearly meant as an id that does not exist gets "no such customer", never another answer."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

QUOTED = re.compile(r"""[\"'`‘’“”]([^\"'`‘’“”\s]{1,64})[\"'`‘’“”]""")
AFTER_WORD = re.compile(
    r"\b(?:customer|client|account|shopper|user|id|cust)(?:\s+(?:id|number|no\.?|#))?\s*[:#]?\s*([A-Za-z0-9][\w.:/#@-]{0,63})",
    re.IGNORECASE,
)
TOKEN = re.compile(r"(?<![\w@.-])([A-Za-z0-9][\w.:/#-]{1,63})(?![\w-])")
DEMO_ID = re.compile(r"^C-\d{1,9}$", re.IGNORECASE)
ISO_DAY = re.compile(r"^\d{4}-\d\d(?:-\d\d)?$")
ORDINAL = re.compile(r"^\d+(?:st|nd|rd|th|s|k|d|h|m|y|x|%)$", re.IGNORECASE)
MEASURED = re.compile(  # a number with its unit ("1-star", "30-day", "2-week"): a quantity, not an id
    r"^\d+(?:[.,]\d+)?-?(?:stars?|days?|weeks?|months?|years?|hours?|minutes?|items?|pieces?|percent|pct)$",
    re.IGNORECASE,
)
NOT_IDS = frozenset(
    [
        "id",
        "ids",
        "number",
        "numbers",
        "details",
        "profile",
        "card",
        "tickets",
        "reviews",
        "orders",
        "risk",
        "score",
        "offer",
        "offers",
        "history",
        "data",
        "is",
        "was",
        "has",
        "the",
        "a",
        "an",
        "with",
        "who",
        "that",
        "this",
        "these",
        "those",
        "and",
        "or",
        "of",
        "for",
        "to",
        "in",
        "on",
        "at",
        "by",
        "from",
        "about",
        "me",
        "us",
    ]
)


@dataclass
class IdReading:
    found: list[str] = field(default_factory=list)  # ids that exist, in the order the question names them
    missing: list[str] = field(default_factory=list)  # tokens meant as ids that match no customer
    spans: list[str] = field(default_factory=list)  # the text of every id found (to neutralise for the embedder)


def _looks_like_id(token: str) -> bool:
    """A token that mixes letters and digits, or a long number, that is not a date, amount or ordinal."""
    if ISO_DAY.match(token) or ORDINAL.match(token) or MEASURED.match(token) or token.lower() in NOT_IDS:
        return False
    has_digit = any(ch.isdigit() for ch in token)
    has_alpha = any(ch.isalpha() for ch in token)
    if has_digit and has_alpha:
        return True
    return token.isdigit() and len(token) >= 4 and not (len(token) == 4 and token[:2] in ("19", "20"))


def candidates(text: str) -> list[tuple[str, bool]]:
    """(token, meant_as_id) in order of appearance: meant when quoted, after "customer"/"id", or demo-shaped."""
    seen: dict[str, tuple[int, bool]] = {}
    for m in QUOTED.finditer(text):
        seen.setdefault(m.group(1), (m.start(1), True))
    for m in AFTER_WORD.finditer(text):
        token = m.group(1).rstrip(".:,;?!'")
        if token.lower() not in NOT_IDS and (_looks_like_id(token) or "_" in token or "-" in token):
            seen.setdefault(token, (m.start(1), True))
    for m in TOKEN.finditer(text):
        token = m.group(1).rstrip(".:,;?!'")
        token = re.sub(r"'s$", "", token)
        if DEMO_ID.match(token):
            seen.setdefault(token.upper(), (m.start(1), True))
        elif _looks_like_id(token):
            shaped = any(ch.isalpha() for ch in token) and ("_" in token or "-" in token or len(token) >= 6)
            seen.setdefault(token, (m.start(1), shaped))  # CUST_000123, ab12cd34: ids by their shape
    return [(token, meant) for token, (_, meant) in sorted(seen.items(), key=lambda item: item[1][0])]


def read_ids(text: str, exists: Callable[[list[str]], set[str]]) -> IdReading:
    """`exists(tokens)` returns those that are customer ids (one indexed query)."""
    tokens = candidates(text)
    if not tokens:
        return IdReading()
    variants = {t: [t] + ([t.upper()] if t.upper() != t else []) for t, _ in tokens}
    known = exists([v for vs in variants.values() for v in vs])
    reading = IdReading()
    for token, meant in tokens:
        match = next((v for v in variants[token] if v in known), None)
        if match is not None:
            if match not in reading.found:
                reading.found.append(match)
                reading.spans.append(token)
        elif meant:
            reading.missing.append(token)
    return reading
