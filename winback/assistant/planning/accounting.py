"""Every word of a question accounted for: a value the data holds, a slot (numbers, ids, dates), a word the
planning data uses for some intent (the frames, fillers and examples the intent model learns from, the
metric catalog's words), a structure word (prompts/planning_lexicon.v1.toml) or a stop word. What is left
is said back, and a plan with words left over is not sure (pipeline.py)."""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

from winback.assistant.planning.intent_model import bank_spec
from winback.assistant.planning.lexicon import lexicon
from winback.data.metrics import load_catalog

WORD = re.compile(r"[a-z][a-z'’-]*[a-z]|[a-z]")
TYPO_CUTOFF = 0.8  # difflib ratio at which a word of 5+ letters counts as a typo of a known one
SUFFIXES = ("'s", "’s", "ies", "es", "s", "ed", "ing", "ly", "er", "ers")


def words_of(text: str) -> list[str]:
    return WORD.findall(text.lower())


@lru_cache(maxsize=1)
def planning_words() -> frozenset[str]:
    """Every word the planning data knows."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    frames, examples = bank_spec()
    texts: list[str] = []
    for intent in frames["intents"].values():
        texts += intent["frames"]
    for values in frames["fillers"].values():
        texts += values
    texts += list(frames["noise"]["abbreviations"]) + list(frames["noise"]["abbreviations"].values())
    for intent in examples["intents"].values():
        texts += intent.get("examples", [])
    for aliases in examples.get("aliases", {}).values():
        texts += list(aliases)
    catalog = load_catalog()
    for measure in catalog.measures.values():
        texts += [*measure.words, measure.label, measure.definition]
    for dimension in catalog.dimensions.values():
        texts += [*dimension.words, dimension.label]
    for entity in catalog.entities.values():
        texts += [*entity.verbs, entity.noun, entity.time_words]
    spec = lexicon()
    for section in spec.values():
        for value in section.values():
            if isinstance(value, list):
                texts += [str(v) for v in value]
    known = {w for text in texts for w in words_of(text)}
    return frozenset(known | set(ENGLISH_STOP_WORDS))


@lru_cache(maxsize=1)
def empty_words() -> frozenset[str]:
    """Stop words and chat words: a question of only these names nothing to look at."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(set(ENGLISH_STOP_WORDS) | set(lexicon()["chat"]["words"]))


def content_words(text: str) -> list[str]:
    return [w for w in words_of(re.sub(r"\bC-\d+\b", " ", text)) if w not in empty_words()]


def _stem(word: str) -> list[str]:
    forms = [word]
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.append(word[: -len(suffix)])
            if suffix == "ies":
                forms.append(word[:-3] + "y")
    return forms


def unexplained(text: str, values: list[str]) -> list[str]:
    """The question's words that nothing accounts for (ids, numbers and dates are slots, not words)."""
    known = planning_words()
    value_words = {w for v in values for w in words_of(str(v))}
    left = []
    for word in words_of(re.sub(r"\bC-\d+\b|\d[\d,.:/-]*\w*", " ", text)):
        forms = _stem(word.strip("'’-"))
        if any(f in known or f in value_words for f in forms):
            continue
        if len(word) >= 5 and difflib.get_close_matches(word, _long_words(), n=1, cutoff=TYPO_CUTOFF):
            continue  # a typo of a known word ("custmers", "platnum")
        left.append(word)
    return list(dict.fromkeys(left))


@lru_cache(maxsize=1)
def _long_words() -> list[str]:
    return sorted(w for w in planning_words() if len(w) >= 4)
