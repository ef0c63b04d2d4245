"""The learned intent model: a logistic-regression head on the MiniLM sentence embeddings, trained on an
example bank generated from data (prompts/intent_frames.v1.toml: phrasing frames × fillers × the metric
catalog's words, written with the noise people type) plus the hand-written examples of
prompts/router_intents.v1.toml. bench/intent_model.py measures it against the nearest-examples scorer it
replaced and an MLP head (docs/assistant.md says why logistic won).

Training takes seconds on 2 cores; the weights are cached under the cache folder by a hash of the bank and
the embedder, so a changed frame, filler or example retrains it and nothing else does."""

from __future__ import annotations

import hashlib
import json
import random
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from winback.data.metrics import load_catalog
from winback.prompts import load_prompt

FRAMES_FILE = "intent_frames.v1.toml"
EXAMPLES_FILE = "router_intents.v1.toml"
SLOT = re.compile(r"\{(\w+)\}")
C_REGULARISATION = 32.0  # chosen by bench/intent_model.py (held-out frames), see docs/assistant.md


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    source: str  # "example" (hand-written) or "frame:<intent>:<number>" (which frame generated it)


@lru_cache(maxsize=1)
def bank_spec() -> tuple[dict[str, Any], dict[str, Any]]:
    return tomllib.loads(load_prompt(FRAMES_FILE)), tomllib.loads(load_prompt(EXAMPLES_FILE))


def _fill(frame: str, fillers: dict[str, list[str]], rng: random.Random, depth: int = 0) -> str:
    def one(match: re.Match[str]) -> str:
        choice = rng.choice(fillers[match.group(1)])
        return _fill(choice, fillers, rng, depth + 1) if depth < 3 else choice

    return re.sub(r"\s+", " ", SLOT.sub(one, frame)).strip(" ,")


def _typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    w, k = words[i], rng.randrange(1, len(words[i]) - 1)
    words[i] = rng.choice([w[:k] + w[k + 1 :], w[:k] + w[k] + w[k:], w[: k - 1] + w[k] + w[k - 1] + w[k + 1 :]])
    return " ".join(words)


def _noisy(text: str, noise: dict[str, Any], rng: random.Random) -> str:
    """The example as people type it: lower case, no question mark, a typo, an abbreviation."""
    if rng.random() < noise["abbreviate"]:
        for long, short in noise["abbreviations"].items():
            text = re.sub(rf"\b{re.escape(long)}\b", short, text, flags=re.IGNORECASE)
    if rng.random() < noise["typo"]:
        text = _typo(text, rng)
    if rng.random() < noise["lower"]:
        text = text.lower()
    if rng.random() < noise["no_mark"]:
        text = text.rstrip("?!")
    return text


def build_bank() -> list[Example]:
    """Every example the model is trained on, deterministic for a given pair of files."""
    frames_spec, examples_spec = bank_spec()
    fillers = {k: list(v) for k, v in frames_spec["fillers"].items()}
    fillers["measure"] = [w for m in load_catalog().measures.values() for w in m.words]
    rng = random.Random(frames_spec["generate"]["seed"])
    per_intent = int(frames_spec["generate"]["per_intent"])
    bank = [
        Example(text, name, "example")
        for name, intent in examples_spec["intents"].items()
        for text in intent.get("examples", [])
    ]
    for name, intent in frames_spec["intents"].items():
        frames = intent["frames"]
        seen: set[str] = set()
        for draw in range(per_intent * 3):
            if len(seen) >= per_intent:
                break
            number = draw % len(frames)
            text = _noisy(_fill(frames[number], fillers, rng), frames_spec["noise"], rng)
            if text.lower() not in seen:
                seen.add(text.lower())
                bank.append(Example(text, name, f"frame:{name}:{number}"))
    return bank


def bank_hash(embedder_identity: str) -> str:
    digest = hashlib.sha256(embedder_identity.encode())
    digest.update(load_prompt(FRAMES_FILE).encode())
    digest.update(load_prompt(EXAMPLES_FILE).encode())
    digest.update(json.dumps([m.words for m in load_catalog().measures.values()]).encode())
    digest.update(str(C_REGULARISATION).encode())
    return digest.hexdigest()[:16]


CUSTOMER_TOKEN = re.compile(r"\bC-\d+\b", re.IGNORECASE)


def normalise(text: str) -> str:
    """What the model sees: ids made one token (an id is not a word), nothing else changed."""
    return CUSTOMER_TOKEN.sub("C-1", text)


class IntentModel:
    """Softmax over intents from one sentence embedding."""

    def __init__(self, names: list[str], coef: np.ndarray, intercept: np.ndarray) -> None:
        self.names, self.coef, self.intercept = names, coef, intercept

    @classmethod
    def fit(cls, vectors: np.ndarray, labels: list[str], c: float = C_REGULARISATION) -> IntentModel:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=c, max_iter=2000)
        model.fit(vectors, labels)
        return cls([str(n) for n in model.classes_], model.coef_.astype(np.float32), model.intercept_)

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        logits = vectors @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp.npz")
        np.savez(temporary, names=np.array(self.names), coef=self.coef, intercept=self.intercept)
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> IntentModel:
        with np.load(path) as stored:
            return cls([str(n) for n in stored["names"]], stored["coef"], stored["intercept"])


def model_path(cache_dir: Path, embedder_identity: str) -> Path:
    return cache_dir / "intent-model" / f"intent-{bank_hash(embedder_identity)}.npz"


def load_or_train(embedder: Any, cache_dir: Path) -> IntentModel:
    """The cached model for this bank and embedder, trained first when there is none."""
    path = model_path(cache_dir, str(getattr(embedder, "identity", getattr(embedder, "name", "embedder"))))
    if path.is_file():
        try:
            return IntentModel.load(path)
        except (OSError, ValueError, KeyError):
            pass  # a broken file is retrained below, not trusted
    bank = build_bank()
    model = IntentModel.fit(embedder.encode([normalise(e.text) for e in bank]), [e.intent for e in bank])
    model.save(path)
    return model
