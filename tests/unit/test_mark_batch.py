"""AttendanceMarksRecorded written as AttendanceMarkBatch (flagstream/mark_batch.py): the same
marks in the same order, each context once; the pre-batch schema is no longer read; a mark
naming a context that is not there is refused; the projector's facts do not depend on the
form."""

import uuid
from datetime import date, timedelta

import pytest

from flagstream import codec as codec_module
from flagstream.codec import CodecError
from flagstream.domain.events import AttendanceMarksRecorded
from projector.rows import register_facts, source_facts

from .factories import mark
from .test_codec import CODEC

DAY = date(2025, 9, 8)


def interleaved() -> AttendanceMarksRecorded:
    """AM and PM of two days for three children, a correction, and a second school."""
    marks = []
    for offset in (0, 1):
        for child in ("a", "b", "c"):
            marks += [
                mark(child, DAY + timedelta(days=offset), "AM", "/"),
                mark(child, DAY + timedelta(days=offset), "PM", "N"),
            ]
    marks += [mark("a", DAY, "AM", "L"), mark("b", DAY, "PM", "/", urn="100002")]
    return AttendanceMarksRecorded(batch_id=uuid.uuid4(), marks=marks)


def test_marks_come_back_in_order_with_each_context_written_once() -> None:
    event = interleaved()
    data = CODEC.encode(event)
    assert CODEC.decode(data) == event
    name, record = CODEC.decode_plain(data)
    assert name == "AttendanceMarkBatch"
    assert len(record["contexts"]) == 5  # (day, session) x 2 x 2, and the second school
    assert len(record["marks"]) == len(event.marks)


def test_the_pre_batch_schema_is_gone_from_the_codec() -> None:
    # A change of wire form is a new schema name; AttendanceMarksRecorded's own schema
    # (every mark in full) was read until issue 16 and is not any more: pre-release data.
    assert "AttendanceMarksRecorded" not in CODEC.schema_names
    assert CODEC.decode_plain(CODEC.encode(interleaved()))[0] == "AttendanceMarkBatch"


@pytest.mark.parametrize("position", [5, -1, 99])
def test_a_mark_naming_a_missing_context_is_refused(position: int) -> None:
    record = codec_module.mark_batch.to_batch(interleaved())
    record["marks"][3]["context"] = position
    data = CODEC.encode_record("AttendanceMarkBatch", record)
    for read in (CODEC.decode, CODEC.decode_plain, CODEC.decode_plain_all, CODEC.read_plain):
        with pytest.raises(CodecError) as err:
            read(data)
        assert err.value.reason == "bad_context"


def test_register_facts_are_the_same_batched_or_mark_by_mark() -> None:
    event = interleaved()
    one_by_one = [CODEC.decode_plain(CODEC.encode(m))[1] for m in event.marks]
    new = CODEC.decode_plain(CODEC.encode(event))[1]
    facts = sorted(source_facts(AttendanceMarksRecorded, new))
    assert facts == sorted(register_facts(one_by_one))
    assert len(facts) == 4  # a, b and c at 100001, and b at 100002
