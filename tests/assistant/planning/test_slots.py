"""Slots are read by rules: the same words always give the same arguments."""

from __future__ import annotations

from datetime import date

from winback.assistant.planning.slots import Vocabulary, parse_slots

VOCAB = Vocabulary(
    ["bronze", "gold", "platinum", "silver"],
    ["France", "Germany", "United Kingdom"],
    {"segment": {"premium": "platinum"}, "country": {"uk": "United Kingdom"}},
)
TODAY = date(2026, 10, 31)


def test_ids_values_and_aliases() -> None:
    s = parse_slots("top 5 premium customers in the UK, and C-1042 vs c-77", VOCAB, TODAY)
    assert s.customer_ids == ["C-1042", "C-77"] and s.segment == "platinum" and s.country == "United Kingdom"
    assert s.limit == 5
    assert parse_slots("twenty riskiest customers in Germany", VOCAB, TODAY).limit == 20
    assert parse_slots("who are the 10 customers most likely to churn?", VOCAB, TODAY).limit == 10
    assert parse_slots("gold customers", VOCAB, TODAY).country is None  # no value is guessed


def test_dates_windows_and_thresholds() -> None:
    assert parse_slots("what drives churn since March?", VOCAB, TODAY).since == date(2026, 3, 1)
    assert parse_slots("complaints since November", VOCAB, TODAY).since == date(2025, 11, 1)  # not in the future
    assert parse_slots("reviews in the last 30 days", VOCAB, TODAY).since == date(2026, 10, 1)
    assert parse_slots("orders since 2026-02-15", VOCAB, TODAY).since == date(2026, 2, 15)
    s = parse_slots("customers worth more than 1,500 with no order for 8 weeks", VOCAB, TODAY)
    assert s.min_value == 1500 and s.inactive_days == 56
    assert parse_slots("high-risk and critical risk customers", VOCAB, TODAY).risk_bands == ["high", "critical"]


def test_references_channels_and_kinds() -> None:
    s = parse_slots("draft an SMS for the second customer", VOCAB, TODAY)
    assert s.ordinal == 2 and s.channel == "sms" and not s.customer_ids
    assert parse_slots("and the last one?", VOCAB, TODAY).ordinal == -1
    assert parse_slots("explain the second", VOCAB, TODAY).ordinal == 2  # no noun after it
    assert parse_slots("open the fourth one", VOCAB, TODAY).ordinal == 4
    her = parse_slots("and her tickets?", VOCAB, TODAY)
    assert her.pronoun and her.singular and her.kind == "ticket"
    their = parse_slots("what do customers say about their deliveries", VOCAB, TODAY)
    assert their.pronoun and not their.singular
    assert parse_slots("revenue at risk by country", VOCAB, TODAY).group_by == "country"
    assert parse_slots("which channel brings risky customers", VOCAB, TODAY).group_by == "acquisition_channel"
    assert parse_slots("negative reviews", VOCAB, TODAY).max_rating == 2
