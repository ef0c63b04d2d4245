"""Every word of a question accounted for: a value the data holds, a slot (numbers, ids, dates), a word the
planning data uses for some intent (the frames, fillers and examples the intent model learns from, the
metric catalog's words), a structure word (prompts/planning_lexicon.v1.toml) or a stop word. What is left
is said back, and a plan with words left over is not sure (pipeline.py)."""

from __future__ import annotations

import difflib
import re
from functools import cache, lru_cache

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
            elif isinstance(value, dict):
                texts += list(value)  # languages, tones, numbers, ordinals: the words people write
    known = {w for text in texts for w in words_of(text)}
    return frozenset(known | set(ENGLISH_STOP_WORDS))


@lru_cache(maxsize=1)
def empty_words() -> frozenset[str]:
    """Stop words and chat words: a question of only these names nothing to look at."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    spec = lexicon()
    units = {"day", "days", "week", "weeks", "month", "months", "quarter", "quarters", "year", "years", "ago"}
    words = set(spec["chat"]["words"]) | set(spec["time"]["words"]) | set(spec["function"]["words"])
    return frozenset(set(ENGLISH_STOP_WORDS) | words | units)


def content_words(text: str) -> list[str]:
    words = [re.sub(r"['’]s$", "", w) for w in words_of(re.sub(r"\bC-\d+\b", " ", text))]  # "month's"
    return [w for w in words if w not in empty_words()]


@cache
def intent_words(intent: str) -> frozenset[str]:
    """The words the planning data uses for one intent: its frames (with the fillers they name) and
    hand-written examples. A word of the question outside them is one this intent's plan does not use."""
    frames, examples = bank_spec()
    texts = list(examples["intents"].get(intent, {}).get("examples", []))
    fillers: set[str] = set()
    pending = [f for f in frames["intents"].get(intent, {}).get("frames", [])]
    while pending:
        text = pending.pop()
        texts.append(text)
        for name in re.findall(r"\{(\w+)\}", text):
            if name in frames["fillers"] and name not in fillers:
                fillers.add(name)
                pending += frames["fillers"][name]
    return frozenset(f for text in texts for w in words_of(text) for f in _stem(w))


def off_topic(text: str, unknown: list[str]) -> bool:
    """Every content word the question has is unknown (`unknown`: its unexplained words) or known only from
    small talk and off-topic examples ("who won the champions league last year?": "won" is only in "who won
    the match"): nothing a tool could act on."""
    words = [w for w in content_words(text) if w not in unknown]
    if not words:
        return False
    small_talk, domain = intent_words("respond"), _domain_words()
    return all(any(f in small_talk for f in _stem(w)) and not any(f in domain for f in _stem(w)) for w in words)


@lru_cache(maxsize=1)
def _domain_words() -> frozenset[str]:
    """Words a tool could act on, stemmed: the catalog's, its entities' verbs ("came back", "opened") and
    every tool intent's frames and examples."""
    frames, _ = bank_spec()
    tools = frozenset(f for name in frames["intents"] if name != "respond" for f in intent_words(name))
    verbs = [v for e in load_catalog().entities.values() for v in e.verbs]
    return _catalog_words() | tools | frozenset(f for text in verbs for w in words_of(text) for f in _stem(w))


def unused_by(intent: str, text: str, values: list[str]) -> list[str]:
    """Known words of the question that the chosen intent's plan does not use ("customers ... with an
    unresolved ticket" planned as an at-risk list: the list cannot filter by tickets)."""
    mine = intent_words(intent) | empty_words() | _slot_words()
    value_words = {w for v in values for w in words_of(str(v))}
    known = _catalog_words()  # what a plan can drop: a measure, a dimension, what rows are
    left = []
    for word in words_of(re.sub(r"\bC-\d+\b|\d[\d,.:/+-]*\w*", " ", text)):
        forms = _stem(word.strip("'’-"))
        if any(f in mine or f in value_words for f in forms) or not any(f in known for f in forms):
            continue  # used, or a word nobody knows (that one is unexplained, not unused)
        if word not in left:
            left.append(word)
    return left


@lru_cache(maxsize=1)
def _catalog_words() -> frozenset[str]:
    """The metric catalog's words for measures, dimensions and what happens to rows, stemmed."""
    catalog = load_catalog()
    texts = [w for m in catalog.measures.values() for w in m.words]
    texts += [w for d in catalog.dimensions.values() for w in d.words]
    return frozenset(f for text in texts for w in words_of(text) for f in _stem(w)) - empty_words()


@lru_cache(maxsize=1)
def _slot_words() -> frozenset[str]:
    """Words the slot readers take whatever the intent: the lexicon's structure words, languages, tones."""
    spec = lexicon()
    words: list[str] = []
    for section in ("negation", "coordination", "between", "one_value"):
        for value in spec[section].values():
            words += value if isinstance(value, list) else []
    words += list(spec["languages"]["codes"]) + list(spec["tones"]["words"])
    return frozenset(w for text in words for w in words_of(text))


def corrected(text: str, values: list[str]) -> str:
    """The question with typos of known words mended ("custmers" -> "customers", "probabilty" ->
    "probability"), so slots and measures are read from it; values and known words are kept as written."""
    known = planning_words()
    value_words = {w for v in values for w in words_of(str(v))}

    def mend(match: re.Match[str]) -> str:
        word = match.group(0)
        lower = word.lower()
        if len(lower) < 5 or any(f in known or f in value_words for f in _stem(lower)):
            return word
        close = difflib.get_close_matches(lower, _long_words(), n=1, cutoff=TYPO_CUTOFF)
        return close[0] if close else word

    for short, long in _abbreviations().items():  # "custs" -> "customers", "ltv" stays (a catalog word)
        text = re.sub(rf"(?<![\w-]){re.escape(short)}(?![\w-])", long, text, flags=re.IGNORECASE)
    return re.sub(r"(?<![\w'’-])[A-Za-z][a-z]{4,}(?![\w'’-])", mend, text)


@lru_cache(maxsize=1)
def _abbreviations() -> dict[str, str]:
    """The abbreviations the bank writes (intent_frames.v1.toml [noise]), read back to the words they
    stand for; one already a word of the data (ltv, aov) stays as it is."""
    frames, _ = bank_spec()
    catalog_words = {w.lower() for m in load_catalog().measures.values() for w in m.words}
    return {
        short: long
        for long, short in frames["noise"]["abbreviations"].items()
        if len(short) > 2 and short.isalpha() and short.lower() not in catalog_words
    }


def _stem(word: str) -> list[str]:
    forms = [word]
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.append(word[: -len(suffix)])
            if suffix == "ies":
                forms.append(word[:-3] + "y")
            if suffix in ("ed", "ing", "er", "ers", "es"):
                forms.append(word[: -len(suffix)] + "e")  # "closed", "closing" -> "close"
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
