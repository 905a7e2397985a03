"""The demo's mail catcher: a real SMTP server (aiosmtpd) on loopback that writes every mail
it receives to a folder, so whoever runs the demo can read what the notifier sent."""

from __future__ import annotations

import itertools
import logging
import threading
from pathlib import Path
from typing import Any

from flagstream_tools.broker import free_port


class _Writer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._count = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        with self._lock:
            n = next(self._count)
        to = "".join(c if c.isalnum() or c in "@.-" else "_" for c in envelope.rcpt_tos[0])
        path = self.folder / f"{n:04d}-{to}.eml"
        path.write_bytes(envelope.content)
        path.chmod(0o600)
        return "250 OK"


class MailCatcher:
    """Start with start(), read the mails in `folder`, stop with stop()."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder, self.port = folder, port or free_port()
        self._controller: Any = None

    def start(self) -> MailCatcher:
        # aiosmtpd logs every SMTP command at INFO, and "Connection lost" after each QUIT
        # from smtplib: noise in the demo's terminal. Its warnings and errors still show.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        try:
            from aiosmtpd.controller import Controller
        except ImportError:  # a dev extra: `pip install -e '.[dev]'` or `pip install aiosmtpd`
            raise SystemExit(
                "the demo's mail catcher needs aiosmtpd: pip install aiosmtpd (or set "
                "FLAGSTREAM_SMTP_HOST to a mail server of your own)"
            ) from None
        self.folder.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(_Writer(self.folder), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def env(self) -> dict[str, str]:
        """The notifier's SMTP settings for this catcher (plain SMTP on loopback)."""
        return {
            "FLAGSTREAM_SMTP_HOST": "127.0.0.1",
            "FLAGSTREAM_SMTP_PORT": str(self.port),
            "FLAGSTREAM_SMTP_SECURITY": "none",
            "FLAGSTREAM_SMTP_FROM": "flagstream-demo@council.example.invalid",
        }
