"""Batch drafting: every saved draft passed validation, a re-run skips customers already offered, and an
LLM that dies in the middle of a batch turns the rest into templates with a note, losing nothing."""

from __future__ import annotations

from collections import Counter

import httpx
import openai
from langchain_core.runnables import RunnableLambda
from sqlalchemy import Engine, func, select

from winback.config import Settings
from winback.data.lookups import customer_profile
from winback.data.schema import Offer, OfferEvent
from winback.offers.batch import draft_batch
from winback.offers.drafting import OfferDrafter


def _offers(engine: Engine) -> list[tuple[str, str, str | None]]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(select(Offer.customer_id, Offer.offer_id, Offer.draft_source))]


def test_template_batch_is_resumable_without_duplicates(shop: tuple[Engine, Settings]) -> None:
    engine, settings = shop
    first = draft_batch(engine, OfferDrafter(engine, settings, None), top=30, concurrency=4)
    assert first.asked == 30 and first.drafted + sum(first.no_offer.values()) == 30 and not first.failed
    assert first.drafted > 0 and first.sources == Counter({"template": first.drafted})
    again = draft_batch(engine, OfferDrafter(engine, settings, None), top=30, concurrency=4)
    assert again.drafted == 0 and again.already_offered == first.drafted
    offers = _offers(engine)
    assert len(offers) == first.drafted and len({c for c, _, _ in offers}) == len(offers)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(OfferEvent)).scalar_one() == len(offers)


def test_llm_dying_mid_batch_falls_back_and_a_rerun_completes(shop: tuple[Engine, Settings]) -> None:
    engine, settings = shop
    calls = Counter()

    def flaky(messages):  # answers 4 requests, then the "server" is gone
        calls["n"] += 1
        if calls["n"] > 4:
            raise openai.APIConnectionError(request=httpx.Request("POST", "http://127.0.0.1:8765/v1/chat"))
        return (
            '{"subject": "we are sorry", "opening": "We are sorry that things went wrong for you lately. '
            'You deserved better from us, and we want to put it right."}'
        )

    drafter = OfferDrafter(engine, settings, RunnableLambda(flaky), structured=False)
    report = draft_batch(engine, drafter, top=25, concurrency=1, language="en")  # what the fake writes
    assert report.sources["llm"] == 4 and report.sources["template"] == report.drafted - 4
    assert report.notes["LLM unavailable"] == report.drafted - 4 and not report.failed
    rerun = draft_batch(engine, OfferDrafter(engine, settings, None), top=25, concurrency=2)
    assert rerun.drafted == 0 and rerun.already_offered == report.drafted
    offers = _offers(engine)
    assert len(offers) == len({c for c, _, _ in offers}) == report.drafted
    for customer_id, _, source in offers:
        card = customer_profile(engine, customer_id, "admin")
        assert card.offers and card.offers[0].status == "draft" and source in {"llm", "template"}
