"""The deterministic fallback: a message built from the same facts with the templates in
prompts/offer_templates.v2.toml, in the customer's language, the variant picked by the customer id so a
batch is varied. A message without an incentive uses the `no_incentive` templates."""

from __future__ import annotations

import hashlib
import tomllib
from functools import lru_cache
from typing import Any

from winback.offers.facts import DraftFacts
from winback.offers.language import phrases
from winback.offers.validation import Draft
from winback.prompts import load_prompt


@lru_cache(maxsize=1)
def templates() -> dict[str, Any]:
    return tomllib.loads(load_prompt("offer_templates.v2.toml"))


def sign_off(language: str) -> str:
    return str(phrases(language)["sign_off"])


def short_sign_off(language: str) -> str:
    return str(phrases(language)["short_sign_off"])


def _pick(options: list[str], key: str) -> str:
    return options[int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(options)]


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _section(facts: DraftFacts, channel: str) -> dict[str, Any]:
    """The templates for these facts: their language, channel and situation (`no_incentive` without one)."""
    situation = facts.situation if facts.terms.has_incentive else "no_incentive"
    return dict(templates()[facts.language][channel][situation])


def template_subject(facts: DraftFacts, variant_key: str | None = None) -> str:
    """The e-mail subject for these facts: checked text from the templates, in the facts' language (the
    model writes no subject: small models copied the example's, whatever the customer's situation)."""
    options = _section(facts, "email")["subjects"]
    return _pick(options, (variant_key or facts.customer_id) + ":subject").format(first_name=facts.first_name)


def template_draft(facts: DraftFacts, channel: str, variant_key: str | None = None) -> Draft:
    key = variant_key or facts.customer_id
    language = facts.language
    fields = {
        "first_name": facts.first_name,
        "problem": facts.problem,
        "problem_capitalised": _capitalised(facts.problem),
        "offer_what": facts.terms.what,
        "offer_how": facts.terms.how,
        "offer_how_capitalised": _capitalised(facts.terms.how),
        "tenure": facts.tenure,
        "sign_off": sign_off(language),
        "short_sign_off": short_sign_off(language),
    }
    body = _pick(_section(facts, channel)["bodies"], key + ":body").format(**fields)
    subject = template_subject(facts, key) if channel == "email" else ""
    return Draft(subject=subject, body=body)
