"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for the sending tests."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: Message


@dataclass
class Recorder:
    messages: list[Received] = field(default_factory=list)
    # recipient -> replies to give before accepting (e.g. ["451 try later"]); "550 ..." forever refuses
    replies: dict[str, list[str]] = field(default_factory=dict)
    on_message: Callable[[int], None] | None = None  # called with the count after each accepted message
    delay_s: float = 0.0  # how long the server takes over each message (a slow server widens any race)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        queued = self.replies.get(address)
        if queued:
            reply = queued[0]
            if not reply.startswith("550"):
                queued.pop(0)
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        parsed = message_from_bytes(envelope.content, policy=default)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        if self.on_message:
            self.on_message(len(self.messages))
        return f"250 2.0.0 Ok: queued as Q{len(self.messages):05d}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(recorder: Recorder | None = None) -> Iterator[tuple[str, Recorder]]:
    """(smtp://127.0.0.1:PORT, recorder) while the server runs."""
    recorder = recorder or Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", recorder
    finally:
        controller.stop()
