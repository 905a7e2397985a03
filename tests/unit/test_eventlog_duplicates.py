"""Records read off the topics twice count once in the ledger (eventlog.TopicReader)."""

import uuid
from datetime import date

from flagstream.codec import Codec
from flagstream.domain.events import AttendanceMarksRecorded
from flagstream_tools.eventlog import TopicReader
from flagstream_tools.reconcile import LedgerLine, render_ledger
from ingest.ledger import LedgerRow

from .factories import T0, enrolment, mark

CODEC = Codec()


def test_the_same_messages_twice_count_once_each_on_the_topics() -> None:
    marks = [mark(f"child-{i}", date(2025, 9, 8), "AM", "/") for i in range(3)]
    register = CODEC.encode(AttendanceMarksRecorded(batch_id=uuid.uuid4(), marks=marks))
    joins = CODEC.encode_batch([enrolment("child-0"), enrolment("child-1")])
    reader = TopicReader(CODEC)
    for topic, value in [("a", register), ("e", joins), ("a", register), ("e", joins)]:
        reader.record(topic, value)
    log = reader.done()

    assert log.on_topics == {
        ("test", T0.date(), "attendance_mark"): 3,
        ("test", T0.date(), "enrolment"): 2,
    }
    assert log.duplicates == 5
    assert log.read == {"a": 2, "e": 2}
    assert log.last_day == date(2025, 9, 8)


def test_distinct_events_are_all_counted() -> None:
    reader = TopicReader(CODEC)
    for i in range(4):
        reader.record("e", CODEC.encode(enrolment(f"child-{i}")))
    log = reader.done()
    assert log.on_topics == {("test", T0.date(), "enrolment"): 4}
    assert log.duplicates == 0
    assert len(log.events) == 4


def test_the_ledger_says_how_many_were_on_the_topics_twice() -> None:
    line = LedgerLine(LedgerRow("test", T0.date(), "enrolment", 2, 2, 0, 2), 2)
    assert render_ledger([line]).count("\n") == 2
    assert render_ledger([line], 5).splitlines()[-1].endswith("each counted once above: 5")
