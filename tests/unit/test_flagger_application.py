"""The flagger's application step without bytes or Kafka: decoded events in, the state left
in the store (behind the DurableTable protocol, a dict here) and the output to emit."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from flagger.handler import MessageHandler, Rejected
from flagger.state_codec import StateCodec
from flagstream.codec import Codec
from flagstream.domain import events as ev
from flagstream.domain.rules import default_config

from .factories import T0, enrolment, mark

CODEC = Codec()
D = date(2025, 9, 8)


def _tick(day: date) -> ev.DayEnded:
    return ev.DayEnded(event_id=uuid.uuid4(), source="t", occurred_at=T0, recorded_at=T0, day=day)


def test_decoded_events_leave_state_in_the_store_and_say_what_to_emit() -> None:
    table: dict[bytes, bytes] = {}
    handle = MessageHandler(CODEC, table, default_config(), 1, clock=lambda: T0)
    days = [D + timedelta(days=i) for i in range(12) if (D + timedelta(days=i)).weekday() < 5]
    marks = [mark("c1", d, s, "O") for d in days for s in ("AM", "PM")]  # type: ignore[arg-type]
    batch = ev.AttendanceMarksRecorded(batch_id=uuid.uuid4(), marks=marks)

    out = handle.apply(enrolment("c1"), 0)
    out = handle.apply(batch, 0)
    assert [(c.child_key, c.flag, c.change) for c in out.changes] == [("c1", "ATTEND", "RAISED")]
    assert [s.child_key for s in out.snapshots] == ["c1"]
    assert out.counts == {"attendance_mark": 2 * len(days)}  # 20 sessions: enough to judge
    assert table == {}  # nothing durable until the checkpoint writes state
    assert handle.flush() == 1
    state = StateCodec(CODEC).decode(table[b"c1"])
    assert state.as_of == days[-1] and [f.flag for f in state.flags] == ["ATTEND"]
    # A tick re-evaluates held children; a later one with nothing new changes nothing.
    assert handle.apply(_tick(days[-1]), 0).changes == []


def test_output_is_not_flagger_input() -> None:
    handle = MessageHandler(CODEC, {}, default_config(), 1, clock=lambda: T0)
    outcome = ev.OutcomeRecorded(
        event_id=uuid.uuid4(), source="d", occurred_at=T0, recorded_at=T0, child_key="c1",
        urn="100001", response="r", status="s", recorded_by="u", recorded_on=D,
    )  # fmt: skip
    with pytest.raises(Rejected):
        handle.apply(outcome, 0)
