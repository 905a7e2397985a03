"""The notifier loop: read flag changes from the stored position, decide the messages, write
inbox and ledger rows and the new position in one transaction, then send what is pending.

Partitions are assigned explicitly, as the projector's are, and the position is stored in
the alerts database beside the ledger (not committed to a Kafka group): a crash after the
transaction re-reads nothing, a crash before it re-reads the batch and the ledger's key
drops every message already recorded. A replay (`from_beginning`) reads the whole topic
and sends nothing twice. Emails go out after the commit, from the ledger: a failed send
stays pending and is tried again after `retry_s`, until `max_attempts`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kafka import TopicPartition
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import Engine, select

from flagstream import alerts, kafka_clients
from flagstream.codec import Codec, CodecError
from flagstream.domain.events import FlagChanged
from flagstream.domain.rules import SENSITIVE
from flagstream.lag import fetched_ends
from flagstream.metrics import ConsumerMetrics, consumer_metrics
from flagstream.term_calendar import TermCalendar, england
from flagstream.users_file import User
from readmodel.tables import children

from . import rules, schedule
from .delivery import Delivery
from .mailer import Mailer

log = logging.getLogger("flagstream.notifier")


@dataclass(frozen=True, slots=True)
class NotifierMetrics:
    """Messages by kind and outcome (sent, failed, duplicate), and consumer health."""

    messages: Counter
    health: ConsumerMetrics


def notifier_metrics(registry: CollectorRegistry) -> NotifierMetrics:
    return NotifierMetrics(
        Counter(
            "flagstream_notifier_messages",
            "Notifier emails by kind and outcome: sent, failed (an attempt), gave_up, "
            "duplicate (already in the ledger: a replay or restart), inbox_only",
            ["kind", "outcome"],
            registry=registry,
        ),
        consumer_metrics(registry),
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Notifier:
    """Consumes the flag-change topic into the alerts store and sends its emails."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        alerts_db: Engine,
        read_model: Engine,
        codec: Codec,
        users: Mapping[str, User],
        mailer: Mailer | None,
        metrics: NotifierMetrics,
        dashboard_url: str,
        *,
        plan: schedule.Schedule | None = None,
        calendar: TermCalendar | None = None,
        from_beginning: bool = False,
        start_at_end: bool = False,
        max_attempts: int = 8,
        retry_s: float = 30.0,
        jobs_every_s: float = 30.0,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._topic, self._alerts, self._read, self._codec = topic, alerts_db, read_model, codec
        self._users, self._mailer, self._metrics = users, mailer, metrics
        self._url, self._plan = dashboard_url, plan or schedule.Schedule()
        self._calendar = calendar or england()
        self._from_beginning, self._start_at_end = from_beginning, start_at_end
        self._jobs_every_s, self._clock = jobs_every_s, clock
        self._next_jobs = 0.0
        self._delivery = Delivery(alerts_db, mailer, metrics.messages, clock, max_attempts, retry_s)
        self._stop = threading.Event()
        self._consumer = kafka_clients.consumer(
            bootstrap_servers=bootstrap,
            client_id="flagstream-notifier",
            enable_auto_commit=False,
            allow_auto_create_topics=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=100,  # the embedded broker holds a fetch to its deadline
        )
        self._parts: list[TopicPartition] = []

    def assign(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not (parts := self._consumer.partitions_for_topic(self._topic)):
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"topic {self._topic} not found: run `flagstream topics create` first"
                )
            time.sleep(0.5)
        self._parts = [TopicPartition(self._topic, p) for p in sorted(parts)]
        self._consumer.assign(self._parts)
        with self._alerts.connect() as conn:
            stored = {} if self._from_beginning else alerts.stored_offsets(conn)
        ends: dict[TopicPartition, int] = {}
        if self._start_at_end and not self._from_beginning:
            # The true ends (the embedded broker lists its last batch's base offset).
            ends = fetched_ends(self._consumer, self._parts)
        for tp in self._parts:
            at = stored.get((tp.topic, tp.partition), ends.get(tp))
            if at is None:
                self._consumer.seek_to_beginning(tp)
            else:
                self._consumer.seek(tp, at)

    def _recipients(self) -> rules.Recipients:
        with self._alerts.connect() as conn:
            prefs = alerts.all_prefs(conn)
        return rules.Recipients(dict(self._users), prefs)

    def _schools_of(self, keys: list[str]) -> dict[str, str]:
        """Each child's CURRENT school, from the read model (the event's as a fallback)."""
        if not keys:
            return {}
        with self._read.connect() as conn:
            rows = conn.execute(
                select(children.c.child_key, children.c.urn).where(children.c.child_key.in_(keys))
            )
            return {k: u for k, u in rows}

    def _decode(self, value: bytes) -> list[FlagChanged]:
        try:
            events = self._codec.decode_all(value)
        except CodecError as exc:
            self._metrics.health.undecodable.labels(self._topic).inc()
            log.error("undecodable flag change skipped (%s)", exc.reason)
            return []
        return [e for e in events if isinstance(e, FlagChanged)]

    def poll_once(self, timeout_ms: int = 500) -> int:
        """Read one batch, record its messages with the position, send pending email."""
        polled = self._consumer.poll(timeout_ms=timeout_ms, max_records=500)
        changes: list[FlagChanged] = []
        positions: dict[tuple[str, int], int] = {}
        for tp, records in polled.items():
            for r in records:
                changes += self._decode(r.value)
                positions[(tp.topic, tp.partition)] = r.offset + 1
        if positions:
            self._record(changes, positions)
        self._lag()
        if time.monotonic() >= self._next_jobs:
            self._next_jobs = time.monotonic() + self._jobs_every_s
            self.run_jobs()
        self.deliver()
        return len(changes)

    def _record(self, changes: list[FlagChanged], positions: dict[tuple[str, int], int]) -> None:
        raised = [c for c in changes if c.change == "RAISED" and c.flag in SENSITIVE]
        messages: list[alerts.Message] = []
        if raised:
            to = self._recipients()
            schools = self._schools_of([c.child_key for c in raised])
            for c in raised:
                urn = schools.get(c.child_key, c.urn)
                messages += rules.safeguarding(c, urn, to, self._url)
        with self._alerts.begin() as conn:
            fresh = alerts.record(conn, messages, self._clock())
            alerts.store_offsets(conn, positions)
        self._count(messages, fresh)

    def _count(self, messages: list[alerts.Message], fresh: list[alerts.Message]) -> None:
        new = {(m.message_id, m.recipient) for m in fresh}
        for m in messages:
            if m.address is None:
                outcome = "inbox_only"
            else:
                outcome = "queued" if (m.message_id, m.recipient) in new else "duplicate"
            self._metrics.messages.labels(m.kind, outcome).inc()

    def run_jobs(self) -> None:
        """The digests and late-register notice due now (each once, by the ledger)."""
        to = self._recipients()
        now = self._clock()
        with self._read.connect() as conn:
            due = schedule.due_messages(conn, now, self._plan, self._calendar, to, self._url)
        if not due:
            return
        with self._alerts.begin() as conn:
            fresh = alerts.record(conn, due, now)
        self._count(due, fresh)

    def deliver(self) -> int:
        """Send pending email from the ledger (delivery.py)."""
        return self._delivery.deliver()

    def _lag(self) -> None:
        behind = 0
        for tp in self._parts:
            high: Any = self._consumer.highwater(tp)
            if high is not None:
                behind += max(high - self._consumer.position(tp), 0)
        self._metrics.health.lag.labels("notifier").set(behind)

    def run(self) -> None:
        """Consume until stop() is called."""
        self.assign()
        log.info("notifier reading %s", self._topic)
        try:
            while not self._stop.is_set():
                self.poll_once()
        finally:
            self._consumer.close()

    def stop(self) -> None:
        self._stop.set()
