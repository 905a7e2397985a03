"""FaustTable over Faust's real stores (memory, and RocksDB on disk through rocksdict): the
local store gets a record only once the broker has acknowledged it, with the offset the
broker gave it, so a RocksDB store's persisted offset is the last changelog record it holds.
The producer is a fake that gives offsets as a broker would; test_flagger_restart.py runs
the real one."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, NamedTuple

import faust
import pytest
from faust.types import TP

from flagger.batches import BatchProducer
from flagger.store import FaustTable
from flagstream.topics import FLAGGER_APP_ID, FLAGGER_TABLE, Topics

CHANGELOG = Topics().flagger_changelog


class Metadata(NamedTuple):
    offset: int


class FakeBatch:
    def __init__(self, limit: int) -> None:
        self.records: list[tuple[bytes | None, bytes]] = []
        self.limit = limit

    def append(self, *, key: bytes | None, value: bytes, timestamp: None) -> object | None:
        if len(self.records) >= self.limit:
            return None
        self.records.append((key, value))
        return object()


class FakeProducer:
    """A log per topic partition; a batch's delivery resolves to its first record's offset,
    as aiokafka's send_batch future does; `hold` delays deliveries."""

    def __init__(self, limit: int = 2) -> None:
        self.limit = limit
        self.logs: dict[tuple[str, int], list[tuple[bytes | None, bytes]]] = {}
        self.hold = asyncio.Event()
        self.hold.set()
        self.deliveries: list[asyncio.Future[None]] = []

    def create_batch(self) -> FakeBatch:
        return FakeBatch(self.limit)

    async def send_batch(self, batch: FakeBatch, topic: str, *, partition: int) -> Any:
        log = self.logs.setdefault((topic, partition), [])
        base = len(log)
        log.extend(batch.records)
        done: asyncio.Future[Metadata] = asyncio.get_running_loop().create_future()

        async def later() -> None:
            await self.hold.wait()
            done.set_result(Metadata(base))

        self.deliveries.append(asyncio.ensure_future(later()))
        return done


def make(tmp_path: Path, store: str) -> tuple[Any, FaustTable, FakeProducer]:
    app = faust.App(
        FLAGGER_APP_ID,
        broker="kafka://127.0.0.1:1",
        store=store,
        datadir=str(tmp_path / "data"),
        key_serializer="raw",
        value_serializer="raw",
        web_enabled=False,
    )
    table = app.Table(FLAGGER_TABLE, default=None, partitions=2, key_type=bytes, value_type=bytes)
    producer = FakeProducer()
    return table, FaustTable(table, BatchProducer(lambda: producer)), producer


@pytest.mark.parametrize("store", ["memory://", "rocksdb://"])
async def test_records_reach_the_store_only_once_acknowledged(tmp_path: Path, store: str) -> None:
    table, durable, producer = make(tmp_path, store)
    durable.put(0, b"a", b"a1")
    durable.put(1, b"b", b"b1")
    assert durable.get(b"a") == b"a1"  # answered from what is held
    assert table.data.get(b"a") is None  # the store does not have it yet
    assert sorted(durable.stored_keys()) == [b"a", b"b"]

    producer.hold.clear()
    sending = asyncio.ensure_future(durable.send())
    await asyncio.sleep(0.01)
    durable.put(0, b"a", b"a2")  # put again while the first is on its way
    assert table.data.get(b"a") is None
    producer.hold.set()
    assert await sending == 2
    assert table.data.get(b"a") == b"a1" and table.data.get(b"b") == b"b1"
    assert durable.get(b"a") == b"a2"  # the newer value is still held, not lost
    assert await durable.send() == 1
    assert table.data.get(b"a") == b"a2" and durable.get(b"a") == b"a2"
    assert producer.logs[(CHANGELOG, 0)] == [(b"a", b"a1"), (b"a", b"a2")]


async def test_rocksdb_persists_the_offset_of_the_last_record_of_each_partition(
    tmp_path: Path,
) -> None:
    table, durable, producer = make(tmp_path, "rocksdb://")
    for n in range(5):  # three batches in partition 0 (two records a batch)
        durable.put(0, f"k{n}".encode(), f"v{n}".encode())
    durable.put(1, b"x", b"x0")
    assert await durable.send() == 6
    producer.logs[(CHANGELOG, 1)].append((b"other", b"worker"))  # another worker's record
    durable.put(1, b"y", b"y0")
    assert await durable.send() == 1
    assert table.data.persisted_offset(TP(CHANGELOG, 0)) == 4
    assert table.data.persisted_offset(TP(CHANGELOG, 1)) == 2  # x at 0, other at 1, y at 2
    assert {k: bytes(table.data[k]) for k in (b"k0", b"k4", b"x", b"y")} == {
        b"k0": b"v0",
        b"k4": b"v4",
        b"x": b"x0",
        b"y": b"y0",
    }
