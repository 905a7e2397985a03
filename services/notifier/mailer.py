"""Email out through SMTP (stdlib smtplib: one message at a time from a worker thread needs
no event loop, and smtplib does STARTTLS, implicit TLS and AUTH).

The password comes from the settings (a file or the environment) and is never logged; an
error is reported by its class only (an SMTP reply can echo an address or a line of the
message back)."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Literal, Protocol

from flagstream.alerts import Outgoing


class Mailer(Protocol):
    def send(self, mail: Outgoing) -> None: ...


class SendFailed(Exception):
    """An email was not accepted; `reason` is safe to store and log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SmtpMailer:
    """Sends each email over a fresh SMTP connection (a few a minute: no pool needed)."""

    host: str
    port: int
    security: Literal["starttls", "tls", "none"]
    sender: str
    username: str = ""
    password: str | None = None
    timeout_s: float = 20.0
    context: ssl.SSLContext | None = None  # None: the system's trusted CAs

    def __repr__(self) -> str:  # never the password
        return f"SmtpMailer({self.host}:{self.port}, {self.security})"

    def message(self, mail: Outgoing) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = mail.address
        msg["Subject"] = mail.subject
        msg["Date"] = formatdate(usegmt=True)
        # The same id for the same ledger row: a mail system may drop a resend after a crash
        # between the server's acceptance and the ledger's "sent".
        domain = self.sender.rpartition("@")[2] or "flagstream.invalid"
        msg["Message-ID"] = f"<{mail.kind}.{_token(mail)}@{domain}>"
        msg.set_content(mail.body)
        return msg

    def send(self, mail: Outgoing) -> None:
        context = self.context or ssl.create_default_context()
        try:
            if self.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout_s, context=context
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
            with smtp:
                if self.security == "starttls":
                    smtp.starttls(context=context)
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(self.message(mail))
        except (smtplib.SMTPException, OSError) as exc:
            raise SendFailed(type(exc).__name__) from None


def _token(mail: Outgoing) -> str:
    key = f"{mail.message_id}\0{mail.recipient}".encode()
    return hashlib.sha256(key).hexdigest()[:32]
