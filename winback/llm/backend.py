"""Which LLM a task talks to, decided once per command: a configured OpenAI-compatible server, the embedded
vLLM server of the task's model (started when asked; another embedded model already running when not),
or — when vLLM cannot start on this machine — in-process transformers with the same model, with a note."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel

from winback.config import LlmTask, Settings
from winback.llm.client import chat_model, llm_endpoint, task_model
from winback.llm.model_files import model_folder, prepare_model
from winback.llm.server import LlmServerError, is_ready, running_models, start_server, stop_server


@dataclass
class LlmBackend:
    llm: BaseChatModel | None
    kind: str  # "server", "embedded vLLM", "transformers (in-process)", "none"
    structured: bool  # JSON-schema guided decoding available
    note: str | None = None
    started_server: bool = False
    model: str | None = None  # the model that answers

    def close(self, settings: Settings) -> None:
        if self.started_server and self.model:
            stop_server(settings, self.model)


def connect_llm(settings: Settings, task: LlmTask, max_tokens: int = 256, start: bool = True) -> LlmBackend:
    wanted = task_model(settings, task)
    base_url, _ = llm_endpoint(settings, task)
    if settings.llm_base_url:
        if not is_ready(base_url):
            return LlmBackend(None, "none", False, f"no answer from {base_url}; templates only")
        return LlmBackend(chat_model(settings, task, max_tokens=max_tokens), "server", True, model=wanted)
    if is_ready(base_url):
        return LlmBackend(chat_model(settings, task, max_tokens=max_tokens), "embedded vLLM", True, model=wanted)
    if not start:
        running = running_models(settings)
        if running:  # a slower or weaker answer beats none; the note says which model stood in
            stand_in = running[-1]
            return LlmBackend(
                chat_model(settings, task, max_tokens=max_tokens, model=stand_in),
                "embedded vLLM",
                True,
                f"{wanted} is not running; {stand_in} answered instead",
                model=stand_in,
            )
        return LlmBackend(
            None,
            "none",
            False,
            f"the embedded LLM server is not running ({base_url}); start it with `winback llm serve`",
        )
    try:
        prepare_model(settings.data_dir, wanted)
        handle = start_server(settings, wanted)
        return LlmBackend(
            chat_model(settings, task, max_tokens=max_tokens),
            "embedded vLLM",
            True,
            started_server=handle.seconds_to_ready > 0,
            model=wanted,
        )
    except LlmServerError as exc:
        from winback.llm.local_chat import TransformersChat

        return LlmBackend(
            TransformersChat(folder=model_folder(settings.data_dir, wanted), max_tokens=max_tokens),
            "transformers (in-process)",
            False,
            f"vLLM could not start ({exc}); generating in-process with transformers, more slowly",
            model=wanted,
        )
