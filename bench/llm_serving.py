"""LLM serving on this machine: the embedded vLLM server against in-process transformers, same model
(Qwen2.5-Coder-0.5B-Instruct, bf16), same prompts (real win-back drafting prompts for demo customers),
greedy decoding, at most 160 new tokens.

    python -m bench.llm_serving                      # needs a scored demo (scripts/demo) and .venv-llm
    python -m bench.llm_serving --levels 1,8 --backends vllm --json

For each concurrency level C (at least 4 requests per level): vLLM gets C requests in flight at once
(streamed, so time to first token is measured per request); transformers generates the same prompts in
left-padded batches of C (its time to first token is the time to the first decoding step of the batch). Figures: median time to first token,
output tokens per second over the whole level, drafts per minute, and the share of model drafts that
pass validation at the first try (the same checks as `winback offers draft`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MAX_NEW_TOKENS = 160
MIN_REQUESTS = 4  # at concurrency 1, four requests one after the other


def _prompts(settings: Any, count: int) -> list[tuple[list[dict[str, str]], Any]]:
    """(chat messages, facts) for the customers the batch drafter would write to first."""
    from datetime import datetime, timedelta

    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    from winback.data.db import make_engine
    from winback.data.lookups import AtRiskArgs, at_risk_customers, customer_profile
    from winback.tools.offers.drafting import OfferDrafter
    from winback.tools.offers.facts import gather_facts
    from winback.tools.offers.terms import OfferTerms

    engine = make_engine(settings.database_url)
    drafter = OfferDrafter(engine, settings, None)
    rows = at_risk_customers(engine, AtRiskArgs(limit=count, sort="revenue_at_risk"), "admin").rows
    roles = {SystemMessage: "system", HumanMessage: "user", AIMessage: "assistant"}
    out = []
    for row in rows:
        terms = OfferTerms("percent_discount", 15, "EUR", "WB-BENCH1", datetime.now() + timedelta(days=30))
        facts = gather_facts(customer_profile(engine, row.customer_id, "admin"), terms)
        messages = [{"role": roles[type(m)], "content": str(m.content)} for m in drafter.prompt(facts, "warm")]
        out.append((messages, facts))
    return out


def _valid(text: str, facts: Any, example: str) -> bool:
    from winback.tools.offers.drafting import _parse_reply, compose
    from winback.tools.offers.validation import validate_draft, validate_opening

    written = _parse_reply(text)
    if written is None:
        return False
    draft = compose(written, facts, "email")
    return not (
        validate_opening(written.subject, written.opening, facts, "email", example)
        + validate_draft(draft, facts, "email")
    )


def bench_vllm(base_url: str, model: str, prompts: list, level: int, example: str) -> dict[str, Any]:
    from openai import OpenAI

    client = OpenAI(base_url=base_url, api_key="not-needed", timeout=600)

    def one(item: tuple[list[dict[str, str]], Any]) -> tuple[float, int, bool]:
        messages, facts = item
        started = time.perf_counter()
        first = None
        parts = []
        tokens = 0
        stream = client.chat.completions.create(
            model=model,
            messages=messages,
            max_tokens=MAX_NEW_TOKENS,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
            response_format={"type": "json_object"},
        )
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                first = first or time.perf_counter() - started
                parts.append(chunk.choices[0].delta.content)
            if chunk.usage:
                tokens = chunk.usage.completion_tokens
        return first or 0.0, tokens, _valid("".join(parts), facts, example)

    batch = prompts[: max(level, MIN_REQUESTS)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=level) as pool:
        results = list(pool.map(one, batch))
    wall = time.perf_counter() - started
    return _row("vLLM server", level, results, wall)


def bench_transformers(folder: Path, prompts: list, level: int, example: str, loaded: dict[str, Any]) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LogitsProcessor, LogitsProcessorList

    if "model" not in loaded:
        loaded["tokenizer"] = AutoTokenizer.from_pretrained(folder, padding_side="left")
        loaded["model"] = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16).eval()
    tokenizer, model = loaded["tokenizer"], loaded["model"]

    class FirstStep(LogitsProcessor):
        at: float | None = None

        def __call__(self, input_ids, scores):
            self.at = self.at or time.perf_counter()
            return scores

    everything = prompts[: max(level, MIN_REQUESTS)]
    pad = tokenizer.pad_token_id or tokenizer.eos_token_id
    results = []
    started = time.perf_counter()
    for start in range(0, len(everything), level):  # batches of `level`, one after the other
        batch = everything[start : start + level]
        texts = [tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True) for m, _ in batch]
        first = FirstStep()
        batch_started = time.perf_counter()
        inputs = tokenizer(texts, return_tensors="pt", padding=True)
        with torch.inference_mode():
            output = model.generate(
                **inputs,
                max_new_tokens=MAX_NEW_TOKENS,
                do_sample=False,
                logits_processor=LogitsProcessorList([first]),
                pad_token_id=pad,
            )
        for row, (_, facts) in zip(output[:, inputs["input_ids"].shape[1] :], batch, strict=True):
            text = tokenizer.decode(row, skip_special_tokens=True)
            results.append(
                ((first.at or batch_started) - batch_started, int((row != pad).sum()), _valid(text, facts, example))
            )
    wall = time.perf_counter() - started
    return _row("transformers (in-process)", level, results, wall)


def _row(backend: str, level: int, results: list[tuple[float, int, bool]], wall: float) -> dict[str, Any]:
    tokens = sum(r[1] for r in results)
    return {
        "backend": backend,
        "concurrency": level,
        "requests": len(results),
        "ttft_p50_s": round(statistics.median(r[0] for r in results), 2),
        "tokens_per_s": round(tokens / wall, 1),
        "drafts_per_min": round(len(results) / wall * 60, 1),
        "valid_first_try": round(sum(r[2] for r in results) / len(results), 3),
        "wall_s": round(wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="scored demo and converted model (default: settings)")
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument("--backends", default="vllm,transformers")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from winback.config import Settings
    from winback.llm.model_files import MODEL_NAME, model_folder, prepare_model
    from winback.llm.server import start_server, stop_server
    from winback.tools.offers.drafting import example_opening

    settings = Settings(**({"data_dir": Path(args.data_dir)} if args.data_dir else {}))
    prepare_model(settings.data_dir)
    levels = [int(x) for x in args.levels.split(",")]
    prompts = _prompts(settings, max(levels))
    example = example_opening()
    rows = []
    if "vllm" in args.backends:
        handle = start_server(settings)
        try:
            for level in levels:
                rows.append(bench_vllm(handle.base_url, MODEL_NAME, prompts, level, example))
        finally:
            if handle.seconds_to_ready > 0:
                stop_server(settings)
    if "transformers" in args.backends:
        loaded: dict[str, Any] = {}
        for level in levels:
            rows.append(bench_transformers(model_folder(settings.data_dir), prompts, level, example, loaded))
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print("| backend | concurrency | requests | TTFT p50 s | tokens/s | drafts/min | valid at first try | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['backend']} | {r['concurrency']} | {r['requests']} | {r['ttft_p50_s']} | {r['tokens_per_s']} "
            f"| {r['drafts_per_min']} | {r['valid_first_try']:.0%} | {r['wall_s']} |"
        )


if __name__ == "__main__":
    main()
