"""A warm assistant for `winback ask`: one background process per data folder holds the loaded models
(embedder, router examples, LLM connection) and answers turns over a Unix socket, so a CLI turn costs the
CLI's start-up plus the turn, not a fresh load of everything.

The socket lives in `<data_dir>/run/` (a 0700 folder, the socket 0600): only the OS user who owns the data
can connect, the same trust as running `winback ask` in-process (which also takes --role from its caller).
A Unix socket's address holds about 100 bytes: where `<data_dir>/run/ask.sock` is longer, the socket goes to
`<temp folder>/winback-<uid>/ask-<hash of the data dir>.sock` instead (/tmp where the temp folder is that deep
too), a folder that must be this user's own and private (0700, not a link), or neither end uses it.
The first `winback ask` starts the daemon and waits for it; it stops after `WINBACK_ASK_DAEMON_IDLE_S`
seconds without a turn, on `winback daemon stop`, or when a caller's settings or winback's code differ
from its own (the caller then starts a fresh one). Events travel as JSON lines, the same ones `Assistant.stream` yields."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import socketserver
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from winback.config import Settings
from winback.errors import UserError

READY_TIMEOUT_S = 180.0  # a cold start loads the embedder and probes the LLM server


def run_dir(settings: Settings) -> Path:
    return settings.data_dir / "run"


SOCKET_PATH_MAX = 103  # bytes of a Unix socket's address, less its final NUL (Linux holds 108, macOS 104)


def socket_path(settings: Settings) -> Path:
    """`<data_dir>/run/ask.sock`, or a short name in this user's private temp folder when that is too long."""
    path = run_dir(settings) / "ask.sock"
    if len(os.fsencode(path)) <= SOCKET_PATH_MAX:
        return path
    digest = hashlib.sha256(os.fsencode(settings.data_dir.resolve())).hexdigest()[:16]
    short = Path(tempfile.gettempdir()) / f"winback-{os.getuid()}" / f"ask-{digest}.sock"
    if len(os.fsencode(short)) <= SOCKET_PATH_MAX:
        return short
    return Path("/tmp") / f"winback-{os.getuid()}" / f"ask-{digest}.sock"  # a temp folder that deep too


def socket_folder(settings: Settings) -> Path:
    """The socket's folder, created 0700 when missing; a shared temp folder's must be this user's own, private
    and not a link (another user could otherwise put a socket of theirs where ours is looked for)."""
    from winback.data.private import private_dir

    folder = socket_path(settings).parent
    if folder == run_dir(settings):
        return private_dir(folder)
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    found = folder.lstat()
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o077:
        raise UserError(f"{folder} is not a private folder of this user (0700, not a link): remove it and retry")
    return folder


PACKAGE = Path(__file__).resolve().parents[1]
CODE_SUFFIXES = {".py", ".toml", ".txt", ".sql", ".md"}


def code_mark(root: Path = PACKAGE) -> str:
    """When winback's code or prompts last changed (newest file time under the package): after an upgrade
    or an edit, a daemon still holding the old code is replaced instead of answering with it."""
    newest = max(
        (p.stat().st_mtime_ns for p in root.rglob("*") if p.suffix in CODE_SUFFIXES and p.is_file()), default=0
    )
    return str(newest)


def fingerprint(settings: Settings, planner: str | None = None) -> str:
    """The settings (and planner) a daemon was started with, and the code it runs: a caller with other
    settings, or newer code, gets a fresh daemon."""
    mark = f"{settings.model_dump_json()}|{planner}|{code_mark()}"
    return hashlib.sha256(mark.encode()).hexdigest()[:16]


def wire(event: Any) -> dict[str, Any]:
    """An assistant event as a JSON-able dict (a tool call as the fields the CLI prints)."""
    if event.kind == "tool_end":
        call = event.data["call"]
        return {"kind": "tool_end", "name": call.name, "ok": call.ok, "summary": call.result.summary,
                "seconds": call.seconds}  # fmt: skip
    if event.kind == "done":
        return {"kind": "done", "turn": event.data["turn"].to_dict()}
    return {"kind": event.kind, **event.data}


# -- the daemon -------------------------------------------------------------------------------------------
class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: Path, assistant: Any, mark: str) -> None:
        super().__init__(str(path), _Handler)
        self.assistant = assistant
        self.mark = mark
        self.last_turn = time.monotonic()
        self.busy = 0
        self.lock = threading.Lock()


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        request = json.loads(self.rfile.readline() or b"{}")
        if request.get("ping"):
            self._send({"kind": "pong", "pid": os.getpid()})
            return
        if request.get("stop") or request.get("fingerprint") != self.server.mark:
            self._send({"kind": "stopping", "reason": "asked to stop" if request.get("stop") else "other settings"})
            threading.Thread(target=self.server.shutdown, daemon=True).start()
            return
        with self.server.lock:
            self.server.busy += 1
        try:
            events = self.server.assistant.stream(
                request["question"], request.get("session"), request.get("role", "cs_staff"), request.get("user", "cli")
            )
            for event in events:
                self._send(wire(event))
        except Exception as exc:  # the caller gets one line; the daemon keeps serving
            self._send({"kind": "error", "message": f"{type(exc).__name__}: {str(exc).strip()[:300]}"})
        finally:
            with self.server.lock:
                self.server.busy -= 1
                self.server.last_turn = time.monotonic()

    def _send(self, message: dict[str, Any]) -> None:
        self.wfile.write(json.dumps(message, default=str).encode() + b"\n")
        self.wfile.flush()


