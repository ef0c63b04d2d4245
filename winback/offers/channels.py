"""Where sent offers go: an SMTP server, an outbox folder of .eml files (with an index CSV an e-mail
service can import), or a webhook (JSON, HMAC-signed). Each `send` returns what the channel calls the
message (its queue id, file or id), or raises SendFailed saying whether trying again can help."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import hmac
import json
import os
import re
import smtplib
import ssl
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import httpx

from winback.config import Settings
from winback.errors import UserError

SMTP_TIMEOUT_S = 30.0
SAFE_FILE_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
WEBHOOK_TIMEOUT_S = 15.0


class SendFailed(Exception):
    def __init__(self, message: str, retry: bool, channel_down: bool = False) -> None:
        super().__init__(message)
        self.retry = retry  # a temporary problem (4xx reply, connection lost, 5xx webhook): try again later
        self.channel_down = channel_down  # nothing can be sent now (no connection, login refused): stop the run


class ChannelError(UserError, ValueError):
    pass


class Channel(Protocol):
    name: str

    def send(self, message: EmailMessage, payload: dict[str, Any]) -> str | None: ...

    def close(self) -> None: ...


class SmtpChannel:
    name = "smtp"

    def __init__(self, url: str, settings: Settings) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ChannelError(f"SMTP URL {url!r}: use smtp://host[:port] or smtps://host[:port]")
        self.host = parts.hostname
        self.tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.tls else 587)
        self.user = unquote(parts.username) if parts.username else settings.smtp_user
        password = unquote(parts.password) if parts.password else None
        self.password = password or (settings.smtp_password.get_secret_value() if settings.smtp_password else None)
        self.starttls = settings.smtp_starttls
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        try:
            smtp: smtplib.SMTP
            if self.tls:
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=SMTP_TIMEOUT_S, context=context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_S)
                smtp.ehlo()
                if self.starttls != "off" and smtp.has_extn("starttls"):
                    smtp.starttls(context=context)
                    smtp.ehlo()
                elif self.starttls == "required":
                    smtp.quit()
                    raise SendFailed(
                        f"{self.host}:{self.port} does not offer STARTTLS (WINBACK_SMTP_STARTTLS=required)", False
                    )
            if self.user and self.password:
                smtp.login(self.user, self.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise SendFailed(f"the mail server refused the login: {exc.smtp_code}", False, True) from None
        except (OSError, smtplib.SMTPException) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise SendFailed(f"cannot reach the mail server {self.host}:{self.port}: {reason}", True, True) from None
        return smtp

    def send(self, message: EmailMessage, payload: dict[str, Any]) -> str | None:
        if self._smtp is None:
            self._smtp = self._connect()
        smtp = self._smtp
        sender, recipient = str(payload["from"]), str(payload["to"])
        try:
            code, reply = smtp.mail(sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, sender)
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
            code, reply = smtp.data(message.as_bytes())
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
            return reply.decode("utf-8", "replace")[:300] or None
        except smtplib.SMTPRecipientsRefused as exc:
            self._reset()
            code = next(iter(exc.recipients.values()))[0]
            raise SendFailed(f"the mail server refused the recipient ({code})", 400 <= code < 500) from None
        except smtplib.SMTPResponseException as exc:
            self._reset()
            raise SendFailed(f"the mail server answered {exc.smtp_code}", 400 <= exc.smtp_code < 500) from None
        except UnicodeEncodeError:  # an address with non-ASCII letters, to a server without SMTPUTF8
            self._reset()
            raise SendFailed("the mail server does not take this address (it is not plain ASCII)", False) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise SendFailed(f"the mail server connection failed: {type(exc).__name__}", True) from None

    def _reset(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._smtp = None


class OutboxChannel:
    """One <offer_id>.eml per message (<file_stem>.eml for staff mail: alerts, briefings), written whole, then
    renamed into place, and a line in outbox.csv."""

    name = "outbox"
    INDEX_COLUMNS = ("message_id", "offer_id", "customer_id", "to", "subject", "redeem_code", "file")

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ChannelError(f"cannot create the outbox folder {folder}: {exc.strerror}") from None

    def send(self, message: EmailMessage, payload: dict[str, Any]) -> str | None:
        stem = str(payload.get("file_stem") or payload["offer_id"])
        if not SAFE_FILE_STEM.fullmatch(stem):  # ids come from imported data: "../../x" must not leave the folder
            raise SendFailed(f"the id {stem[:80]!r} cannot name a file (letters, digits, . _ - only)", False)
        target = self.folder / f"{stem}.eml"
        partial = target.with_suffix(".eml.partial")
        try:
            partial.write_bytes(message.as_bytes())
            os.replace(partial, target)
            index = self.folder / "outbox.csv"
            new = not index.exists()
            with index.open("a", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                if new:
                    writer.writerow(self.INDEX_COLUMNS)
                writer.writerow(
                    [
                        payload["message_id"],
                        payload.get("offer_id") or "",
                        payload.get("customer_id") or "",
                        payload["to"],
                        payload["subject"],
                        payload.get("redeem_code") or "",
                        target.name,
                    ]
                )
        except OSError as exc:
            raise SendFailed(f"cannot write {target}: {exc.strerror}", True) from None
        return target.name

    def close(self) -> None:
        return None


class WebhookChannel:
    """POST the offer as JSON; X-Winback-Signature = sha256=HMAC(secret, "<timestamp>.<body>")."""

    name = "webhook"

    def __init__(self, url: str, settings: Settings) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ChannelError(f"webhook URL {url!r}: use http:// or https://")
        if settings.webhook_secret is None:
            raise ChannelError("set WINBACK_WEBHOOK_SECRET: webhook sends are signed so the receiver can trust them")
        self.url = url
        self.secret = settings.webhook_secret.get_secret_value().encode()
        self.client = httpx.Client(timeout=WEBHOOK_TIMEOUT_S)

    def send(self, message: EmailMessage, payload: dict[str, Any]) -> str | None:
        body = json.dumps({k: v for k, v in payload.items() if k != "from"}, sort_keys=True).encode()
        stamp = str(int(time.time()))
        signature = hmac.new(self.secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-Winback-Timestamp": stamp,
            "X-Winback-Signature": f"sha256={signature}",
            "Idempotency-Key": str(payload["message_id"]),
        }
        try:
            response = self.client.post(self.url, content=body, headers=headers)
        except httpx.ConnectError:
            raise SendFailed(f"cannot reach the webhook {self.url}", True, True) from None
        except httpx.HTTPError as exc:
            raise SendFailed(f"the webhook did not answer: {type(exc).__name__}", True) from None
        if response.status_code >= 300:
            retry = response.status_code >= 500 or response.status_code == 429
            raise SendFailed(f"the webhook answered HTTP {response.status_code}", retry)
        try:
            answer = response.json()
        except ValueError:
            return None
        return str(answer.get("id"))[:300] if isinstance(answer, dict) and answer.get("id") else None

    def close(self) -> None:
        self.client.close()


def open_channel(spec: str, settings: Settings) -> Channel:
    """A channel from one setting: `smtp` (WINBACK_SMTP_URL) or an smtp:// / smtps:// URL, `outbox:DIR`, or
    `webhook:URL` (WINBACK_NOTIFY_CHANNEL uses this form)."""
    kind, _, rest = spec.partition(":")
    if kind == "smtp" and not rest:
        if not settings.smtp_url:
            raise ChannelError("the channel is smtp but WINBACK_SMTP_URL is not set")
        return SmtpChannel(settings.smtp_url, settings)
    if kind in ("smtp", "smtps"):
        return SmtpChannel(spec, settings)
    if kind == "outbox" and rest:
        return OutboxChannel(Path(rest).expanduser())
    if kind == "webhook" and rest:
        return WebhookChannel(rest, settings)
    raise ChannelError(f"channel {spec!r}: use smtp, smtp://host[:port], outbox:DIR or webhook:URL")
