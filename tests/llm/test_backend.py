"""Where vLLM cannot start, the same model runs in-process with transformers and the caller is told so."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from winback.config import Settings
from winback.llm.backend import connect_llm
from winback.llm.model_files import prepare_model

pytestmark = [pytest.mark.slow, pytest.mark.llm]
ROOT = Path(__file__).resolve().parents[2]


def test_falls_back_to_in_process_transformers(tmp_path: Path) -> None:
    cache = Path(os.environ.get("WINBACK_TEST_LLM_CACHE", ROOT / ".cache" / "llm"))
    settings = Settings(
        data_dir=cache, llm_port=9, llm_venv=tmp_path / "no-vllm-here", llm_draft_model="qwen2.5-coder-0.5b-instruct"
    )
    prepare_model(cache, settings.llm_draft_model)  # converted once, shared with the other llm tests
    backend = connect_llm(settings, "draft", max_tokens=8)
    assert backend.kind == "transformers (in-process)" and not backend.structured
    assert "vLLM could not start" in backend.note and "setup_llm" in backend.note
    reply = backend.llm.invoke("Reply with the word yes.")
    assert reply.content.strip() and reply.usage_metadata["output_tokens"] <= 8
