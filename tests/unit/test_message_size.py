"""A request's messages cut to the broker's size limit (partition_messages.split, Router)."""

from collections.abc import Sequence
from datetime import date, timedelta

from flagstream.codec import Codec
from flagstream.domain.events import AttendanceMarksRecorded
from flagstream.partition_messages import by_partition, split
from flagstream.topics import Topics, partition_for
from ingest.routing import Router

from .factories import enrolment, mark

CODEC = Codec()


def test_a_big_register_is_cut_into_messages_within_the_limit_in_order() -> None:
    days = [date(2025, 9, 8) + timedelta(days=d) for d in range(5)]
    marks = [
        mark(f"child-{i % 4_000}", days[i // 4_000], "AM" if i % 2 else "PM", "/")
        for i in range(20_000)
    ]
    router = Router(Topics("t"), 3, CODEC, max_message_bytes=50_000)
    messages = router.marks(marks)

    assert len(messages) > 3
    assert all(len(m.value) <= 50_000 for m in messages)
    for p in range(3):
        mine = [m for m in messages if m.partition == p]
        decoded = [CODEC.decode(m.value) for m in mine]
        assert all(isinstance(d, AttendanceMarksRecorded) for d in decoded)
        assert [len(d.marks) for d in decoded] == [m.records for m in mine]
        carried = [x for d in decoded for x in d.marks]
        assert carried == [x for x in marks if partition_for(x.child_key, 3) == p]
    assert sum(m.records for m in messages) == 20_000


def test_a_register_within_the_limit_stays_one_message_per_partition() -> None:
    marks = [mark(f"child-{i}", date(2025, 9, 8), "AM", "/") for i in range(300)]
    messages = Router(Topics("t"), 3, CODEC).marks(marks)
    assert [m.partition for m in messages] == [0, 1, 2]
    assert sum(m.records for m in messages) == 300


def test_partner_events_are_cut_within_the_limit_in_order() -> None:
    events = [enrolment(f"child-{i}") for i in range(900)]
    batches = by_partition(CODEC, events, 2, max_bytes=12_000)
    assert len(batches) > 2
    assert all(len(b.value) <= 12_000 for b in batches)
    for p in range(2):
        mine = [b for b in batches if b.partition == p]
        decoded = [CODEC.decode_all(b.value) for b in mine]
        assert [len(d) for d in decoded] == [b.events for b in mine]
        assert [e for d in decoded for e in d] == [
            e for e in events if partition_for(e.child_key, 2) == p
        ]
        assert all(partition_for(b.key.decode(), 2) == p for b in mine)


def test_an_event_too_big_alone_is_still_one_message() -> None:
    alone = enrolment("alone")
    (only,) = by_partition(CODEC, [alone], 1, max_bytes=10)
    assert only.events == 1
    assert CODEC.decode(only.value) == alone


def test_a_cut_still_too_big_is_halved() -> None:
    """Per-message overhead the whole's bytes per item hide: the estimate overshoots, the
    halving brings every run under the limit, in order."""
    calls: list[int] = []

    def encode(run: Sequence[int]) -> bytes:
        calls.append(len(run))
        return b"x" * (sum(run) + 40)  # 40 bytes of overhead a message

    items = [1] * 100
    runs = split(items, encode, 60)
    assert all(len(value) <= 60 for _, value in runs)
    assert [x for run, _ in runs for x in run] == items
    assert calls[0] == 100  # the whole, encoded once first


def test_one_item_over_the_limit_among_small_ones_stands_alone() -> None:
    runs = split([1, 1, 500, 1, 1], lambda run: b"x" * sum(run), 100)
    assert [list(run) for run, _ in runs].count([500]) == 1
    assert [x for run, _ in runs for x in run] == [1, 1, 500, 1, 1]
