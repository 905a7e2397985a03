"""The checkpoint and BatchProducer in memory: windows, where output goes, and acks only after the
state is on the broker. A fake aiokafka producer stands in; the integration tests run the
real one against the embedded broker."""

import asyncio
import time
import uuid
from datetime import date
from typing import Any

import pytest

from flagger import checkpoint as pending_module
from flagger.batches import BatchProducer
from flagger.checkpoint import LIVE, MAX_WINDOW_S, Checkpoint, OutputTopics, Windows, windows_for
from flagger.handler import MessageHandler, Output
from flagstream.codec import Codec
from flagstream.domain.events import AttendanceMarksRecorded
from flagstream.domain.rules import default_config
from flagstream.metrics import service_metrics

from .factories import mark, sen

DAY = date(2025, 9, 8)
CODEC = Codec()
TOPICS = OutputTopics("changes", "snapshots")


class FakeBatch:
    def __init__(self, limit: int) -> None:
        self.records: list[tuple[bytes | None, bytes]] = []
        self.size, self.limit = 0, limit

    def append(self, *, key: bytes | None, value: bytes, timestamp: None) -> object | None:
        if self.records and self.size + len(value) > self.limit:
            return None  # as aiokafka: full, except that a first record always fits
        self.records.append((key, value))
        self.size += len(value)
        return object()


class FakeProducer:
    """create_batch/send_batch as aiokafka's; delivery completes when `deliver` is set."""

    def __init__(self, limit: int = 16_384) -> None:
        self.limit = limit
        self.sent: list[tuple[str, int, list[tuple[bytes | None, bytes]]]] = []
        self.deliver = asyncio.Event()
        self.deliveries: list[asyncio.Future[None]] = []
        self.deliver.set()

    def create_batch(self) -> FakeBatch:
        return FakeBatch(self.limit)

    async def send_batch(self, batch: FakeBatch, topic: str, *, partition: int) -> Any:
        self.sent.append((topic, partition, batch.records))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def later() -> None:
            await self.deliver.wait()
            done.set_result(None)

        self.deliveries.append(asyncio.ensure_future(later()))
        return done


class FakeEvent:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def ack(self) -> None:
        self.log.append("ack")


def make(producer: FakeProducer, log: list[str]) -> tuple[Checkpoint, MessageHandler]:
    handle = MessageHandler(CODEC, {}, default_config(), 4)

    async def changelog() -> int:
        log.append("changelog")
        return 0

    metrics = service_metrics("flagger-test")
    return Checkpoint(
        handle, CODEC, metrics, TOPICS, BatchProducer(lambda: producer), changelog
    ), handle


def output_of(handle: MessageHandler, *events: Any) -> Output:
    """What the handler makes of one message: a register of marks, or a batch of others."""
    if all(type(e).__name__ == "AttendanceMarkRecorded" for e in events):
        value = CODEC.encode(AttendanceMarksRecorded(batch_id=uuid.uuid4(), marks=list(events)))
    else:
        value = CODEC.encode_batch(list(events))
    return handle(value, 1)


async def test_records_keep_their_order_per_partition_across_full_batches() -> None:
    producer = FakeProducer(limit=10)
    batches = BatchProducer(lambda: producer)
    for i in range(5):
        batches.queue("t", 2, b"k", b"value-%d" % i)
    batches.queue("t", 0, None, b"x")
    assert len(batches) == 6
    assert await batches.send() == 6
    assert [(t, p) for t, p, _ in producer.sent] == [("t", 0)] + [("t", 2)] * 5
    assert [v for _, p, recs in producer.sent if p == 2 for _, v in recs] == [
        b"value-%d" % i for i in range(5)
    ]
    assert len(batches) == 0 and await batches.send() == 0


async def test_send_writes_changes_by_child_and_one_snapshot_batch_per_partition() -> None:
    producer, log = FakeProducer(), []
    pending, handle = make(producer, log)
    raised = output_of(handle, sen("c1", "K"))
    first = output_of(handle, mark("c1", DAY, "AM", "/"), mark("c2", DAY, "AM", "/"))
    cleared = output_of(handle, sen("c1", "N"))
    again = output_of(handle, mark("c1", DAY, "PM", "N"))
    for out in (raised, first, cleared, again):
        pending.add(FakeEvent(log), 1, out, time.time())
    await pending.send()
    topics = [(t, p) for t, p, _ in producer.sent]
    assert topics.count(("snapshots", 1)) == 1
    (_, _, records) = next(s for s in producer.sent if s[0] == "snapshots")
    snapshots = CODEC.decode(records[0][1]).snapshots
    assert [s.child_key for s in snapshots] == ["c1", "c2"]  # each child once, latest
    assert snapshots[0].event_id == again.snapshots[0].event_id  # c1's latest
    changes = [
        (k, CODEC.decode(v)) for t, _, recs in producer.sent if t == "changes" for k, v in recs
    ]
    assert all(k == c.child_key.encode() for k, c in changes)
    assert [(c.flag, c.change) for _, c in changes] == [("SEN", "RAISED"), ("SEN", "CLEARED")]
    assert log == []  # sending output acks nothing


async def test_input_is_acked_only_after_output_and_changelog_are_delivered() -> None:
    producer, log = FakeProducer(), []
    pending, handle = make(producer, log)
    pending.add(FakeEvent(log), 1, output_of(handle, mark("c1", DAY, "AM", "/")), time.time())
    producer.deliver.clear()
    flushing = asyncio.ensure_future(pending.flush())
    await asyncio.sleep(0.05)
    assert log == [] and not flushing.done()  # output not yet delivered: nothing acked
    producer.deliver.set()
    await flushing
    assert log == ["changelog", "ack"]
    assert pending.events == []


def test_windows_grow_with_the_backlogs_age_up_to_a_cap() -> None:
    assert windows_for(0.5) == windows_for(10.0) == LIVE
    assert windows_for(20.0) == Windows(send_s=5.0, flush_s=10.0)
    assert windows_for(7 * 24 * 3600) == Windows(send_s=MAX_WINDOW_S, flush_s=MAX_WINDOW_S)


def test_old_input_widens_the_windows_until_input_goes_quiet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pending, _ = make(FakeProducer(), [])
    pending.add(FakeEvent([]), 1, None, time.time())
    assert pending.windows == LIVE
    pending.add(FakeEvent([]), 1, None, time.time() - 3600)  # a replay of an hour ago
    assert pending.windows == windows_for(3600) != LIVE
    assert not pending.due()  # within the catching-up flush window
    later = time.monotonic() + pending_module.IDLE_S + LIVE.flush_s
    monkeypatch.setattr(pending_module.time, "monotonic", lambda: later)
    assert pending.windows == LIVE and pending.due()  # quiet: flush now, as live


def test_a_message_without_a_timestamp_keeps_the_pace() -> None:
    pending, _ = make(FakeProducer(), [])
    pending.add(FakeEvent([]), 1, None, time.time() - 3600)
    pending.add(FakeEvent([]), 1, None, 0.0)
    assert pending.windows != LIVE


def test_too_many_held_messages_force_a_flush(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pending_module, "FLUSH_EVERY", 3)
    pending, _ = make(FakeProducer(), [])
    for _ in range(2):
        pending.add(FakeEvent([]), 1, None, time.time() - 3600)
    assert not pending.due()
    pending.add(FakeEvent([]), 1, None, time.time() - 3600)
    assert pending.due()
