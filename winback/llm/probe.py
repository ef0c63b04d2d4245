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


def probe(settings: Settings) -> Capabilities:
    base_url, model = llm_endpoint(settings)
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
    llm = chat_model(settings, max_tokens=64)
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
            chat_model(settings, max_tokens=256)
            .with_structured_output(_Verdict, method="json_schema")
            .invoke("Is Paris in France? Answer with a short answer and a confidence between 0 and 1.")
        )
        caps.structured_output = isinstance(verdict, _Verdict)
    except Exception:
        caps.structured_output = False
    started = time.perf_counter()
    reply = chat_model(settings, max_tokens=128).invoke("Count from 1 to 60, separated by commas.")
    usage = getattr(reply, "usage_metadata", None) or {}
    tokens = usage.get("output_tokens") or 0
    seconds = time.perf_counter() - started
    caps.tokens_per_s = round(tokens / seconds, 1) if tokens and seconds > 0 else None
    return caps
