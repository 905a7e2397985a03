"""Publishes the durable record (the outbox) to Kafka in order, and keeps it right.

A record is marked sent once the broker has acknowledged it (acks=all) and stays in the table
until its retention. Every few seconds the drainer checks the topics it writes: while they are
missing or wrong it publishes nothing (uploads are still accepted into the table); when their
topic ids differ from those it last published into (a new or reset broker) it marks every kept
record unsent and publishes the whole record again, between two markers on the record-replays
topic. Any failure is retried with back-off; a record the broker refuses for good is parked
with its reason; the thread never dies quietly (`health()` says how it is).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka.errors import KafkaError
from sqlalchemy.exc import SQLAlchemyError

from flagstream.metrics import OutboxMetrics
from flagstream.replays import Marker, State

from ..store import Store
from .producer import PERMANENT, Producer, classify

log = logging.getLogger("flagstream.ingest.outbox")
CHECK_EVERY_S = 5.0
STALE_AFTER_S = 60.0
PRUNE_EVERY_S = 3600.0


@dataclass(frozen=True, slots=True)
class Health:
    """What /healthz and /readyz report of the drainer."""

    alive: bool
    ready: bool
    reason: str  # "ok", or a stable code: drainer_dead, broker_unavailable, ...
    detail: str


class Drainer:
    """Publishes the outbox oldest first; republishes it all onto a reset log."""

    def __init__(
        self,
        store: Store,
        producer: Callable[[], Producer],
        check_topics: Callable[[], dict[str, str]],
        replays_topic: str,
        name: str = "ingest",
        metrics: OutboxMetrics | None = None,
        batch: int = 500,
        timeout: float = 15.0,
        retention_days: int = 0,
        lease_s: float = 15.0,
    ) -> None:
        self._store, self._new_producer = store, producer
        self._check_topics, self._replays = check_topics, replays_topic
        self.name, self._metrics = name, metrics
        self._batch, self._timeout = batch, timeout
        self._retention, self._lease_s = retention_days, lease_s
        self._holder = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self._producer: Producer | None = None
        self._checked = 0.0  # when the topics were last found right (monotonic)
        self._replaying: int | None = None  # records in the replay under way
        self._leased = 0.0
        self._beat = time.monotonic()  # the end of the last pass, good or bad
        self._error: tuple[str, str] | None = None  # (reason, detail) of the last failed pass
        self._observed = 0.0  # when the gauges were last set
        self._pruned = 0.0  # when the retention was last applied
        self._thread: threading.Thread | None = None
        if metrics is not None:  # read at each scrape: a dead thread cannot report itself
            metrics.drainer_up.labels(name).set_function(lambda: float(self.health().alive))

    # -- one pass ---------------------------------------------------------------------------

    def drain_once(self) -> int:
        """Publish one batch; returns records acknowledged (0 when idle or not the drainer).
        Raises what went wrong; run() retries."""
        if not self._lease():
            return 0
        if time.monotonic() - self._checked > CHECK_EVERY_S:
            self._verify_log()
        rows = self._store.next_batch(self._batch)
        if not rows:
            self._finish_replay()
            return 0
        producer = self._producer_now()
        futures = [
            producer.send(r.topic, value=r.value, key=r.key, partition=r.partition) for r in rows
        ]
        acked: list[Any] = []
        try:
            for row, future in zip(rows, futures, strict=True):
                try:
                    future.get(timeout=self._timeout)
                except KafkaError as exc:
                    reason = PERMANENT.get(type(exc))
                    if reason is None:
                        raise
                    self._park(row, reason)
                    continue
                acked.append(row)
        finally:
            # Whatever was acknowledged is marked sent even if a later send failed.
            self._store.published(acked)
        return len(acked)

    def _lease(self) -> bool:
        now = time.monotonic()
        if now - self._leased > self._lease_s / 3:
            if not self._store.hold_lease(self.name, self._holder, self._lease_s):
                self._leased = 0.0
                return False
            self._leased = now
        return True

    def _verify_log(self) -> None:
        """Check the topics; on new topic ids, start publishing the whole record again."""
        ids = self._check_topics()  # raises TopicsNotReady
        stored = self._store.log_topics(self.name)
        if ids != stored:
            changed = sorted(t for t in ids if stored.get(t) != ids[t])
            if stored:
                log.warning(
                    "the topics are new or recreated (%s): publishing the whole durable record "
                    "again",
                    ", ".join(changed[:4]) + (" ..." if len(changed) > 4 else ""),
                )
                if self._metrics is not None:
                    self._metrics.log_resets.labels(self.name).inc()
            self._reset_producer()  # a new broker does not know this producer's id
            count = self._store.new_log(self.name, ids)
            self._mark("replaying", count)
            self._replaying = count
            log.info("publishing %d kept record(s) onto this log", count)
        self._checked = time.monotonic()

    def _finish_replay(self) -> None:
        if self._replaying is not None:
            self._mark("replayed", self._replaying)
            log.info("the durable record is on this log again (%d record(s))", self._replaying)
            self._replaying = None
        self._prune()

    def _mark(self, state: State, records: int) -> None:
        marker = Marker.now(self.name, state, records)
        future = self._producer_now().send(
            self._replays, value=marker.to_json(), key=self.name.encode(), partition=0
        )
        future.get(timeout=self._timeout)

    def _park(self, row: Any, reason: str) -> None:
        log.error(
            "the broker refused outbox record %d (%s on %s[%d]) for good: parked",
            row.id,
            reason,
            row.topic,
            row.partition,
        )
        self._store.park(row, reason)
        if self._metrics is not None:
            self._metrics.parked.labels(self.name, reason).inc()

    def _prune(self) -> None:
        # Hourly, not on every idle pass: retention is counted in days.
        if self._retention > 0 and time.monotonic() - self._pruned > PRUNE_EVERY_S:
            self._pruned = time.monotonic()
            pruned = self._store.prune(datetime.now(UTC) - timedelta(days=self._retention))
            if pruned:
                log.info("pruned %d record(s) past the %d-day retention", pruned, self._retention)

    def _producer_now(self) -> Producer:
        if self._producer is None:
            self._producer = self._new_producer()
        return self._producer

    def _reset_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=1)
            except Exception:  # closing a producer of a dead broker may fail in many ways
                log.debug("closing the old producer failed", exc_info=True)

    # -- the loop ---------------------------------------------------------------------------

    def run(self, stop: threading.Event, idle: float = 0.05, retry: float = 0.5) -> None:
        """Drain until stop is set. Every failure is logged once per kind, counted, and
        retried with back-off (from `retry` seconds, doubling to 30)."""
        wait = retry
        while not stop.is_set():
            try:
                sent = self.drain_once()
            except Exception as exc:
                reason, detail = classify(exc)
                if self._error is None or self._error[0] != reason:
                    log.warning(
                        "outbox %s: %s (%s); %d record(s) waiting; retrying with back-off",
                        self.name,
                        reason,
                        detail,
                        self._safe_pending(),
                    )
                self._error = (reason, detail)
                if self._metrics is not None:
                    self._metrics.errors.labels(self.name, reason).inc()
                self._checked = 0.0  # check the topics again before the next batch
                if reason == "broker_unavailable":
                    self._reset_producer()
                self._beat = time.monotonic()
                self._observe()
                stop.wait(wait)
                wait = min(wait * 2, 30.0)
                continue
            if self._error is not None:
                log.info("outbox %s: publishing again", self.name)
            self._error, wait = None, retry
            self._beat = time.monotonic()
            self._observe()
            if sent == 0:
                stop.wait(idle)
        self._reset_producer()
        try:
            self._store.release_lease(self.name, self._holder)
        except SQLAlchemyError:
            log.debug("could not release the lease", exc_info=True)

    def _safe_pending(self) -> int:
        try:
            return self._store.pending()
        except SQLAlchemyError:
            return -1

    def _observe(self, every: float = 1.0) -> None:
        metrics = self._metrics
        if metrics is None or time.monotonic() - self._observed < every:
            return
        self._observed = time.monotonic()
        try:
            depth, oldest = self._store.pending(), self._store.oldest_unsent()
        except SQLAlchemyError:
            return
        metrics.depth.labels(self.name).set(depth)
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
        metrics.oldest_age.labels(self.name).set(max(age, 0.0))
        metrics.replay_remaining.labels(self.name).set(depth if self._replaying is not None else 0)

    def health(self) -> Health:
        """Alive: the thread runs and finished a pass recently. Ready: also no failure now."""
        thread = self._thread
        if thread is not None and not thread.is_alive():
            return Health(False, False, "drainer_dead", "the outbox drainer thread has stopped")
        if time.monotonic() - self._beat > STALE_AFTER_S:
            return Health(False, False, "drainer_stuck", "no drainer pass for a minute")
        if self._error is not None:
            return Health(True, False, *self._error)
        return Health(True, True, "ok", "publishing")

    def start(self) -> tuple[threading.Thread, threading.Event]:
        """Run in a daemon thread; set the returned event to stop it."""
        stop = threading.Event()
        self._thread = threading.Thread(
            target=self.run, args=(stop,), name=f"outbox-{self.name}", daemon=True
        )
        self._thread.start()
        return self._thread, stop
