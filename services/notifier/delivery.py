"""Email out of the ledger: each pending row sent once; a failure stays pending and is tried
again after a wait, until its attempts run out (then `failed`, for an operator)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from prometheus_client import Counter
from sqlalchemy import Engine

from flagstream import alerts

from .mailer import Mailer, SendFailed

log = logging.getLogger("flagstream.notifier")


class Delivery:
    """Sends the ledger's pending email through a mailer, recording each outcome."""

    def __init__(
        self,
        alerts_db: Engine,
        mailer: Mailer | None,
        messages: Counter,
        clock: Callable[[], datetime],
        max_attempts: int = 8,
        retry_s: float = 30.0,
    ) -> None:
        self._db, self._mailer, self._messages, self._clock = alerts_db, mailer, messages, clock
        self._max_attempts, self._retry_s = max_attempts, retry_s
        self._resume = 0.0  # monotonic time before which a failing server is left alone

    def deliver(self) -> int:
        """Send pending email from the ledger; returns how many the server accepted."""
        if self._mailer is None or time.monotonic() < self._resume:
            return 0
        with self._db.connect() as conn:
            todo = alerts.pending(conn)
        sent = 0
        for mail in todo:
            try:
                self._mailer.send(mail)
            except SendFailed as exc:
                give_up = mail.attempts + 1 >= self._max_attempts
                with self._db.begin() as conn:
                    alerts.mark_failed(conn, mail, exc.reason, give_up)
                self._messages.labels(mail.kind, "gave_up" if give_up else "failed").inc()
                log.warning(
                    "%s email not sent (%s), attempt %d%s",
                    mail.kind,
                    exc.reason,
                    mail.attempts + 1,
                    ": giving up" if give_up else f": again in {self._retry_s:.0f}s",
                )
                self._resume = time.monotonic() + self._retry_s
                break
            with self._db.begin() as conn:
                alerts.mark_sent(conn, mail, self._clock())
            self._messages.labels(mail.kind, "sent").inc()
            sent += 1
        return sent
