"""A door in front of the test run's one embedded LLM server, for the tests about a server that goes away.

The door listens on 127.0.0.1 where an embedded server of its own would (the model's port under the test's own
base port) and passes every byte through to the shared server. `close()` stops listening and cuts every open
connection, requests in flight included: what a client sees of a server that was killed (its connections
dropped mid-request, then nothing listening on the port). The shared server itself keeps running for the other
LLM tests, so a test run starts one vLLM server however many tests take theirs away.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from winback.config import Settings
from winback.llm.server import model_port


class LlmDoor:
    def __init__(self, port: int, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self._listener = socket.create_server(("127.0.0.1", port))
        self._listener.settimeout(0.2)
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._accepting = threading.Thread(target=self._accept, name="llm-door", daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._closed.is_set():
                    client.close()
                    server.close()
                    return
                self._open |= {client, server}
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                self._cut(end)

    def _cut(self, end: socket.socket) -> None:
        with suppress(OSError):
            end.shutdown(socket.SHUT_RDWR)
        end.close()
        with self._lock:
            self._open.discard(end)

    def close(self) -> None:
        """Stop listening and drop every connection, as a killed server's port does."""
        self._closed.set()
        self._listener.close()
        self._accepting.join(timeout=5)
        with self._lock:
            open_now = list(self._open)
        for end in open_now:
            self._cut(end)


@contextmanager
def llm_door(own: Settings, model: str, shared_base_port: int) -> Iterator[LlmDoor]:
    """A door on `model`'s port under `own.llm_port`, to the shared server of that model; closed on exit."""
    door = LlmDoor(model_port(own, model), model_port(own.model_copy(update={"llm_port": shared_base_port}), model))
    try:
        yield door
    finally:
        door.close()
