"""A real SMTP server (aiosmtpd) that keeps what it receives, and the notifier run in a
thread against a running Stack: shared by the notifier's integration and browser tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from flagstream.alerts_database import prepare
from flagstream.codec import Codec
from flagstream.engine import make_engine
from flagstream.metrics import service_metrics
from flagstream.users_file import load_users
from flagstream_tools.broker import free_port
from flagstream_tools.demo.stack import Stack
from notifier.mailer import SmtpMailer
from notifier.runner import Notifier, notifier_metrics
from readmodel.db import make_engine as read_model_engine


@dataclass
class Mailbox:
    """What the SMTP server accepted, with when."""

    received: list[tuple[float, EmailMessage]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.received.append((time.monotonic(), parsed))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for _t, m in self.received if m["To"] == address]

    def wait_for(
        self, found: Callable[[EmailMessage], bool], timeout: float
    ) -> tuple[float, EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for at, m in self.received:
                    if found(m):
                        return at, m
            time.sleep(0.05)
        raise TimeoutError(f"no such email in {timeout}s; have {len(self.received)}")


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on a free loopback port (no TLS: loopback only)."""
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@contextmanager
def running_notifier(
    stack: Stack,
    users_file: Path,
    alerts_url: str,
    smtp_port: int,
    dashboard_url: str = "http://dashboard.example.invalid",
    from_beginning: bool = False,
    start_at_end: bool = False,
) -> Iterator[Notifier]:
    """The notifier consuming the stack's flag-change topic, in a thread until the block ends."""
    alerts_db = make_engine(alerts_url)
    prepare(alerts_db)
    notifier = Notifier(
        stack.broker.bootstrap,
        stack.topics.flag_changes,
        alerts_db,
        read_model_engine(stack.database_url),
        Codec(),
        load_users(users_file),
        SmtpMailer("127.0.0.1", smtp_port, "none", "flagstream@council.example.invalid"),
        notifier_metrics(service_metrics("notifier").registry),
        dashboard_url,
        from_beginning=from_beginning,
        start_at_end=start_at_end,
        retry_s=0.5,
    )
    errors: list[BaseException] = []

    def run() -> None:
        try:
            notifier.run()
        except BaseException as exc:  # surfaced by the test below
            errors.append(exc)

    thread = threading.Thread(target=run, name="notifier", daemon=True)
    thread.start()
    try:
        yield notifier
    finally:
        notifier.stop()
        thread.join(15)
        alerts_db.dispose()
    assert not errors, errors
