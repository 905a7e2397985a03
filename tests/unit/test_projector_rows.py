"""The projector's cheap decode gives the same plain records as converting the domain event."""

from __future__ import annotations

import pytest

from flagstream import catalogue
from flagstream.codec import Codec
from flagstream.codec_plain import plain_of
from projector.rows import register_facts

from .test_codec import EXAMPLES

CODEC = Codec()


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: type(e).__name__)
def test_decode_plain_equals_the_plain_form_of_the_event(event: object) -> None:
    name, record = CODEC.decode_plain(CODEC.encode(event))
    expected = plain_of(event)
    assert (name, record) == (catalogue.schemas()[type(event)], expected.record)
    data = CODEC.encode(event)  # a ChildEventsRecorded is read as the events it carries
    assert CODEC.read_plain(data) == [plain_of(e) for e in CODEC.decode_all(data)]
    assert expected.kind is type(event)  # keyed by class, not by the schema name
    assert isinstance(record.get("recorded_at", 0), int)


def test_register_facts_keep_the_latest_time_and_day_per_child() -> None:
    marks = [
        {"child_key": "c1", "urn": "1", "recorded_at": 5, "date": 20},
        {"child_key": "c1", "urn": "1", "recorded_at": 9, "date": 19},
        {"child_key": "c2", "urn": "1", "recorded_at": 1, "date": 18},
    ]
    assert set(register_facts(marks)) == {
        ("c1", "1", "register", 9, 20),
        ("c2", "1", "register", 1, 18),
    }