def serve(settings: Settings, planner: str | None = None) -> None:
    """Warm up, listen, stop when idle. Runs in the foreground (the CLI detaches it)."""
    from winback.assistant import Assistant
    from winback.data.private import private_dir

    assistant = Assistant(settings, planner=planner)
    assistant.planner()  # the embedder and the router's example vectors
    assistant.planner_mode()  # the LLM capability probe (cached)
    assistant.ask("hello", role="cs_staff", remember=False)  # first-call imports of the tools
    folder = private_dir(run_dir(settings))
    path = socket_folder(settings) / socket_path(settings).name
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    server = _Server(path, assistant, fingerprint(settings, planner))
    os.chmod(path, 0o600)
    idle = settings.ask_daemon_idle_s

    def watch() -> None:
        while True:
            time.sleep(min(5.0, idle))
            with server.lock:
                quiet = server.busy == 0 and time.monotonic() - server.last_turn > idle
            if quiet:
                server.shutdown()
                return

    threading.Thread(target=watch, daemon=True).start()
    (folder / "ask.pid").write_text(str(os.getpid()))
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        with contextlib.suppress(FileNotFoundError):
            (folder / "ask.pid").unlink()


# -- the client -------------------------------------------------------------------------------------------
def _connect(settings: Settings) -> socket.socket | None:
    path = socket_path(settings)
    if not path.exists():
        return None
    socket_folder(settings)  # never talk to a socket in a folder another user could have placed it in
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
    except OSError:
        conn.close()
        return None
    return conn


def _exchange(conn: socket.socket, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    with conn, conn.makefile("rwb") as stream:
        stream.write(json.dumps(request).encode() + b"\n")
        stream.flush()
        for line in stream:
            yield json.loads(line)


def request_stop(settings: Settings) -> bool:
    """Ask this data folder's daemon to stop; False when none was running."""
    conn = _connect(settings)
    if conn is None:
        return False
    for _ in _exchange(conn, {"stop": True}):
        pass
    deadline = time.monotonic() + 10
    while socket_path(settings).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return True


def status(settings: Settings) -> dict[str, Any]:
    """Whether this data folder's daemon answers (a ping never stops it, whatever its settings)."""
    conn = _connect(settings)
    if conn is None:
        return {"running": False, "socket": str(socket_path(settings))}
    reply = next(_exchange(conn, {"ping": True}), {})
    return {"running": reply.get("kind") == "pong", "pid": reply.get("pid"), "socket": str(socket_path(settings))}


def start(settings: Settings, planner: str | None = None) -> None:
    """Start a detached daemon for this data folder (unless one answers) and wait until it listens."""
    from winback.data.private import private_dir

    folder = private_dir(run_dir(settings))
    with open(folder / "ask.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two first calls at once start one daemon
        if _connect(settings) is not None:
            return
        log = open(folder / "ask.log", "ab")  # noqa: SIM115 - handed to the child process
        command = [sys.executable, "-m", "winback.cli", "daemon", "start", "--foreground"]
        if planner:
            command += ["--planner", planner]
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, env=os.environ.copy()
        )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            conn = _connect(settings)
            if conn is not None:
                conn.close()
                return
            if process.poll() is not None:
                raise RuntimeError(f"the assistant daemon exited at start (log: {folder / 'ask.log'})")
            time.sleep(0.2)
        raise RuntimeError(f"the assistant daemon did not start in {READY_TIMEOUT_S:.0f} s (log: {folder / 'ask.log'})")


def ask(settings: Settings, request: dict[str, Any], planner: str | None = None) -> Iterator[dict[str, Any]]:
    """A turn through this data folder's daemon, starting (or restarting) it as needed."""
    request = {**request, "fingerprint": fingerprint(settings, planner)}
    for _attempt in range(2):
        conn = _connect(settings)
        if conn is None:
            start(settings, planner)
            conn = _connect(settings)
            if conn is None:
                raise RuntimeError("the assistant daemon is not answering")
        events = _exchange(conn, request)
        first = next(events, None)
        if first is None:
            raise RuntimeError("the assistant daemon closed the connection")
        if first.get("kind") == "stopping":  # it has other settings: wait for it to go, start ours
            deadline = time.monotonic() + 10
            while socket_path(settings).exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            continue
        yield first
        yield from events
        return
    raise RuntimeError("the assistant daemon kept stopping: run `winback daemon stop` and try again")
