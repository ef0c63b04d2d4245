"""The one LLM interface the rest of the code uses: a LangChain chat model over an OpenAI-compatible API
(the embedded vLLM server by default, any vLLM/OpenAI-compatible server when WINBACK_LLM_BASE_URL is set)."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI

from winback.config import Settings
from winback.llm.model_files import MODEL_NAME
from winback.llm.server import local_base_url


def llm_endpoint(settings: Settings) -> tuple[str, str]:
    """(base_url, model name): the configured server, else the embedded one."""
    if settings.llm_base_url:
        return settings.llm_base_url.rstrip("/"), settings.llm_model or MODEL_NAME
    return local_base_url(settings), MODEL_NAME


def chat_model(
    settings: Settings, temperature: float = 0.0, max_tokens: int = 512, timeout_s: float | None = None
) -> BaseChatModel:
    base_url, model = llm_endpoint(settings)
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
    return ChatOpenAI(
        base_url=base_url,
        model=model,
        api_key=key,
        temperature=temperature,
        max_tokens=max_tokens,
        timeout=timeout_s or settings.llm_timeout_s,
        max_retries=0,
    )
