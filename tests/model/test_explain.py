"""Drivers read as sentences: every feature has its own words, the text features included."""

from __future__ import annotations

import pandas as pd
import pytest

from winback.model.explain import TEMPLATES, describe
from winback.model.features import FEATURES


def test_every_feature_has_its_own_words() -> None:
    assert {f.name for f in FEATURES} <= set(TEMPLATES)


@pytest.mark.parametrize(
    ("score", "words"),
    [
        (0.52, "wrote about finding it cheaper elsewhere (+0.07)"),
        (0.38, "may have written about finding it cheaper elsewhere (+0.07)"),
        (0.20, "has not written about prices elsewhere (+0.07)"),
    ],
)
def test_what_a_customer_wrote_reads_as_a_sentence(score: float, words: str) -> None:
    row = pd.Series({"text_price_elsewhere_365d": score})
    assert describe("text_price_elsewhere_365d", row, 0.07) == words


def test_sentiment_and_recency_of_negative_text() -> None:
    row = pd.Series({"text_sentiment_365d": -0.2, "days_since_negative_text": 12.0})
    assert describe("text_sentiment_365d", row, 0.03) == "what they wrote in the last year reads negative (+0.03)"
    assert describe("days_since_negative_text", row, 0.02) == "wrote something negative 12 days ago (+0.02)"
    quiet = pd.Series({"text_sentiment_365d": 0.0, "days_since_negative_text": 730.0})
    assert describe("text_sentiment_365d", quiet, -0.01) == "wrote no review or ticket in the last year (-0.01)"
    assert describe("days_since_negative_text", quiet, -0.01) == "has written nothing negative (-0.01)"
