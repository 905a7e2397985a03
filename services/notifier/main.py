"""Composition root of the notifier: settings -> engines, users, mailer -> loop."""

from __future__ import annotations

import logging
import signal
from types import FrameType

from flagstream import kafka_clients
from flagstream.alerts_database import prepare
from flagstream.codec import Codec
from flagstream.engine import make_engine
from flagstream.metrics import serve, service_metrics
from flagstream.settings import NotifierSettings
from flagstream.topics import Topics
from flagstream.users_file import UsersFile, UsersFileError
from readmodel.db import create_schema
from readmodel.db import make_engine as read_model_engine

from .mailer import SmtpMailer
from .runner import Notifier, notifier_metrics
from .schedule import Schedule

log = logging.getLogger("flagstream.notifier")


def mailer_of(settings: NotifierSettings) -> SmtpMailer | None:
    """The SMTP mailer, or None when no host is set (inbox only)."""
    if not settings.smtp_host:
        log.warning("FLAGSTREAM_SMTP_HOST is not set: the notifier writes inbox rows only")
        return None
    return SmtpMailer(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_security,
        settings.smtp_from,
        settings.smtp_username,
        settings.smtp_secret(),
        settings.smtp_timeout_s,
    )


def build(settings: NotifierSettings, from_beginning: bool = False) -> Notifier:
    """The notifier wired to its databases, users file, SMTP server and Kafka."""
    kafka_clients.use(settings)
    try:
        users = UsersFile(settings.notifier_users_file)
    except UsersFileError as exc:
        raise SystemExit(str(exc)) from None
    alerts_db = make_engine(settings.alerts_database_url)
    prepare(alerts_db)
    read_model = read_model_engine(settings.database_url)
    create_schema(read_model)  # The notifier may start before the projector.
    metrics = service_metrics("notifier")
    own = notifier_metrics(metrics.registry)
    serve(metrics, settings.notifier_metrics_port)
    plan = Schedule(
        settings.notifier_timezone,
        settings.notifier_registers_cutoff,
        settings.notifier_operations_email,
    )
    return Notifier(
        settings.require_kafka(),
        Topics(settings.topic_prefix).flag_changes,
        alerts_db,
        read_model,
        Codec(settings.schemas_dir),
        users,
        mailer_of(settings),
        own,
        settings.notifier_dashboard_url,
        plan=plan,
        calendar=settings.calendar(),
        from_beginning=from_beginning,
        start_at_end=settings.notifier_start == "end",
        max_attempts=settings.notifier_max_attempts,
        retry_s=settings.notifier_retry_s,
    )


def run(settings: NotifierSettings, from_beginning: bool = False) -> None:
    """Notify until SIGTERM/SIGINT; /metrics on the notifier metrics port."""
    notifier = build(settings, from_beginning)

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        notifier.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    notifier.run()
