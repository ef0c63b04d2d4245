"""Which LLM the product talks to, decided once per command: a configured OpenAI-compatible server, the
embedded vLLM server (started when asked), or — when vLLM cannot start on this machine — in-process
transformers with the same model, with a note saying so."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel

from winback.config import Settings
from winback.llm.client import chat_model, llm_endpoint
from winback.llm.model_files import model_folder, prepare_model
from winback.llm.server import LlmServerError, is_ready, start_server, stop_server


@dataclass
class LlmBackend:
    llm: BaseChatModel | None
    kind: str  # "server", "embedded vLLM", "transformers (in-process)", "none"
    structured: bool  # JSON-schema guided decoding available
    note: str | None = None
    started_server: bool = False

    def close(self, settings: Settings) -> None:
        if self.started_server:
            stop_server(settings)


def connect_llm(settings: Settings, max_tokens: int = 256, start: bool = True) -> LlmBackend:
    base_url, _ = llm_endpoint(settings)
    if settings.llm_base_url:
        if not is_ready(base_url):
            return LlmBackend(None, "none", False, f"no answer from {base_url}; templates only")
        return LlmBackend(chat_model(settings, max_tokens=max_tokens), "server", True)
    if is_ready(base_url):
        return LlmBackend(chat_model(settings, max_tokens=max_tokens), "embedded vLLM", True)
    if not start:
        return LlmBackend(
            None,
            "none",
            False,
            f"the embedded LLM server is not running ({base_url}); start it with `winback llm serve`",
        )
    try:
        prepare_model(settings.data_dir)
        handle = start_server(settings)
        return LlmBackend(
            chat_model(settings, max_tokens=max_tokens),
            "embedded vLLM",
            True,
            started_server=handle.seconds_to_ready > 0,
        )
    except LlmServerError as exc:
        from winback.llm.local_chat import TransformersChat

        return LlmBackend(
            TransformersChat(folder=model_folder(settings.data_dir), max_tokens=max_tokens),
            "transformers (in-process)",
            False,
            f"vLLM could not start ({exc}); generating in-process with transformers, more slowly",
        )
