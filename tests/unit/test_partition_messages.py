"""Partner events -> one message per partition (flagstream/partition_messages.py)."""

import pytest

from flagstream import partition_messages
from flagstream.codec import Codec
from flagstream.partition_messages import by_partition
from flagstream.topics import partition_for

from .factories import enrolment

CODEC = Codec()


def test_each_partition_gets_one_message_with_its_events_in_order() -> None:
    events = [enrolment(f"child-{i}") for i in range(200)]
    batches = by_partition(CODEC, events, 6)
    assert [b.partition for b in batches] == sorted({b.partition for b in batches})
    assert sum(b.events for b in batches) == 200
    for b in batches:
        decoded = CODEC.decode_all(b.value)
        assert len(decoded) == b.events
        assert all(partition_for(e.child_key, 6) == b.partition for e in decoded)
        assert decoded == [e for e in events if partition_for(e.child_key, 6) == b.partition]
        assert partition_for(b.key.decode(), 6) == b.partition


def test_a_lone_event_is_published_as_itself() -> None:
    alone = enrolment("alone")
    (only,) = by_partition(CODEC, [alone], 6)
    assert only.events == 1
    assert CODEC.decode(only.value) == alone


def test_big_requests_are_cut_into_messages_of_at_most_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(partition_messages, "MAX_EVENTS_PER_MESSAGE", 7)
    events = [enrolment(f"child-{i}") for i in range(60)]
    batches = by_partition(CODEC, events, 2)
    assert max(b.events for b in batches) == 7
    assert [e for b in batches for e in CODEC.decode_all(b.value)] == sorted(
        events, key=lambda e: partition_for(e.child_key, 2)
    )
