"""The one LLM interface the rest of the code uses: a LangChain chat model over an OpenAI-compatible API
(the embedded vLLM server of the task's model by default, any vLLM/OpenAI-compatible server when
WINBACK_LLM_BASE_URL is set). Each task (drafting, SQL, planning, tool calling) names its model in settings."""

from __future__ import annotations

from typing import get_args

from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI

from winback.config import LlmTask, Settings
from winback.llm.model_files import shipped_model
from winback.llm.server import local_base_url


def task_model(settings: Settings, task: LlmTask) -> str:
    """The model a task is configured to use (a name on the configured server, or an embedded model)."""
    configured = {
        "draft": settings.llm_draft_model,
        "sql": settings.llm_sql_model,
        "planner": settings.llm_planner_model,
        "tools": settings.llm_tools_model,
    }[task]
    if settings.llm_base_url:
        return settings.llm_model or configured
    return shipped_model(configured).name


def task_models(settings: Settings) -> list[str]:
    """The models the tasks use, each once, in task order."""
    return list(dict.fromkeys(task_model(settings, task) for task in get_args(LlmTask)))


def llm_endpoint(settings: Settings, task: LlmTask, model: str | None = None) -> tuple[str, str]:
    """(base_url, model name) for a task: the configured server, else the embedded server of its model
    (`model` overrides the task's choice, e.g. for a benchmark or a fallback to a running model)."""
    name = model or task_model(settings, task)
    if settings.llm_base_url:
        return settings.llm_base_url.rstrip("/"), name
    return local_base_url(settings, name), shipped_model(name).name


def chat_model(
    settings: Settings,
    task: LlmTask,
    temperature: float = 0.0,
    max_tokens: int = 512,
    timeout_s: float | None = None,
    model: str | None = None,
) -> BaseChatModel:
    base_url, name = llm_endpoint(settings, task, model)
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
    return ChatOpenAI(
        base_url=base_url,
        model=name,
        api_key=key,
        temperature=temperature,
        max_tokens=max_tokens,
        timeout=timeout_s or settings.llm_timeout_s,
        max_retries=0,
    )
