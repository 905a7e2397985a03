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
    handle = MessageHandler(CODEC, table, RULES, partitions=1, clock=lambda: T0)
    out = handle(
        batch(
            *[mark("a", D + timedelta(days=i), s, "O") for i in range(3) for s in ("AM", "PM")],
            mark("b", D, "AM", "/"),
        ),
        0,
    )
    assert out.counts == {"attendance_mark": 7}
    assert sorted(s.child_key for s in out.snapshots) == ["a", "b"]
    assert [(c.child_key, c.change) for c in out.changes] == [("a", "RAISED")]
    # State is written to the table on flush, once per child however many marks it had.
    assert table == {} and handle.dirty == 2
    assert handle.flush() == 2 and handle.dirty == 0
    state = StateCodec(CODEC).decode(table[b"a"])
    assert state.register is not None and state.register.totals() == (6, 6)
    # Enrolment for a child with state: the snapshot carries the year group.
    out = handle(CODEC.encode(enrolment("a", nc_year=4)), 0)
    assert out.snapshots[0].nc_year == 4 and out.changes == []


def test_state_codec_round_trip() -> None:
    table: dict[bytes, bytes] = {}
    handle = MessageHandler(CODEC, table, RULES, partitions=1)
    handle(batch(*[mark("a", D, "AM", "O")] * 5), 0)
    handle.flush()
    codec = StateCodec(CODEC)
    assert codec.encode(codec.decode(table[b"a"])) == table[b"a"]


def test_day_end_tick_expires_a_notification_for_the_children_of_its_partition() -> None:
    import uuid as _uuid

    from flagstream.domain.events import DayEnded, DomesticAbuseNotified
    from flagstream.topics import partition_for

    table: dict[bytes, bytes] = {}
    handle = MessageHandler(CODEC, table, RULES, partitions=4, clock=lambda: T0)
    children = ["kid-1", "kid-2", "kid-3", "kid-4", "kid-5", "kid-6"]

    def tick(on: date) -> DayEnded:
        return DayEnded(
            event_id=_uuid.uuid4(), source="clock", occurred_at=T0, recorded_at=T0, day=on
        )

    for child in children:
        notice = DomesticAbuseNotified(
            event_id=_uuid.uuid4(),
            source="police",
            occurred_at=T0,
            recorded_at=T0,
            child_key=child,
            urn="100001",
            incident_on=D,
            child_present=True,
        )
        # A notification leaves the as-of date alone (the flags others see are evaluated on
        # the same day either way): the day's tick raises SAFEGUARD, never FAMILY.
        assert handle(CODEC.encode(notice), partition_for(child, 4)).changes == []
    owned = [c for c in children if partition_for(c, 4) == partition_for("kid-1", 4)]
    out = handle(CODEC.encode(tick(D)), partition_for("kid-1", 4))
    assert sorted(c.child_key for c in out.changes) == sorted(owned)
    assert {(c.flag, c.change) for c in out.changes} == {("SAFEGUARD", "RAISED")}
    later = tick(D + timedelta(days=40))
    out = handle(CODEC.encode(later), partition_for("kid-1", 4))
    assert sorted(c.child_key for c in out.changes) == sorted(owned)
    assert {(c.flag, c.change) for c in out.changes} == {("SAFEGUARD", "CLEARED")}
    # A repeated tick changes nothing.
    assert handle(CODEC.encode(later), partition_for("kid-1", 4)).changes == []
