"""Mid-year moves: rates, determinism, marks that follow the pupil, and the enrolment records."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from typing import Any

import pytest

from flagstream.domain import events as ev
from flagstream.domain.flagging import step
from flagstream.domain.rules import default_config
from flagstream.domain.state import ChildState
from flagstream_tools.generator import (
    County,
    DayEnded,
    DomesticAbuseNotified,
    EnrolmentChanged,
    Item,
    Move,
    Register,
    SenRecorded,
    make_county,
    plan_moves,
    registers,
    school_days,
    timeline,
)
from flagstream_tools.generator.canonical import canonical_events
from flagstream_tools.oracle import recompute_children

START = date(2025, 9, 8)
TERM = school_days(START, 70)


@pytest.fixture(scope="module")
def demo() -> County:
    return make_county("demo", 1)


@pytest.fixture(scope="module")
def tiny() -> County:
    return make_county("tiny", 5)


def test_rates_over_a_term_are_realistic(demo: County) -> None:
    kinds: Counter[str] = Counter()
    for seed in range(10):
        kinds.update(m.kind for m in plan_moves(demo, TERM, seed).values())
    n = 10 * len(demo.pupils)
    assert 0.012 < kinds["moved"] / n < 0.018  # ~1.5% change school within the county
    assert 0.003 < kinds["left"] / n < 0.007  # ~0.5% leave it
    assert 0 < kinds["regrouped"] / n < 0.003


def test_plan_is_deterministic_by_seed(demo: County) -> None:
    assert plan_moves(demo, TERM, 3) == plan_moves(demo, TERM, 3)
    assert plan_moves(demo, TERM, 3) != plan_moves(demo, TERM, 4)
    assert plan_moves(demo, TERM[:1], 3) == {}  # no day after the first to move on


def test_moves_are_sensible(demo: County) -> None:
    moves = [m for seed in range(5) for m in plan_moves(demo, TERM, seed).values()]
    taught = {(p.urn, p.nc_year) for p in demo.pupils}
    local = could = 0
    for m in moves:
        assert 1 <= m.day < len(TERM) and (m.last, m.on) == (TERM[m.day - 1], TERM[m.day])
        here = demo.school(m.pupil.urn)
        if m.kind == "moved":
            there = demo.school(m.to)
            assert there.urn != here.urn
            assert (there.phase == "SPECIAL") == (here.phase == "SPECIAL")
            assert m.nc_year == m.pupil.nc_year and (m.to, m.nc_year) in taught
            nearby = [s for s in demo.schools if s.zone == here.zone and s.urn != here.urn
                      and s.phase != "SPECIAL" and (s.urn, m.nc_year) in taught]  # fmt: skip
            if nearby and here.phase != "SPECIAL":
                could += 1
                local += there.zone == here.zone
        else:
            assert m.to == here.urn
        if m.kind == "regrouped":
            assert abs(m.nc_year - m.pupil.nc_year) == 1 and (m.to, m.nc_year) in taught
    assert 0.6 < local / could < 0.8  # most families move within their zone


def _where(moves: dict[str, Move], upn: str, urn: str, day: date) -> str | None:
    """The school that marks the pupil on that day; None once they left the county."""
    m = moves.get(upn)
    if m is None or m.kind == "regrouped" or day < m.on:
        return urn
    return m.to if m.kind == "moved" else None


def test_marks_follow_the_pupil_and_nobody_elses_change(demo: County) -> None:
    days = school_days(START, 20)
    moves = plan_moves(demo, days, 1)
    assert {m.kind for m in moves.values()} >= {"moved", "left"}
    moved = {u for u, m in moves.items() if m.kind != "regrouped"}
    school_of = {p.upn: p.urn for p in demo.pupils}
    with_moves = list(registers(demo, START, 20, 1))
    without = list(registers(demo, START, 20, 1, moves={}))
    assert [(r.urn, r.day) for r in with_moves] == [(r.urn, r.day) for r in without]
    marked: set[tuple[str, date]] = set()
    for a, b in zip(with_moves, without, strict=True):
        # Everyone who stays put is marked exactly as in a run without moves.
        assert [x for x in a.marks if x.upn not in moved] == [
            x for x in b.marks if x.upn not in moved
        ]
        for x in a.marks:
            # Corrections of a day at the old school still come from the old school.
            assert _where(moves, x.upn, school_of[x.upn], x.date) == a.urn, (x, a)
            marked.add((x.upn, x.date))
    for upn, m in moves.items():
        gone = m.kind == "left"
        assert all(((upn, d) in marked) != (gone and d >= m.on) for d in days), upn


def _changes(items: list[Item]) -> list[tuple[date, EnrolmentChanged]]:
    day = START
    out = []
    for x in items:
        if isinstance(x, Register):
            day = x.day
        elif isinstance(x, EnrolmentChanged):
            out.append((day, x))
    return out


def test_timeline_sends_each_change_on_its_day(tiny: County) -> None:
    days = school_days(START, 30)
    moves = plan_moves(tiny, days, 5)
    assert {m.kind for m in moves.values()} == {"moved", "left"}
    items = list(timeline(tiny, START, 30, seed=5))
    expected = []
    for m in sorted(moves.values(), key=lambda m: m.day):
        p = m.pupil
        expected.append(
            (m.on, EnrolmentChanged(p.upn, p.urn, p.nc_year, p.sex, p.month_of_birth,
                                    p.joined_on, m.last))
        )  # fmt: skip
        if m.kind == "moved":
            expected.append(
                (m.on, EnrolmentChanged(p.upn, m.to, p.nc_year, p.sex, p.month_of_birth,
                                        m.on, None))
            )  # fmt: skip
    assert _changes(items) == expected
    # Nothing more from partners about a pupil who left the county; the rest name the
    # school the pupil is at that day.
    school = {p.upn: p.urn for p in tiny.pupils}
    day = START
    for x in items:
        if isinstance(x, DayEnded):
            day = x.day
        elif isinstance(x, SenRecorded | DomesticAbuseNotified) and day > START:
            assert _where(moves, x.upn, school[x.upn], day) == x.urn


def test_year_group_changes_keep_the_school(demo: County) -> None:
    moves = plan_moves(demo, school_days(START, 30), 1)
    regrouped = [m for m in moves.values() if m.kind == "regrouped"]
    assert regrouped
    changes = [c for _, c in _changes(list(timeline(demo, START, 30, seed=1)))]
    for m in regrouped:
        (change,) = [c for c in changes if c.upn == m.pupil.upn]
        assert (change.urn, change.nc_year, change.joined_on, change.left_on) == (
            m.pupil.urn,
            m.nc_year,
            m.pupil.joined_on,
            None,
        )


def test_canonical_enrolments_and_the_stream_agree_with_the_oracle(tiny: County) -> None:
    """Movers end at their new school and leavers at their last, in the flagger and the
    oracle alike, even when enrolments and marks interleave differently."""
    items = list(timeline(tiny, START, 30, seed=5))
    log = list(canonical_events(tiny, items))
    changes = [e for e in log[len(tiny.schools) + len(tiny.pupils) :]
               if isinstance(e, ev.EnrolmentRecorded)]  # fmt: skip
    assert [(e.urn, e.joined_on, e.left_on) for e in changes] == [
        (c.urn, c.joined_on, c.left_on) for _, c in _changes(items)
    ]
    assert len({e.event_id for e in log if isinstance(e, ev.EnrolmentRecorded)}) == len(
        tiny.pupils
    ) + len(changes)
    # The flagger sees each day's enrolments after its registers; the oracle reads the
    # topics one by one, so every enrolment comes before every mark.
    config = default_config()
    at = datetime(2025, 9, 8, tzinfo=UTC)
    states: dict[str, ChildState] = {}
    for event in log:
        if isinstance(event, ev.SchoolRecorded):
            continue
        by_child: dict[str, list[Any]] = defaultdict(list)
        if isinstance(event, ev.DayEnded):
            for key in list(states):
                by_child[key].append(event)
        else:
            for e in event.marks if isinstance(event, ev.AttendanceMarksRecorded) else [event]:
                by_child[e.child_key].append(e)
        for key, evs in by_child.items():
            states[key] = step(states.get(key, ChildState(key)), evs, config, "t", at).state
    topic_order = sorted(log, key=lambda e: not isinstance(e, ev.EnrolmentRecorded))
    last = school_days(START, 30)[-1]
    oracle = recompute_children(topic_order, last, config)
    assert set(oracle) == set(states)
    for key, state in states.items():
        assert (state.urn, {f.flag for f in state.flags}) == (oracle[key].urn, oracle[key].flags)
    for m in plan_moves(tiny, school_days(START, 30), 5).values():
        assert states[m.pupil.upn].urn == (m.to if m.kind == "moved" else m.pupil.urn)
