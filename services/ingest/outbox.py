"""Drains the outbox to Kafka in order: a message leaves the table only once the broker has
acknowledged it (acks=all). While the broker is down, uploads keep being accepted into the
table; when it returns, the backlog drains."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from kafka import KafkaProducer
from kafka.errors import KafkaError

from .store import Store

log = logging.getLogger("flagstream.ingest.outbox")


class Producer(Protocol):
    """The part of KafkaProducer the drainer uses."""

    def send(self, topic: str, value: bytes, key: bytes, partition: int) -> Any: ...
    def close(self, timeout: float | None = None) -> None: ...


def kafka_producer(bootstrap: str) -> Producer:
    """An idempotent producer with acks=all that gives up quickly when the broker is away."""
    producer: Producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="flagstream-ingest",
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_request_size=8 * 1024 * 1024,
        max_block_ms=5000,
        request_timeout_ms=5000,
        reconnect_backoff_max_ms=1000,
    )
    return producer


class Drainer:
    """Publishes queued messages oldest first; resends what was not acknowledged."""

    def __init__(
        self,
        store: Store,
        producer: Callable[[], Producer],
        batch: int = 500,
        timeout: float = 15.0,
    ) -> None:
        self._store, self._new_producer = store, producer
        self._batch, self._timeout = batch, timeout
        self._producer: Producer | None = None

    def drain_once(self) -> int:
        """Send one batch; returns messages acknowledged (0 when idle). Raises KafkaError."""
        rows = self._store.next_batch(self._batch)
        if not rows:
            return 0
        if self._producer is None:
            self._producer = self._new_producer()
        futures = [
            self._producer.send(r.topic, value=r.value, key=r.key, partition=r.partition)
            for r in rows
        ]
        acked: list[Any] = []
        try:
            for row, future in zip(rows, futures, strict=True):
                future.get(timeout=self._timeout)
                acked.append(row)
        finally:
            # Whatever was acknowledged leaves the outbox even if a later send failed.
            self._store.published(acked)
        return len(acked)

    def _reset(self) -> None:
        # A broker that came back may not know this producer's id: start a fresh producer.
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=1)
            except Exception:  # closing a producer of a dead broker may fail in many ways
                log.debug("closing the old producer failed", exc_info=True)

    def run(self, stop: threading.Event, idle: float = 0.05, retry: float = 1.0) -> None:
        """Drain until stop is set; waits `retry` seconds after a broker failure."""
        while not stop.is_set():
            try:
                if self.drain_once() == 0:
                    stop.wait(idle)
            except KafkaError as exc:
                log.warning(
                    "broker unavailable, %d message(s) queued: %s", self._store.pending(), exc
                )
                self._reset()
                stop.wait(retry)
        self._reset()

    def start(self) -> tuple[threading.Thread, threading.Event]:
        """Run in a daemon thread; set the returned event to stop it."""
        stop = threading.Event()
        thread = threading.Thread(target=self.run, args=(stop,), name="outbox", daemon=True)
        thread.start()
        return thread, stop
