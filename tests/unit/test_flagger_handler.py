import uuid
from datetime import date, timedelta

from flagger.handler import MessageHandler
from flagger.state_codec import StateCodec
from flagstream.codec import Codec
from flagstream.domain.events import AttendanceMarksRecorded
from flagstream.domain.rules import RuleConfig, default_config
from flagstream.domain.rules.attend import AttendSettings

from .factories import T0, enrolment, mark

CODEC = Codec()
RULES = RuleConfig(
    "v", {**default_config().flags, "ATTEND": AttendSettings(min_possible_sessions=4)}
)
D = date(2025, 9, 8)


def batch(*marks: object) -> bytes:
    return CODEC.encode(AttendanceMarksRecorded(batch_id=uuid.uuid4(), marks=list(marks)))


def test_one_snapshot_per_child_per_message_and_state_in_the_table() -> None:
    table: dict[bytes, bytes] = {}
    handle = MessageHandler(CODEC, table, RULES, clock=lambda: T0)
    out = handle(
        batch(
            *[mark("a", D + timedelta(days=i), s, "O") for i in range(3) for s in ("AM", "PM")],
            mark("b", D, "AM", "/"),
        )
    )
    assert out.counts == {"attendance_mark": 7}
    assert sorted(s.child_key for s in out.snapshots) == ["a", "b"]
    assert [(c.child_key, c.change) for c in out.changes] == [("a", "RAISED")]
    state = StateCodec(CODEC).decode(table[b"a"])
    assert state.register is not None and state.register.totals() == (6, 6)
    # Enrolment for a child with state: the snapshot carries the year group.
    out = handle(CODEC.encode(enrolment("a", nc_year=4)))
    assert out.snapshots[0].nc_year == 4 and out.changes == []


def test_state_codec_round_trip() -> None:
    table: dict[bytes, bytes] = {}
    MessageHandler(CODEC, table, RULES)(batch(*[mark("a", D, "AM", "O")] * 5))
    codec = StateCodec(CODEC)
    assert codec.encode(codec.decode(table[b"a"])) == table[b"a"]
