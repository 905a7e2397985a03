"""Composition root of `flagstream validator`: read partners' raw topics from the offsets kept
in ingest's database (explicit assignment, no consumer group), validate each batch into the
validator's outbox with the next offsets, and drain that outbox to Kafka."""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType

from kafka import TopicPartition

from flagstream import kafka_clients
from flagstream.codec import Codec
from flagstream.metrics import serve, service_metrics
from flagstream.settings import IngestSettings
from flagstream.topics import Topics, TopicsNotReady, check_topics, topic_specs

from .db import identity_writer, make_engine, restricted_writer
from .intake import Intake
from .kinds import KINDS
from .main import drainer as outbox_drainer
from .main import pseudonymiser, registry_lookup
from .routing import Router
from .store import Store, raw_outbox
from .transfers import identity_mover
from .validator import RawRecord, Validator

log = logging.getLogger("flagstream.validator")


RAW_LOG = "validator-raw"


def check_raw_topics(bootstrap: str, topics: Topics, partitions: int, store: Store) -> None:
    """The raw topics must exist as `flagstream topics create` makes them. Raw topics new or
    recreated since the validator last read them (a reset broker) are read from their start:
    their stored offsets belong to the old log."""
    specs = [
        s for s in topic_specs(topics, partitions, [k.name for k in KINDS]) if s.role == "partner"
    ]
    try:
        found = check_topics(bootstrap, specs)
    except TopicsNotReady as exc:
        log.critical("%s", exc)
        raise SystemExit(2) from None
    ids = {name: d.topic_id or "" for name, d in found.items()}
    kept = store.log_topics(RAW_LOG)
    changed = sorted(t for t in ids if kept and kept.get(t) != ids[t])
    if changed:
        log.warning("raw topics new or recreated, read from their start: %s", ", ".join(changed))
        store.forget_offsets(changed)
    store.keep_log_topics(RAW_LOG, ids)


class RawConsumer:
    """Feeds the validator from every partition of the raw topics."""

    def __init__(self, bootstrap: str, validator: Validator, batch: int = 1000) -> None:
        self._validator, self._batch = validator, batch
        self._consumer = kafka_clients.consumer(
            bootstrap_servers=bootstrap,
            client_id="flagstream-validator",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            allow_auto_create_topics=False,
        )
        self._tps: list[TopicPartition] = []
        self.totals = [0, 0, 0]  # received, accepted, rejected

    def assign(self, timeout: float = 60.0) -> None:
        """Take every partition of every raw topic and seek to the stored offsets."""
        deadline = time.monotonic() + timeout
        self._tps = []
        for topic in sorted(self._validator.kinds):
            while not (parts := self._consumer.partitions_for_topic(topic)):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"raw topic {topic} not found; is the broker reachable?")
                time.sleep(0.2)
            self._tps += [TopicPartition(topic, p) for p in sorted(parts)]
        self._consumer.assign(self._tps)
        self.rewind()

    def rewind(self) -> None:
        """Back to the last committed offsets (after a batch that failed to store)."""
        stored = self._validator.offsets()
        for tp in self._tps:
            offset = stored.get((tp.topic, tp.partition))
            if offset is None:
                self._consumer.seek_to_beginning(tp)
            else:
                self._consumer.seek(tp, offset)

    def poll_once(self, timeout_ms: int = 500) -> int:
        """Validate one polled batch; returns records consumed."""
        polled = self._consumer.poll(timeout_ms=timeout_ms, max_records=self._batch)
        records = [
            RawRecord(tp.topic, tp.partition, r.offset, r.key, r.value, list(r.headers or ()))
            for tp, batch in polled.items()
            for r in batch
        ]
        if not records:
            return 0
        summary = self._validator.process(records)
        for i, n in enumerate((summary.received, summary.accepted, summary.rejected)):
            self.totals[i] += n
        return len(records)

    def run(self, stop: threading.Event, retry: float = 2.0) -> None:
        """Consume until stop is set; a batch that cannot be stored is read again later."""
        shown, last = time.monotonic(), list(self.totals)
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:  # registry or database away: nothing was committed
                log.exception("batch not stored; reading it again in %gs", retry)
                stop.wait(retry)
                self.rewind()
            if time.monotonic() - shown > 10 and self.totals != last:  # progress, not noise
                shown, last = time.monotonic(), list(self.totals)
                received, accepted, rejected = last
                log.info(
                    "validated %d raw records: %d accepted, %d rejected",
                    received,
                    accepted,
                    rejected,
                )
        self._consumer.close()


def run(settings: IngestSettings) -> None:
    """Validate partners' raw topics until SIGTERM/SIGINT; /metrics on its own port."""
    kafka_clients.use(settings)
    key = pseudonymiser(settings)
    bootstrap = settings.require_kafka()
    topics = Topics(settings.topic_prefix)
    store = Store(make_engine(settings.ingest_database_url), raw_outbox)
    check_raw_topics(bootstrap, topics, settings.partitions, store)
    metrics = service_metrics("validator")
    serve(metrics, settings.validator_metrics_port)
    validator = Validator(
        store,
        Router(
            topics,
            settings.partitions,
            Codec(settings.schemas_dir),
            max_message_bytes=settings.kafka_max_message_bytes,
        ),
        key,
        Intake.utc_now,
        topics,
        registry=registry_lookup(settings.schema_registry_url)
        if settings.schema_registry_url
        else None,
        identities=identity_writer(identity_db := make_engine(settings.identity_database_url)),
        metrics=metrics,
        restricted=restricted_writer(identity_db),
        moves=identity_mover(identity_db),
    )
    consumer = RawConsumer(bootstrap, validator)
    consumer.assign()
    drainer, drain_stop = outbox_drainer(settings, store, "validator", metrics).start()
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("validating %s", ", ".join(sorted(validator.kinds)))
    try:
        consumer.run(stop)
    finally:
        drain_stop.set()
        drainer.join(timeout=30)
