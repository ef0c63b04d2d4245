"""LLM serving on this machine, both embedded models side by side (Qwen2.5-Coder-0.5B-Instruct and
-1.5B-Instruct, bf16): the embedded vLLM server (and, if asked, in-process transformers), the same prompts
(real win-back drafting prompts for demo customers, in their languages), the drafter's own JSON schema,
greedy decoding, at most 160 new tokens. Each model's server runs alone; its memory (resident set of the
server's processes, after the run) is reported too.

    python -m bench.llm_serving                      # needs a scored demo (scripts/demo) and .venv-llm
    python -m bench.llm_serving --levels 1,8 --models 1.5b --backends vllm,transformers --json

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
    from winback.offers.drafting import OfferDrafter
    from winback.offers.facts import gather_facts
    from winback.offers.language import language_of
    from winback.offers.terms import OfferTerms

    engine = make_engine(settings.database_url)
    drafter = OfferDrafter(engine, settings, None)
    rows = at_risk_customers(engine, AtRiskArgs(limit=count, sort="revenue_at_risk"), "admin").rows
    roles = {SystemMessage: "system", HumanMessage: "user", AIMessage: "assistant"}
    out = []
    for row in rows:
        profile = customer_profile(engine, row.customer_id, "admin")
        terms = OfferTerms(
            "percent_discount", 15, "EUR", "WB-BENCH1", datetime.now() + timedelta(days=30), language_of(profile)
        )
        facts = gather_facts(profile, terms)
        messages = [{"role": roles[type(m)], "content": str(m.content)} for m in drafter.prompt(facts, "warm")]
        out.append((messages, facts))
    return out


def _valid(text: str, facts: Any, example: Any = None) -> bool:
    from winback.offers.drafting import _parse_reply, compose, example_openings
    from winback.offers.validation import validate_draft, validate_opening

    written = _parse_reply(text)
    if written is None:
        return False
    draft = compose(written, facts, "email")
    return not (
        validate_opening(draft.subject, written.opening, facts, "email", example_openings(facts.language))
        + validate_draft(draft, facts, "email")
    )


def _schema_format() -> dict[str, Any]:
    from winback.offers.drafting import DraftSchema

    return {
        "type": "json_schema",
        "json_schema": {"name": "DraftSchema", "schema": DraftSchema.model_json_schema(), "strict": True},
    }


def server_rss_gib(pid: int) -> float:
    """Resident memory of a server and its children (vLLM runs an engine core process)."""
    import psutil

    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
        return round(sum(p.memory_info().rss for p in processes) / 2**30, 2)
    except psutil.Error:
        return float("nan")


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
            response_format=_schema_format(),
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
    return _row(model, "vLLM server", level, results, wall)


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
    return _row(folder.name, "transformers (in-process)", level, results, wall)


def _row(model: str, backend: str, level: int, results: list[tuple[float, int, bool]], wall: float) -> dict[str, Any]:
    tokens = sum(r[1] for r in results)
    return {
        "model": model,
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
    parser.add_argument("--backends", default="vllm", help="vllm, transformers or both")
    parser.add_argument("--models", default="all", help="0.5b, 1.5b or all")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from winback.config import Settings
    from winback.llm.model_files import MODELS, model_folder, prepare_model, shipped_model
    from winback.llm.server import running_models, start_server, stop_server

    settings = Settings(**({"data_dir": Path(args.data_dir)} if args.data_dir else {}))
    names = list(MODELS) if args.models == "all" else [shipped_model(m).name for m in args.models.split(",")]
    levels = [int(x) for x in args.levels.split(",")]
    prompts = _prompts(settings, max(levels))
    example = None  # each prompt is checked against the examples of its own language
    rows = []
    for name in names:
        prepare_model(settings.data_dir, name)
        if "vllm" in args.backends:
            for other in running_models(settings):  # each model measured alone on these cores
                stop_server(settings, other)
            handle = start_server(settings, name)
            try:
                for level in levels:
                    row = bench_vllm(handle.base_url, name, prompts, level, example)
                    row["server_rss_gib"] = server_rss_gib(handle.pid)
                    row["seconds_to_ready"] = round(handle.seconds_to_ready, 1)
                    rows.append(row)
            finally:
                stop_server(settings, name)
        if "transformers" in args.backends:
            loaded: dict[str, Any] = {}
            for level in levels:
                rows.append(bench_transformers(model_folder(settings.data_dir, name), prompts, level, example, loaded))
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(
        "| model | backend | concurrency | requests | TTFT p50 s | tokens/s | drafts/min | valid at first try "
        "| wall s | server RSS GiB | ready s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['model']} | {r['backend']} | {r['concurrency']} | {r['requests']} | {r['ttft_p50_s']} "
            f"| {r['tokens_per_s']} | {r['drafts_per_min']} | {r['valid_first_try']:.0%} | {r['wall_s']} "
            f"| {r.get('server_rss_gib', '')} | {r.get('seconds_to_ready', '')} |"
        )


if __name__ == "__main__":
    main()
