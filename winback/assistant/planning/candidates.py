"""Step 2 of planning: candidate intents, scored by embeddings over example utterances (MiniLM,
prompts/router_intents.v1.toml) plus a few lexical signals no embedding should overrule."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from winback.assistant.intents import Intent
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
    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self.intents = load_intents()
        self.vectors = self._embed(self.intents.examples)

    def _embed(self, texts: list[str]) -> np.ndarray:
        return self.embedder.encode(texts)  # unit length

    def score(self, question: str) -> IntentScores:
        """Per intent: the mean of its two closest examples (one lucky neighbour is not enough)."""
        similarity = self._embed([CUSTOMER_TOKEN.sub("C-1", question)])[0] @ self.vectors.T
        scores = []
        for number, name in enumerate(self.intents.names):
            mine = np.sort(similarity[self.intents.owners == number])[::-1]
            scores.append((name, float(mine[:2].mean())))
        scores = _lexical(question, scores)
        return IntentScores(sorted(scores, key=lambda s: -s[1]))


CUSTOMER_TOKEN = re.compile(r"\bC-\d+\b", re.IGNORECASE)


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
