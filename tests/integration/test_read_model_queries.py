"""The documented screens on a small county whose answers are known, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select, text

from flagstream.domain.events import (
    ActiveFlag,
    AssessmentRecorded,
    AttendanceMarkRecorded,
    AttendanceMarksRecorded,
    ChildFlagsSnapshot,
    DayEnded,
    EnrolmentRecorded,
    FlagChanged,
    OutcomeRecorded,
    SchoolRecorded,
)
from projector.writer import Consumed, project
from readmodel import queries
from readmodel.change_tables import CHANGE_TABLES
from readmodel.db import create_schema, make_engine
from readmodel.tables import children, freshness, metadata

D1, D2, D3 = date(2025, 10, 1), date(2025, 10, 2), date(2025, 10, 3)
_ids = iter(range(1, 10**6))


def env(day: date = D1, hour: int = 9) -> dict[str, Any]:
    at = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    return {
        "event_id": uuid.UUID(int=next(_ids)),
        "source": "test",
        "occurred_at": at,
        "recorded_at": at,
    }


def change(child: str, urn: str, flag: str, kind: str, day: date) -> FlagChanged:
    return FlagChanged(
        **env(day), child_key=child, urn=urn, flag=flag, change=kind,  # type: ignore[arg-type]
        reason=f"{flag} {kind.lower()}", rule_version="v1", as_of=day,
    )  # fmt: skip


def snap(child: str, urn: str, day: date, *flags: tuple[str, str]) -> ChildFlagsSnapshot:
    active = [ActiveFlag(flag=f, reason=f"{f} evidence", raised_on=day, tier=t) for f, t in flags]
    return ChildFlagsSnapshot(
        **env(day, 18), child_key=child, urn=urn, nc_year=5, sex="F", as_of=day,
        possible_sessions=20, absent_sessions=4, flags=active, rule_version="v1",
    )  # fmt: skip


def outcome(child: str, response: str, status: str, day: date) -> OutcomeRecorded:
    return OutcomeRecorded(
        **env(day, 12), child_key=child, urn="100001", response=response, status=status,
        recorded_by="DSL", recorded_on=day,
    )  # fmt: skip


def marks(urn: str, day: date, *kids: str) -> AttendanceMarksRecorded:
    return AttendanceMarksRecorded(
        batch_id=uuid.UUID(int=next(_ids)),
        marks=[
            AttendanceMarkRecorded(
                **env(day, 8), child_key=k, urn=urn, date=day, session="AM", code="/"
            )
            for k in kids
        ],
    )


def county() -> list[tuple[str, Any]]:
    """(topic, event) in one plausible arrival order."""
    school = [
        ("100001", "Hartcombe Primary", "Lyne", "Northvale"),
        ("100002", "Lyne Academy", "Lyne", "Northvale"),
        ("100003", "Coastway First", "Coast", "Coastway"),
    ]
    events: list[tuple[str, Any]] = [
        ("schools", SchoolRecorded(**env(), urn=u, name=n, phase="PRIMARY", pyramid=p, zone=z))
        for u, n, p, z in school
    ]
    for child, urn, joined in (
        ("c1", "100001", date(2025, 9, 3)),
        ("c2", "100001", date(2025, 9, 3)),
        ("c3", "100002", date(2025, 9, 3)),
        ("c4", "100003", D2),
    ):
        events.append(
            ("enrolments", EnrolmentRecorded(
                **env(joined), child_key=child, urn=urn, nc_year=5, sex="F",
                month_of_birth="2015-01", joined_on=joined,
            ))
        )  # fmt: skip
    events += [("clock", DayEnded(**env(d, 23), day=d)) for d in (D1, D2, D3, D3)]  # a repeat
    events += [
        ("flags", change("c1", "100001", "ATTEND", "RAISED", D1)),
        ("flags", change("c2", "100001", "FSM", "RAISED", D1)),
        ("flags", change("c1", "100001", "ATTEND", "CLEARED", D2)),
        ("flags", change("c3", "100002", "SEN", "RAISED", D2)),
        ("flags", change("c1", "100001", "ATTEND", "RAISED", D3)),
        ("snap", snap("c1", "100001", D3, ("ATTEND", "severe"))),
        ("snap", snap("c2", "100001", D3, ("FSM", ""))),
        ("snap", snap("c3", "100002", D3, ("SEN", ""))),
        ("snap", snap("c4", "100003", D3)),
        ("outcomes", outcome("c1", "New", "No progress", D1)),
        ("outcomes", outcome("c1", "1:1", "Some progress", D2)),
        ("outcomes", outcome("c1", "1:1", "Good progress", D3)),
        ("outcomes", outcome("c2", "Continue to monitor", "Further risk", D3)),
        ("attendance", marks("100001", D3, "c1", "c2")),
        ("attendance", marks("100002", D2, "c3")),
    ]
    events.append(
        ("child-events", AssessmentRecorded(
            **env(D1), child_key="c1", urn="100001", assessment="KS2_READING", result="96",
            assessed_on=date(2025, 9, 20),
        ))
    )  # fmt: skip
    return events


def consumed(events: list[tuple[str, Any]]) -> Iterator[Consumed]:
    offsets: dict[str, int] = {}
    for topic, event in events:
        offsets[topic] = offsets.get(topic, -1) + 1
        yield Consumed(topic, 0, offsets[topic], event)


def load(url: str, batches: list[list[Consumed]]) -> Engine:
    engine = make_engine(url)
    create_schema(engine)
    for batch in batches:
        with engine.begin() as conn:
            project(conn, batch)
    return engine


def dump(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every table, row for row, in key order."""
    return {
        t.name: sorted(tuple(r) for r in conn.execute(select(t)))
        for t in metadata.sorted_tables
        if t.name != "projector_offsets" and t.name not in CHANGE_TABLES  # delivery, not rows
    }


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    records = list(consumed(county()))
    e = load(database_url, [records[i : i + 4] for i in range(0, len(records), 4)])
    yield e
    e.dispose()


