"""Real alert receivers on loopback: an HTTP server for apprise ``json://`` webhooks and an SMTP
server (aiosmtpd) for ``mailto://``. Tests script their failures: error answers, a hang, a block."""
from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

DEADLINE = 60.0  # seconds any wait may take before the test fails; nothing asserts on speed


def wait_for(what: str, check: Callable[[], bool], deadline: float = DEADLINE) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` when the deadline passes."""
    end = time.monotonic() + deadline
    while not check():
        assert time.monotonic() < end, f"gave up waiting for {what}"
        time.sleep(0.05)


@dataclass
class Hook:
    """One request the webhook received: its path, headers and JSON body, and the status it got."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int

    @property
    def key(self) -> str:
        return self.body["redline"]["idempotency_key"]


@dataclass
class Webhook:
    """Records every POST; ``fail`` answers that many requests with 500, ``hang`` leaves that many
    unanswered until ``release`` (or 30 s), ``block_at`` holds request number N until ``release``."""

    fail: int = 0
    hang: int = 0
    block_at: int | None = None
    received: list[Hook] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def url(self, path: str = "/hook", query: str = "") -> str:
        assert self._server is not None
        return f"json://127.0.0.1:{self._server.server_port}{path}" + (f"?{query}" if query else "")

    def accepted(self) -> list[Hook]:
        with self._lock:
            return [h for h in self.received if h.status == 200]

    def _answer(self, path: str, headers: dict[str, str], raw: bytes) -> int:
        with self._lock:
            number = len(self.received) + 1
            status = 500 if self.fail > 0 else 200
            self.fail -= status == 500
            hang = self.hang > 0
            self.hang -= hang
        if hang or number == self.block_at:
            self.arrived.set()
            self.release.wait(30)
            status = 503 if hang else status
        with self._lock:
            self.received.append(Hook(path, headers, json.loads(raw), status))
        return status

    def start(self) -> Webhook:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = hook._answer(self.path, dict(self.headers), raw)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up (timeout) or was killed

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()


class Mailbox:
    """An SMTP server (aiosmtpd) on 127.0.0.1 keeping every message it accepts."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[EmailMessage] = []
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd naming)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def url(self) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=redline@example.com&to=desk@example.com"


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook().start()
    yield hook
    hook.stop()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.controller.start()
    yield box
    box.controller.stop()
