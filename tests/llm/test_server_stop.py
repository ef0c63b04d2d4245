"""Stopping an embedded server this process started returns as soon as the server has exited: the exited child
is reaped, not left a zombie that still counts as its process group's member until the grace runs out; and a
stop right after the start (as a failed start stops its server) knows the server for ours even when its
command line still reads empty."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from winback.config import Settings
from winback.llm.server import _pid_file, model_port, stop_server

MODEL = "qwen2.5-coder-1.5b-instruct"


def test_a_server_started_by_this_process_stops_at_once_without_waiting_out_the_grace(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, llm_port=9)
    for _ in range(10):  # right after Popen a third of command lines read empty here: ten starts meet one
        # a stand-in for the server: exits on SIGTERM, and its command line names vllm as the real one does
        server = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(120)", "vllm.entrypoints.openai.api_server"],
            start_new_session=True,
        )
        try:
            _pid_file(settings, model_port(settings, MODEL)).write_text(str(server.pid))
            started = time.monotonic()
            assert stop_server(settings, MODEL, grace_s=20.0)  # not taken for a stale pid
            assert time.monotonic() - started < 5.0  # the grace is 20 s: only a zombie would have waited it out
            assert server.poll() is not None  # gone, and reaped by the stop (no zombie left)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
