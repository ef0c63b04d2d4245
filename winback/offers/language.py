"""The language a customer is written to, and the words code uses in it (prompts/offer_language.v1.toml):
customers in France, Germany, Spain, Italy, the Netherlands and Belgium get their language, everyone else
English; a customer's own `language` column and a per-request choice override it. Dates and months come
from babel's CLDR data; which language a text is in is judged by its function words, so validation can
refuse a model that answered in the wrong one."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal, get_args

from babel.dates import format_date, get_month_names

from winback.errors import UserError
from winback.prompts import load_prompt

Language = Literal["en", "fr", "de", "es", "it", "nl"]
LANGUAGES: tuple[str, ...] = get_args(Language)
DEFAULT_LANGUAGE: Language = "en"

_BELGIUM = ("belgium", "belgique", "belgië", "belgie", "be", "bel")
# country as shops write it (English name, local name or ISO 3166 code) -> language
_COUNTRY_LANGUAGE = {
    **dict.fromkeys(("france", "fr", "fra"), "fr"),
    **dict.fromkeys(("germany", "deutschland", "de", "deu"), "de"),
    **dict.fromkeys(("spain", "españa", "espana", "es", "esp"), "es"),
    **dict.fromkeys(("italy", "italia", "it", "ita"), "it"),
    **dict.fromkeys(("netherlands", "the netherlands", "nederland", "holland", "nl", "nld"), "nl"),
    **dict.fromkeys(_BELGIUM, "nl"),  # most Belgians: Dutch
}
# Belgium speaks both: French in Brussels and Wallonia
_FRENCH_BELGIAN_CITIES = {
    "brussels", "bruxelles", "brussel", "liege", "liège", "charleroi", "namur", "mons", "tournai", "wavre",
    "arlon", "la louvière", "la louviere", "verviers", "seraing", "louvain-la-neuve",
}  # fmt: skip


class UnknownLanguage(UserError, ValueError):
    pass


def check_language(code: str) -> Language:
    """A supported language code, or a one-line error naming the supported ones."""
    wanted = code.strip().lower()
    if wanted in LANGUAGES:
        return wanted  # type: ignore[return-value]
    raise UnknownLanguage(f"no drafts in {code!r}; choose one of {', '.join(LANGUAGES)}")


def language_for(country: str | None, city: str | None = None, preferred: str | None = None) -> Language:
    """The customer's own choice if it is supported, else the country's language, else English."""
    if preferred and preferred.strip().lower() in LANGUAGES:
        return check_language(preferred)
    place = (country or "").strip().lower()
    if place in _BELGIUM and (city or "").strip().lower() in _FRENCH_BELGIAN_CITIES:
        return "fr"
    found = _COUNTRY_LANGUAGE.get(place)
    return check_language(found) if found else DEFAULT_LANGUAGE


def language_of(profile: Any) -> Language:
    """From a customer profile (country, city, language)."""
    return language_for(profile.country, profile.city, getattr(profile, "language", None))


@lru_cache(maxsize=1)
def _phrases() -> dict[str, Any]:
    return tomllib.loads(load_prompt("offer_language.v1.toml"))


def phrases(language: str) -> dict[str, Any]:
    return dict(_phrases()[check_language(language)])


def language_name(language: str) -> str:
    return str(phrases(language)["name"])


def format_day(when: datetime, language: str = DEFAULT_LANGUAGE) -> str:
    """23 December 2026, 23 décembre 2026, 23. Dezember 2026, 23 de diciembre de 2026 …"""
    if language == "en":
        return f"{when.day} {when:%B %Y}"
    return format_date(when, "long", locale=check_language(language))


def format_month_year(when: datetime, language: str = DEFAULT_LANGUAGE) -> str:
    if language == "en":
        return f"{when:%B %Y}"
    return format_date(when, "LLLL y", locale=check_language(language))


def format_count(n: float, language: str = DEFAULT_LANGUAGE) -> str:
    """1,000 / 1 000 / 1.000, as each language groups thousands."""
    return f"{n:,.0f}".replace(",", str(phrases(language)["thousands"]))


@lru_cache(maxsize=1)
def month_numbers() -> dict[str, int]:
    """Month name (wide and abbreviated, any supported language, accents folded) -> 1..12."""
    names: dict[str, int] = {}
    for language in LANGUAGES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, locale=language).items():
                    names[fold(name).rstrip(".")] = number
    return names


def fold(text: str) -> str:
    """Lower case without accents: 'Décembre' -> 'decembre'."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@lru_cache(maxsize=1)
def _function_words() -> dict[str, frozenset[str]]:
    return {language: frozenset(_phrases()[language]["checks"]["words"]) for language in LANGUAGES}


def language_scores(text: str) -> dict[str, int]:
    """How many of the text's words are function words of each language."""
    words = [w.lower() for w in _WORD.findall(text)]
    return {language: sum(w in known for w in words) for language, known in _function_words().items()}


def written_in(text: str, language: str) -> bool:
    """True when the text's function words point to `language` more than to any other."""
    scores = language_scores(text)
    best = max(scores.values())
    return best > 0 and scores[language] == best and sum(v == best for v in scores.values()) == 1
