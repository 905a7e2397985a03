"""The batch oracle's term to date, against numbers counted by hand from a small log, and
reconcile catching a read model whose term figures are not the oracle's."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update

from flagstream.domain import events as ev
from flagstream.domain.flagging import step
from flagstream.domain.rules import default_config
from flagstream.domain.state import ChildState
from flagstream.term_calendar import england, parse_term_calendar, term_start_lookup
from flagstream_tools.oracle import recompute_children
from flagstream_tools.oracle_term import TermField, TermToDate, comparable, term_fields_differing
from flagstream_tools.reconcile import (
    differences,
    from_oracle,
    from_read_model,
    render_differences,
    terms_not_compared,
)
from projector.writer import Consumed, project
from readmodel.db import create_schema, make_engine
from readmodel.tables import children, restricted_flags

T = datetime(2025, 9, 1, tzinfo=UTC)
CONFIG = default_config()
ENGLAND = england()
AUTUMN, SPRING = date(2025, 9, 3), date(2026, 1, 5)  # England's 2025/26 terms start


def _mark(child: str, day: str, session: str, code: str) -> ev.AttendanceMarkRecorded:
    return ev.AttendanceMarkRecorded(
        event_id=uuid.uuid4(), source="t", occurred_at=T, recorded_at=T,
        child_key=child, urn="100001", date=date.fromisoformat(day), session=session,  # type: ignore[arg-type]
        code=code,
    )  # fmt: skip


# One child's autumn 2025 (Autumn 1 from Wed 3 September to 24 October, half term 27-31
# October, Autumn 2 from 3 November), each line's sessions counted by hand.
LOG = [
    _mark("c1", "2025-09-02", "AM", "/"),  # before the term starts: the year's only
    _mark("c1", "2025-09-02", "PM", "O"),
    _mark("c1", "2025-09-03", "AM", "/"),  # possible 2, absent 1 (I: authorised)
    _mark("c1", "2025-09-03", "PM", "I"),
    _mark("c1", "2025-09-04", "AM", "O"),  # possible 2, absent 2 (O: unauthorised)
    _mark("c1", "2025-09-04", "PM", "O"),
    _mark("c1", "2025-09-05", "AM", "X"),  # possible 1 (X: not possible), absent 0
    _mark("c1", "2025-09-05", "PM", "/"),
    _mark("c1", "2025-10-24", "AM", "B"),  # possible 2 (B: approved activity), absent 1 (G)
    _mark("c1", "2025-10-24", "PM", "G"),
    _mark("c1", "2025-11-03", "AM", "M"),  # after the half-term break: possible 2, absent 1
    _mark("c1", "2025-11-03", "PM", "/"),
    _mark("c1", "2025-11-04", "AM", "/"),  # corrected below: possible 1, absent 1 (N)
    _mark("c1", "2025-11-04", "PM", "L"),  # possible 1 (L: late, present)
    _mark("c1", "2025-11-04", "AM", "N"),
    _mark("c1", "2025-11-06", "AM", "U"),  # after the as-of date: not counted
]
AS_OF = date(2025, 11, 5)  # a Wednesday of Autumn 2
HAND = TermToDate(AUTUMN, 11, 6)  # 2+2+1+2+2+1+1 possible, 1+2+0+1+1+1+0 absent


def _term(log: list[Any], as_of: date, **kw: Any) -> TermToDate | None:
    return recompute_children(log, as_of, CONFIG, **kw)["c1"].term


def test_the_term_counts_from_the_autumn_term_across_its_half_term() -> None:
    assert _term(LOG, AS_OF) == HAND
    assert _term(LOG, AS_OF, calendar=ENGLAND) == HAND
    # In the Christmas holiday the figures are still the autumn term's, the 6 November U too.
    assert _term(LOG, date(2025, 12, 24)) == TermToDate(AUTUMN, 12, 7)


def test_the_spring_term_after_christmas_counts_only_its_own_marks() -> None:
    spring = [
        *LOG,
        _mark("c1", "2025-12-19", "AM", "O"),  # the autumn term's last day
        _mark("c1", "2026-01-05", "AM", "/"),
        _mark("c1", "2026-01-05", "PM", "U"),
        _mark("c1", "2026-01-06", "AM", "C"),
        _mark("c1", "2026-01-06", "PM", "Y1"),  # not possible
    ]
    assert _term(spring, date(2026, 1, 7)) == TermToDate(SPRING, 3, 2)


def test_1_september_before_the_autumn_term_has_counted_nothing() -> None:
    assert _term(LOG, date(2025, 9, 2)) == TermToDate(AUTUMN, 0, 0)


def test_a_date_outside_the_calendar_has_no_term() -> None:
    assert _term([_mark("c1", "2030-01-07", "AM", "O")], date(2030, 1, 8)) == TermToDate(None, 0, 0)


def test_the_council_calendar_sets_the_term_start() -> None:
    council = parse_term_calendar(
        '[[half_term]]\nlabel = "Autumn 1"\nschool_year = "2025/26"\n'
        "starts = 2025-09-04\nends = 2025-10-24\n"
    )
    # From Thursday 4 September: the 3 September sessions (1 absent of 2) are not the term's.
    assert _term(LOG, AS_OF, calendar=council) == TermToDate(date(2025, 9, 4), 9, 5)


def test_the_oracle_term_equals_the_flaggers_snapshot() -> None:
    # The flagger's as-of date is its latest mark's (6 November); the oracle's as of it too.
    s = step(ChildState("c1"), LOG, CONFIG, "flagger", T, term_of=ENGLAND.term_start_of).snapshot
    assert s is not None and s.as_of == date(2025, 11, 6)
    found = TermToDate(s.term_start, s.term_possible_sessions, s.term_absent_sessions)
    assert found == _term(LOG, s.as_of) == TermToDate(AUTUMN, 12, 7)


def test_a_side_without_term_figures_differs_only_if_the_other_counted_sessions() -> None:
    assert term_fields_differing(TermToDate(AUTUMN, 0, 0), None) == ()
    assert term_fields_differing(None, TermToDate(AUTUMN, 2, 1)) == (
        TermField("term_start", None, AUTUMN),
        TermField("term_possible_sessions", None, 2),
        TermField("term_absent_sessions", None, 1),
    )
    # A row from before migration 0010 (NULL, 0, 0): the same as a date with no term.
    assert term_fields_differing(TermToDate(None, 0, 0), TermToDate(None, 0, 0)) == ()
    assert term_fields_differing(TermToDate(AUTUMN, 0, 0), TermToDate(None, 0, 0)) == (
        TermField("term_start", AUTUMN, None),
    )


def test_a_row_as_of_an_earlier_term_is_not_compared() -> None:
    oracle = TermToDate(AUTUMN, 12, 7, date(2025, 11, 6))
    # Counted to an earlier day of the same term: no mark since, so still the oracle's.
    earlier = TermToDate(AUTUMN, 11, 6, date(2025, 11, 5))
    assert comparable(oracle, earlier)
    assert term_fields_differing(oracle, earlier) == (
        TermField("term_possible_sessions", 12, 11),
        TermField("term_absent_sessions", 7, 6),
    )
    # Last snapshot in the summer term (a child not yet in school): not held to the autumn.
    summer = TermToDate(date(2025, 4, 22), 0, 0, date(2025, 7, 15))
    assert not comparable(oracle, summer) and term_fields_differing(oracle, summer) == ()
    # Counted past the oracle's day (reconcile --as-of before the log's end): not compared.
    later = TermToDate(AUTUMN, 14, 8, date(2025, 11, 7))
    assert not comparable(oracle, later) and term_fields_differing(oracle, later) == ()


def test_reconcile_reports_an_altered_term_absent_sessions(tmp_path: Path) -> None:
    """The flagger's snapshots projected by the projector's writer agree with the oracle; a
    read model whose term figures are then altered is caught, naming the column."""
    log = [*LOG, *(_mark("c2", d, "AM", "/") for d in ("2025-09-03", "2025-09-04"))]
    as_of = date(2025, 11, 6)
    term_of = term_start_lookup(ENGLAND)
    tick = ev.DayEnded(event_id=uuid.uuid4(), source="t", occurred_at=T, recorded_at=T, day=as_of)
    snapshots = []
    for child in ("c1", "c2"):
        events = [e for e in log if e.child_key == child]
        state = step(ChildState(child), events, CONFIG, "flagger", T, term_of=term_of).state
        snapshots.append(step(state, [tick], CONFIG, "flagger", T, term_of=term_of).snapshot)
    engine = make_engine(f"sqlite:///{tmp_path / 'read.db'}")
    create_schema(engine)
    with engine.begin() as conn:
        project(conn, [Consumed("child-flags", 0, i, s) for i, s in enumerate(snapshots)])
    expected = from_oracle(recompute_children(log, as_of, CONFIG, calendar=ENGLAND))
    flags = sorted(CONFIG.flags)

    def found() -> list[Any]:
        with engine.connect() as conn:
            return differences(expected, from_read_model(conn, children, flags, restricted_flags))

    assert expected["c1"].term == TermToDate(AUTUMN, 12, 7)
    assert expected["c2"].term == TermToDate(AUTUMN, 2, 0)
    assert found() == []
    assert "no differences" in render_differences(found())

    with engine.begin() as conn:
        c1 = children.c.child_key == "c1"
        conn.execute(update(children).where(c1).values(term_absent_sessions=6))
    diffs = found()
    assert [(d.child_key, d.terms) for d in diffs] == [
        ("c1", (TermField("term_absent_sessions", 7, 6),))
    ]
    assert diffs[0].expected == diffs[0].projected  # the flags still agree
    text = render_differences(diffs)
    assert "1 child(ren) differ" in text
    assert "c1 at 100001: term_absent_sessions oracle 7, projected 6" in text
    assert "oracle [" not in text  # no flag difference is shown

    # A row as written before migration 0010 (no term, 0 sessions) differs from a term.
    with engine.begin() as conn:
        c2 = children.c.child_key == "c2"
        conn.execute(update(children).where(c2).values(term_start=None, term_possible_sessions=0))
    diffs = found()
    assert [d.child_key for d in diffs] == ["c1", "c2"]
    assert [t.name for t in diffs[1].terms] == ["term_start", "term_possible_sessions"]
    assert "term_start oracle 2025-09-03, projected -" in render_differences(diffs)

    # c2's row as of a day of the summer term (its last snapshot then): not compared.
    with engine.begin() as conn:
        conn.execute(update(children).where(c2).values(as_of=date(2025, 7, 15)))
    assert [d.child_key for d in found()] == ["c1"]
    with engine.connect() as conn:
        projected = from_read_model(conn, children, flags, restricted_flags)
    assert terms_not_compared(expected, projected) == 1
    engine.dispose()
