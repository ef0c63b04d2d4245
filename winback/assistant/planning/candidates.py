"""Step 2 of planning: candidate intents, scored by the learned intent model (intent_model.py: a head on
the MiniLM embeddings trained on prompts/intent_frames.v1.toml and router_intents.v1.toml) plus a few
lexical signals no model should overrule."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from winback.assistant.intents import Intent
from winback.assistant.planning.intent_model import load_or_train, normalise
from winback.config import default_cache_dir
from winback.prompts import load_prompt
from winback.tools.sql_query import LOOKS_LIKE_SQL

INTENTS_FILE = "router_intents.v1.toml"
DRAFT_WORDS = re.compile(
    r"\b(draft|write|compose|prepare|send)\b.*\b(offer|message|e-?mail|sms|win-?back|note|discount|voucher|coupon|"
    r"incentive|deal)s?\b"
    r"|^\s*(?:please\s+|pls\s+|now\s+|ok,?\s+|then\s+)?(?:draft|compose|write)\s+(?:up\s+)?(?:them|him|her|it|one|something)\b",
    re.IGNORECASE,
)
SEARCH_WORDS = re.compile(r"\b(find|search|look for|looking for|mentioning|that mention)\b", re.IGNORECASE)


@dataclass
class IntentScores:
    ranked: list[tuple[str, float]]  # (intent, score), best first

    @property
    def top(self) -> str:
        return self.ranked[0][0]

    @property
    def margin(self) -> float:
        return self.ranked[0][1] - self.ranked[1][1] if len(self.ranked) > 1 else 1.0


@dataclass(frozen=True)
class IntentSet:
    names: list[str]
    tools: dict[str, str]
    examples: list[str]
    owners: np.ndarray  # index into names per example
    aliases: dict[str, dict[str, str]]


@lru_cache(maxsize=1)
def load_intents() -> IntentSet:
    spec = tomllib.loads(load_prompt(INTENTS_FILE))
    names, tools, examples, owners = [], {}, [], []
    for number, (name, intent) in enumerate(spec["intents"].items()):
        names.append(name)
        tools[name] = intent["tool"]
        examples += intent["examples"]
        owners += [number] * len(intent["examples"])
    return IntentSet(names, tools, examples, np.array(owners), spec.get("aliases", {}))


class IntentRouter:
    """Candidate intents from the learned intent model (intent_model.py): probabilities over every intent."""

    def __init__(self, embedder: Any, cache_dir: Path | None = None) -> None:
        self.embedder = embedder
        self.intents = load_intents()
        self.model = load_or_train(embedder, cache_dir or default_cache_dir())

    def score(self, question: str) -> IntentScores:
        probabilities = self.model.probabilities(self.embedder.encode([normalise(question)]))[0]
        scores = _lexical(question, [(name, float(p)) for name, p in zip(self.model.names, probabilities, strict=True)])
        return IntentScores(sorted(scores, key=lambda s: -s[1]))


def _lexical(question: str, scores: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Signals no embedding should overrule: a SELECT is SQL; 'draft ... offer' is drafting."""
    boost: dict[str, float] = {}
    if LOOKS_LIKE_SQL.match(question):
        boost[Intent.SQL_QUESTION] = 1.0
    if DRAFT_WORDS.search(question):
        boost[Intent.DRAFT_OFFER] = 0.25  # sure enough that a role without drafting is refused, not misread
    if SEARCH_WORDS.search(question):
        boost[Intent.SEARCH_FEEDBACK] = 0.1
    return [(name, score + boost.get(name, 0.0)) for name, score in scores]
