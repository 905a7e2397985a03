"""Email out of the ledger through a real SMTP server (aiosmtpd): a refused send stays
pending and is retried, a success is never sent again, a dead server is given up on after
the attempts run out, and SMTP AUTH works without the password reaching a log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, select

from flagstream import alerts
from flagstream.alerts_database import prepare
from flagstream.engine import make_engine
from flagstream_tools.broker import free_port
from notifier.delivery import Delivery
from notifier.mailer import SmtpMailer
from notifier.runner import notifier_metrics

NOW = datetime(2025, 9, 9, 8, tzinfo=UTC)
PASSWORD = "s3cret-smtp-password"


class Flaky:
    """Refuses the first `refuse` messages with a 451, then accepts."""

    def __init__(self, refuse: int) -> None:
        self.refuse = refuse
        self.accepted: list[Any] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        self.accepted.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'alerts.db'}")
    prepare(engine)
    with engine.begin() as conn:
        alerts.record(
            conn,
            [alerts.Message("e-1", "dsl1", "safeguarding", "Subject", "Body", "/x", "a@b.invalid")],
            NOW,
        )
    yield engine
    engine.dispose()


def serve(handler: Flaky, **options: Any) -> tuple[Controller, int]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return controller, port


def delivery(db: Engine, mailer: SmtpMailer, attempts: int = 8) -> Delivery:
    messages = notifier_metrics(CollectorRegistry()).messages
    return Delivery(db, mailer, messages, lambda: NOW, max_attempts=attempts, retry_s=0.0)


def ledger_row(db: Engine) -> tuple[str, int, str | None]:
    with db.connect() as conn:
        row = conn.execute(select(alerts.ledger)).one()
    return row.status, row.attempts, row.last_error


def test_a_refused_send_is_retried_and_a_sent_one_never_again(db: Engine) -> None:
    handler = Flaky(refuse=1)
    controller, port = serve(handler)
    try:
        out = delivery(db, SmtpMailer("127.0.0.1", port, "none", "from@c.invalid"))
        assert out.deliver() == 0
        assert ledger_row(db) == ("pending", 1, "SMTPDataError")
        assert out.deliver() == 1
        assert out.deliver() == 0
    finally:
        controller.stop()
    assert [m["Subject"] for m in handler.accepted] == ["Subject"]
    assert ledger_row(db)[:2] == ("sent", 2)


def test_a_dead_server_is_given_up_on_after_the_attempts(db: Engine) -> None:
    out = delivery(db, SmtpMailer("127.0.0.1", free_port(), "none", "f@c.invalid"), attempts=2)
    assert out.deliver() == 0 and out.deliver() == 0 and out.deliver() == 0
    assert ledger_row(db) == ("failed", 2, "ConnectionRefusedError")


def test_smtp_auth_without_the_password_in_a_log(
    db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[tuple[str, str]] = []

    def authenticate(
        _server: Any, _session: Any, _envelope: Any, _mechanism: str, auth: Any
    ) -> AuthResult:
        seen.append((auth.login.decode(), auth.password.decode()))
        return AuthResult(success=auth.password.decode() == PASSWORD)

    handler = Flaky(refuse=0)
    controller, port = serve(handler, authenticator=authenticate, auth_require_tls=False)
    mailer = SmtpMailer("127.0.0.1", port, "none", "from@c.invalid", "notifier", PASSWORD)
    try:
        with caplog.at_level(logging.DEBUG):
            assert delivery(db, mailer).deliver() == 1
    finally:
        controller.stop()
    assert seen == [("notifier", PASSWORD)]
    assert PASSWORD not in caplog.text and PASSWORD not in repr(mailer)


def test_the_demos_mail_catcher_writes_each_mail_to_its_folder(tmp_path: Path) -> None:
    import smtplib

    from flagstream_tools.demo.mail_catcher import MailCatcher

    catcher = MailCatcher(tmp_path / "mail").start()
    try:
        port = int(catcher.env()["FLAGSTREAM_SMTP_PORT"])
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
            smtp.sendmail(
                "f@c.invalid", ["dsl-100001@schools.example.invalid"], b"Subject: s\r\n\r\nhi\r\n"
            )
    finally:
        catcher.stop()
    [mail] = (tmp_path / "mail").iterdir()
    assert mail.name == "0001-dsl-100001@schools.example.invalid.eml"
    assert b"Subject: s" in mail.read_bytes()
