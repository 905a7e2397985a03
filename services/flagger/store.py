"""Child state held as objects in memory, written to the durable table only on flush.

A changelog write per child per message (docs/architecture.md, "Throughput") caps the
flagger near a few thousand marks a second. So the working state is a plain dict of
ChildState objects; `flush()` encodes the children changed since the last flush and
writes each once. The Faust agent acks its input only after a flush, so the committed
offsets never run ahead of the durable state: after a crash the unacked messages are
delivered again onto the state as flushed, and the deterministic output ids let the
sinks drop the repeats.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable, MutableMapping
from typing import Any, Protocol

from faust.types import TP

from flagstream.domain.state import ChildState
from flagstream.topics import partition_for

from . import kafka_quirks
from .batches import BatchProducer
from .state_codec import StateCodec

# Table keys starting with NUL are the handler's own records, never a child.
CONTROL = b"\x00"


class DurableTable(Protocol):
    """Where encoded state lives between runs (the Faust table and its changelog)."""

    def get(self, key: bytes) -> bytes | None: ...
    def stored_keys(self) -> Iterable[bytes]: ...
    def put(self, partition: int, key: bytes, value: bytes) -> None: ...


class MappingTable:
    """A plain mapping as the durable table (tests, the in-process benchmark)."""

    def __init__(self, data: MutableMapping[bytes, bytes]) -> None:
        self.data = data

    def get(self, key: bytes) -> bytes | None:
        """The stored bytes, if any."""
        return self.data.get(key)

    def stored_keys(self) -> Iterable[bytes]:
        """Every stored key."""
        return list(self.data)

    def put(self, partition: int, key: bytes, value: bytes) -> None:
        """Store (the partition matters only to a changelog)."""
        self.data[key] = value


class ChangelogRecord:
    """A changelog record the broker has acknowledged, shaped as the Faust event (and its
    message) that a store's apply_changelog_batch reads during recovery."""

    __slots__ = ("key", "offset", "partition", "tp", "value")

    def __init__(self, key: bytes, value: bytes, tp: TP, offset: int) -> None:
        self.key, self.value, self.tp, self.offset = key, value, tp, offset
        self.partition = tp.partition

    @property
    def message(self) -> ChangelogRecord:
        """The event's message: the same record."""
        return self


class FaustTable:
    """The Faust table as durable storage: its changelog topic first, then the local store
    (memory, or RocksDB on disk), written to the partition that owns the key.

    Changelog records are queued by put() and written by send() as produce batches
    (batches.py) rather than through Faust's send_changelog; the records are the same (raw
    key and value, in the owning partition), so Faust's recovery reads them as its own.
    Only once the broker has acknowledged them are they applied to the local store, through
    the store's own apply_changelog_batch and with the offsets the broker gave them - as
    Faust's recovery applies what it reads. So the local store never holds what the
    changelog lacks, and a RocksDB store's persisted offset (where recovery resumes
    reading the changelog after a restart) is the last record it holds. Until then get()
    answers from the records held here."""

    def __init__(self, table: Any, changelog: BatchProducer) -> None:
        self._table, self._changelog = table, changelog
        self._held: dict[bytes, bytes] = {}  # put, not yet in the local store
        self._sending = asyncio.Lock()  # one send at a time: the store gets them in order

    def get(self, key: bytes) -> bytes | None:
        """The latest bytes put or stored, if any."""
        held = self._held.get(key)
        if held is not None:
            return held
        value = kafka_quirks.local_store(self._table).get(key)
        return bytes(value) if value is not None else None

    def stored_keys(self) -> Iterable[bytes]:
        """Every key in the local store (the partitions this worker holds) or held."""
        keys = list(kafka_quirks.local_store(self._table).keys())
        if not self._held:
            return keys
        stored = set(keys)
        return keys + [k for k in self._held if k not in stored]

    def put(self, partition: int, key: bytes, value: bytes) -> None:
        """Hold the record; it goes to the changelog, then the local store, on send()."""
        self._held[key] = value
        self._changelog.queue(self._topic, partition, key, value)

    @functools.cached_property
    def _topic(self) -> str:
        return str(self._table.changelog_topic.get_topic_name())

    async def send(self) -> int:
        """Write the queued changelog records, wait until the broker has them all, then
        apply them to the local store; returns how many."""
        async with self._sending:
            written = await self._changelog.send_located()
            records = [
                ChangelogRecord(key, value, TP(w.topic, w.partition), w.base_offset + i)
                for w in written
                for i, (key, value) in enumerate(w.records)
                if key is not None
            ]
            if records:
                self._table.apply_changelog_batch(records)
            for record in records:
                if self._held.get(record.key) is record.value:  # not put again since
                    del self._held[record.key]
            return len(records)


def control_key(name: str, partition: int, partitions: int) -> bytes:
    """A control record's key that the default partitioner puts in `partition`, so the
    worker that owns the partition recovers it with the partition's children."""
    n = 0
    while True:
        key = CONTROL + f"{name}/{partition}/{n}".encode()
        if partition_for(key.decode(), partitions) == partition:
            return key
        n += 1


class ChildStates:
    """The working set: decoded states by key, which are dirty, and who each partition owns."""

    def __init__(self, table: DurableTable, codec: StateCodec, partitions: int) -> None:
        self._table, self._codec, self._partitions = table, codec, partitions
        self._states: dict[bytes, ChildState] = {}
        self._dirty: dict[bytes, int] = {}
        self._owned: dict[int, set[bytes]] | None = None

    def load(self, key: bytes, partition: int) -> ChildState:
        """A child's state (new if unknown); `partition` is the one its events arrive on."""
        state = self._states.get(key)
        if state is None:
            raw = self._table.get(key)
            state = self._codec.decode(raw) if raw else ChildState(key.decode())
            self._states[key] = state
            self.owned(partition).add(key)
        return state

    def save(self, key: bytes, partition: int, state: ChildState) -> None:
        """Keep a changed state; it reaches the durable table on the next flush."""
        self._states[key] = state
        self._dirty[key] = partition

    def owned(self, partition: int) -> set[bytes]:
        """Every child key of a partition (one scan of the durable table per process)."""
        if self._owned is None:
            self._owned = {}
            for key in self._table.stored_keys():
                if not key.startswith(CONTROL):
                    p = partition_for(key.decode(), self._partitions)
                    self._owned.setdefault(p, set()).add(key)
        return self._owned.setdefault(partition, set())

    @property
    def dirty(self) -> int:
        """Children changed since the last flush."""
        return len(self._dirty)

    def flush(self) -> int:
        """Write every changed child once; returns how many."""
        dirty, self._dirty = self._dirty, {}
        for key, partition in dirty.items():
            self._table.put(partition, key, self._codec.encode(self._states[key]))
        return len(dirty)

    def forget(self) -> None:
        """Drop the working set (after a rebalance another worker may own some children)."""
        if self._dirty:
            raise RuntimeError("flush before forgetting: changed children would be lost")
        self._states.clear()
        self._owned = None
