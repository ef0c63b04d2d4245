"""In-process generation with transformers: the fallback when the vLLM server cannot start on a machine.
Same converted model, same LangChain interface, no tool calling or guided decoding, and much slower
(one request at a time per process); callers say so to the user."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

ROLES = {"system": "system", "human": "user", "ai": "assistant"}


class TransformersChat(BaseChatModel):
    """`TransformersChat(folder=model_folder(data_dir))`: greedy decoding, `max_tokens` new tokens."""

    folder: Path
    max_tokens: int = 256
    _model: Any = PrivateAttr(default=None)
    _tokenizer: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "winback-transformers"

    def _load(self) -> None:
        if self._model is None:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(self.folder)
            self._model = AutoModelForCausalLM.from_pretrained(self.folder, dtype=torch.bfloat16).eval()

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        import torch

        with self._lock:
            self._load()
            chat = [{"role": ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]
            text = self._tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
            inputs = self._tokenizer(text, return_tensors="pt")
            with torch.inference_mode():
                output = self._model.generate(
                    **inputs,
                    max_new_tokens=int(kwargs.get("max_tokens", self.max_tokens)),
                    do_sample=False,
                    pad_token_id=self._tokenizer.eos_token_id,
                )
            new = output[0, inputs["input_ids"].shape[1] :]
            reply = self._tokenizer.decode(new, skip_special_tokens=True)
        for token in stop or []:
            reply = reply.split(token)[0]
        usage = {
            "input_tokens": int(inputs["input_ids"].shape[1]),
            "output_tokens": int(new.shape[0]),
            "total_tokens": int(inputs["input_ids"].shape[1] + new.shape[0]),
        }
        return ChatResult(generations=[ChatGeneration(message=AIMessage(reply, usage_metadata=usage))])