def test_county_trend_and_zone_trends(engine: Engine) -> None:
    with engine.connect() as conn:
        assert queries.county_trend(conn) == [(D1, 2), (D2, 2), (D3, 3)]
        attend = [(r.day, r.zone, r.on_roll, r.flagged) for r in queries.zone_trend(conn, "ATTEND")]
        assert attend == [
            (D1, "Coastway", 0, 0), (D1, "Northvale", 3, 1),
            (D2, "Coastway", 1, 0), (D2, "Northvale", 3, 0),
            (D3, "Coastway", 1, 0), (D3, "Northvale", 3, 1),
        ]  # fmt: skip
        totals = [tuple(r) for r in queries.county_totals_by_zone(conn)]
        assert totals == [("Coastway", 1, 0, 0, 0, 0, 0, 0), ("Northvale", 3, 0, 1, 0, 1, 1, 3)]
        assert conn.scalar(text("SELECT COUNT(*) FROM zones")) == 2
        assert conn.scalar(text("SELECT schools FROM pyramids WHERE pyramid = 'Lyne'")) == 2


def test_school_children_have_the_original_columns(engine: Engine) -> None:
    with engine.connect() as conn:
        rows = queries.school_children(conn, "100001")
    assert tuple(rows[0]._fields) == ("child_key", *queries.SCHOOL_CHILDREN_COLUMNS)
    got = [tuple(r) for r in rows]
    assert got == [
        ("c1", 5, date(2025, 9, 20), "F", 1, "", "severe", "", "", "", "1:1", "Good progress",
         "improved", "improved"),
        ("c2", 5, None, "F", 1, "", "", "", "Y", "", "Continue to monitor", "Further risk",
         "new", "new"),
    ]  # fmt: skip


def test_huddle_list_register_freshness_and_re_referrals(engine: Engine) -> None:
    with engine.connect() as conn:
        huddle = [
            (r.child_key, r.flags, r.raised_since, r.cleared_since, r.reflagged_since)
            for r in queries.huddle_list(conn, "100001", D2)
        ]
        assert huddle == [("c1", "ATTEND", 1, 1, 1), ("c2", "FSM", 0, 0, 0)]
        late = [(r.urn, r.data_as_of) for r in queries.register_not_received(conn, D3)]
        assert late == [("100003", None), ("100002", D2)]
        reflags = [tuple(r) for r in queries.reflagged_by_zone(conn, D1)]
        assert reflags == [("Northvale", "ATTEND", 2, 1), ("Northvale", "FSM", 1, 0),
                           ("Northvale", "SEN", 1, 0)]  # fmt: skip
        c1 = conn.execute(select(children).where(children.c.child_key == "c1")).one()
        assert c1.last_register_at is not None and c1.last_assessment_at is not None
        assert c1.last_outcome_at is not None and "last_police_at" not in c1._fields
        fresh = conn.execute(select(freshness).where(freshness.c.source == "register")).all()
        assert {(r.urn, r.data_as_of) for r in fresh} == {("100001", D3), ("100002", D2)}


def test_order_batching_and_replays_do_not_change_any_table(database_url: str) -> None:
    records = list(consumed(county()))
    one = load(database_url, [records])
    with one.connect() as conn:
        expected = dump(conn)
    metadata.drop_all(one)
    with one.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    one.dispose()
    # Topics interleave differently each run, and a crash replays a whole batch.
    by_topic: dict[str, list[Consumed]] = {}
    for r in records:
        by_topic.setdefault(r.topic, []).append(r)
    reordered = [r for topic in sorted(by_topic, reverse=True) for r in by_topic[topic]]
    batches = [reordered[i : i + 3] for i in range(0, len(reordered), 3)]
    other = load(database_url, [*batches[:5], *batches[2:]])
    with other.connect() as conn:
        assert dump(conn) == expected
    other.dispose()


def test_trend_rows_for_every_school_day(engine: Engine) -> None:
    with engine.connect() as conn:
        days = {r[0] for r in conn.execute(text("SELECT DISTINCT day FROM daily_counts"))}
        assert len(days) == 3
        # ATTEND on D2 for Hartcombe: c1's flag cleared that day.
        assert (
            conn.scalar(
                text(
                    "SELECT flagged FROM daily_counts "
                    "WHERE urn = '100001' AND flag = 'ATTEND' AND day = :d"
                ),
                {"d": D2 - timedelta(days=0)},
            )
            == 0
        )
