"""The flagger's workarounds for aiokafka (Faust's Kafka client), fenced in one place.

Each patch is process-wide, applied once by `apply()` from flagger.main.run before Faust
builds its clients, only on the brokers that need it, and says why it exists and how to
tell when it can go. Nothing here runs at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiokafka  # type: ignore[import-untyped]
from aiokafka.protocol.metadata import MetadataRequest  # type: ignore[import-untyped]

from .log_end import read_to_fetched_end

FETCH_WAIT_MS = 100
_APPLIED = "_flagstream_quirk"


def apply(bootstrap: list[str], embedded: bool, fetch_wait_ms: int = FETCH_WAIT_MS) -> list[str]:
    """The workarounds this process needs; returns their names. `embedded`: the cluster is
    the embedded broker (flagstream.topics.on_embedded_broker), whose own quirks need more."""
    never_auto_create_topics()
    cap_fetch_wait(fetch_wait_ms)
    applied = ["never_auto_create_topics", "cap_fetch_wait"]
    if embedded:
        # The embedded broker lists a partition's end as the start of its last record
        # batch, which stopped Faust's changelog recovery short (log_end.py says how to tell
        # it can go). Kafka lists the true end: there Faust's own recovery is left alone.
        read_to_fetched_end(bootstrap)
        applied.append("read_to_fetched_end")
    return applied


def _patched(function: Callable[..., Any]) -> Callable[..., Any]:
    setattr(function, _APPLIED, True)
    return function


def never_auto_create_topics() -> None:
    """Make aiokafka's metadata requests say allow_auto_topic_creation=False.

    Why: topics are created only by `flagstream topics create`, with their partitions and
    retention (flagstream/topics.py). aiokafka's MetadataRequest turns an unset
    allow_auto_topic_creation into True (aiokafka/protocol/metadata.py, `build`, request
    version 4 and later), and offers no setting to change it; a broker that honours the
    flag - the embedded one does, and Kafka with auto.create.topics.enable - then creates
    any topic a client merely asks about, with default partitions and retention, e.g. a
    changelog or output topic deleted by an operator, or a prefix typed wrong.
    When it can go: aiokafka defaults the flag to False or gains a client option for it
    (tests/unit/test_kafka_quirks.py fails with that message the day the default changes).
    Versions before 4 carry no flag: there the broker's own setting decides."""
    original = MetadataRequest.__init__
    if getattr(original, _APPLIED, False):
        return

    def init(
        self: Any, topics: list[str] | None = None, allow_auto_topic_creation: bool | None = None
    ) -> None:
        allow = False if allow_auto_topic_creation is None else allow_auto_topic_creation
        original(self, topics, allow)

    MetadataRequest.__init__ = _patched(init)


def cap_fetch_wait(max_ms: int) -> None:
    """Cap fetch_max_wait_ms of every aiokafka consumer this process builds.

    Why: Faust builds its consumer with fetch_max_wait_ms=1500 and no setting to change it;
    an idle fetch then holds new input back for up to 1.5 s, most of the flagger's live
    latency budget. When it can go: Faust exposes the consumer's fetch_max_wait_ms (check
    faust/transport/drivers/aiokafka.py, `_create_worker_consumer`)."""
    original = aiokafka.AIOKafkaConsumer.__init__
    if getattr(original, _APPLIED, False):
        return

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs["fetch_max_wait_ms"] = min(int(kwargs.get("fetch_max_wait_ms", 500)), max_ms)
        original(self, *args, **kwargs)

    aiokafka.AIOKafkaConsumer.__init__ = _patched(init)


def faust_producer(app: Any) -> Any:
    """Faust's own aiokafka producer, started, for the flagger's produce batches.

    Why: Faust's send() costs ~70 us a record (a FutureMessage, its buffer and callbacks);
    batches.py writes a checkpoint's records as aiokafka produce batches on the same
    producer, so they share its connection, settings and security. Faust has no public
    accessor for it; `_ensure_producer` is private (faust-streaming is pinned below 0.16 for
    this). When it can go: Faust offers a public producer accessor or a batch send."""
    return app.producer._ensure_producer()


def local_store(table: Any) -> Any:
    """A Faust table's local store (memory or RocksDB) as a mapping of raw bytes.

    Why: the flagger keeps children's state as objects and writes a checkpoint's changes
    itself (store.py, FaustTable): it reads the local store by key, and applies acknowledged
    changelog records to it with the store's own apply_changelog_batch, as Faust's recovery
    does. `Table.data` is documented by Faust but not as a write path; it is read here only.
    When it can go: the flagger's table becomes a custom faust.Store."""
    return table.data
