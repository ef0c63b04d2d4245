"""What the configured LLM server can do, measured rather than assumed: model, context length, forced
tool calls, JSON-schema structured output, and decoding speed."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass

from pydantic import BaseModel, Field

from winback.config import Settings
from winback.llm.client import chat_model, llm_endpoint


@dataclass
class Capabilities:
    base_url: str
    model: str
    backend: str  # "embedded vLLM" or "OpenAI-compatible server"
    reachable: bool
    context_length: int | None = None
    tool_calling: bool | None = None  # a forced (tool_choice="required") call came back structured and valid
    structured_output: bool | None = None  # a JSON-schema response parsed
    tokens_per_s: float | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class _Lookup(BaseModel):
    """Look up one customer by id."""

    customer_id: str = Field(description="customer id such as C-1042")


class _Verdict(BaseModel):
    answer: str
    confidence: float


def _models(base_url: str, api_key: str) -> list[dict[str, object]]:
    request = urllib.request.Request(f"{base_url}/models", headers={"Authorization": f"Bearer {api_key}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return list(json.load(response).get("data", []))


TOOLS_PLANNER_MIN_CONTEXT = 8192  # twelve tool schemas, the conversation and the tool results must fit


def preferred_planner(caps: Capabilities) -> str:
    """What `auto` plans with: native tool calling where the server calls tools reliably, follows a JSON
    schema and has the context for tool schemas and results (a 7B model on a GPU server); the rules, with
    the model's guided choice where they are unsure, where a server makes forced calls (the embedded
    models: 4,096 tokens of context); the rules alone with no LLM."""
    if (
        caps.reachable
        and caps.tool_calling
        and caps.structured_output
        and (caps.context_length or 0) >= TOOLS_PLANNER_MIN_CONTEXT
    ):
        return "tools"
    if caps.reachable and caps.tool_calling:
        return "router+llm"
    return "router"


def probe(
    settings: Settings, model: str | None = None, measure_speed: bool = True, min_context: int = 0
) -> Capabilities:
    """Probe the server of `model` (default: the tools task's model); `measure_speed=False` skips the
    tokens/s measurement (the slow part on a CPU server), and a server whose context is below
    `min_context` is not asked anything more."""
    base_url, model = llm_endpoint(settings, "tools", model)
    backend = "OpenAI-compatible server" if settings.llm_base_url else "embedded vLLM"
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
    caps = Capabilities(base_url, model, backend, reachable=False)
    try:
        listed = _models(base_url, key)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        caps.error = f"no answer from {base_url}: {getattr(exc, 'reason', exc)}"
        return caps
    caps.reachable = True
    entry = next((m for m in listed if m.get("id") == model), listed[0] if listed else {})
    context = entry.get("max_model_len")
    caps.context_length = context if isinstance(context, int) else None
    if caps.context_length is not None and caps.context_length < min_context:
        return caps
    llm = chat_model(settings, "tools", max_tokens=64, model=model)
    try:
        reply = llm.bind_tools([_Lookup], tool_choice="required").invoke("Show me customer C-1042.")
        calls = getattr(reply, "tool_calls", [])
        caps.tool_calling = (
            bool(calls) and calls[0]["name"] == "_Lookup" and calls[0]["args"].get("customer_id") == "C-1042"
        )
    except Exception:
        caps.tool_calling = False
    try:
        verdict = (
            chat_model(settings, "tools", max_tokens=256, model=model)
            .with_structured_output(_Verdict, method="json_schema")
            .invoke("Is Paris in France? Answer with a short answer and a confidence between 0 and 1.")
        )
        caps.structured_output = isinstance(verdict, _Verdict)
    except Exception:
        caps.structured_output = False
    if not measure_speed:
        return caps
    started = time.perf_counter()
    reply = chat_model(settings, "tools", max_tokens=128, model=model).invoke(
        "Count from 1 to 60, separated by commas."
    )
    usage = getattr(reply, "usage_metadata", None) or {}
    tokens = usage.get("output_tokens") or 0
    seconds = time.perf_counter() - started
    caps.tokens_per_s = round(tokens / seconds, 1) if tokens and seconds > 0 else None
    return caps
