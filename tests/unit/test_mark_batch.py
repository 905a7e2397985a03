"""AttendanceMarksRecorded written as AttendanceMarkBatch (flagstream/mark_batch.py): the same
marks in the same order, each context once; the old form still reads; a mark naming a
context that is not there is refused; the projector's facts do not depend on the form."""

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


def test_a_batch_written_in_the_old_form_still_reads() -> None:
    event = interleaved()
    old = codec_module.shapes.recorder(AttendanceMarksRecorded)(event)
    data = CODEC.encode_record("AttendanceMarksRecorded", old)
    assert CODEC.decode(data) == event
    assert CODEC.decode_plain(data)[0] == "AttendanceMarksRecorded"
    # The projector's read hands it out in the compact form, as if written now.
    assert CODEC.read_plain(data) == CODEC.read_plain(CODEC.encode(event))
    assert CODEC.read_plain(data)[0].kind is AttendanceMarksRecorded


@pytest.mark.parametrize("position", [5, -1, 99])
def test_a_mark_naming_a_missing_context_is_refused(position: int) -> None:
    record = codec_module.mark_batch.to_batch(interleaved())
    record["marks"][3]["context"] = position
    data = CODEC.encode_record("AttendanceMarkBatch", record)
    for read in (CODEC.decode, CODEC.decode_plain, CODEC.decode_plain_all, CODEC.read_plain):
        with pytest.raises(CodecError) as err:
            read(data)
        assert err.value.reason == "bad_context"


def test_register_facts_are_the_same_in_either_form() -> None:
    event = interleaved()
    old = CODEC.decode_plain(
        CODEC.encode_record(
            "AttendanceMarksRecorded", codec_module.shapes.recorder(AttendanceMarksRecorded)(event)
        )
    )[1]
    new = CODEC.decode_plain(CODEC.encode(event))[1]
    facts = sorted(source_facts(AttendanceMarksRecorded, new))
    assert facts == sorted(register_facts(old["marks"]))
    assert len(facts) == 4  # a, b and c at 100001, and b at 100002
