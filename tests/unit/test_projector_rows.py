"""The projector's cheap decode gives the same plain records as converting the domain event."""

from __future__ import annotations

import pytest

from flagstream.codec import Codec
from projector.rows import plain, register_facts

from .test_codec import EXAMPLES

CODEC = Codec()


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: type(e).__name__)
def test_decode_plain_equals_the_plain_form_of_the_event(event: object) -> None:
    name, record = CODEC.decode_plain(CODEC.encode(event))
    expected = plain(event)
    assert (name, record) == (expected.name, expected.record)
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
