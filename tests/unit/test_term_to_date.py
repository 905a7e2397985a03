"""Term-to-date attendance: the term calendar's term of a child's as-of date
(TermCalendar.term_start_of) and the snapshot's register totals from its first day."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest

from flagstream.domain.events import AttendanceMarkRecorded, ChildFlagsSnapshot, DayEnded
from flagstream.domain.flagging import TermOf, step
from flagstream.domain.register import SessionRegister, register_origin
from flagstream.domain.rules import default_config
from flagstream.domain.state import ChildState
from flagstream.settings import FlaggerSettings
from flagstream.term_calendar import (
    TermCalendarError,
    england,
    parse_term_calendar,
    term_start_lookup,
)

from .factories import T0, mark

ENGLAND = england()
CONFIG = default_config("term")
AUTUMN_26 = date(2026, 9, 2)  # England's defaults: Autumn 1 2026/27 starts on Wednesday 2 Sept
SPRING_27 = date(2027, 1, 4)


def school_days(
    first: date, last: date, code: str, child: str = "c1"
) -> list[AttendanceMarkRecorded]:
    """AM and PM marks with `code` on each weekday from first to last, inclusive."""
    out = []
    day = first
    while day <= last:
        if day.weekday() < 5:
            out += [mark(child, day, "AM", code), mark(child, day, "PM", code)]
        day += timedelta(days=1)
    return out


def tick(day: date) -> DayEnded:
    return DayEnded(event_id=uuid.uuid4(), source="clock", occurred_at=T0, recorded_at=T0, day=day)


def snapshot_after(events: list, term_of: TermOf | None) -> ChildFlagsSnapshot:  # type: ignore[type-arg]
    result = step(ChildState("c1"), events, CONFIG, "flagger", T0, term_of=term_of)
    assert result.snapshot is not None
    return result.snapshot


def test_the_term_of_a_day_is_its_term_and_a_holiday_keeps_the_term_just_ended() -> None:
    term = ENGLAND.term_start_of
    assert term(date(2026, 10, 1)) == AUTUMN_26
    assert term(date(2026, 10, 28)) == AUTUMN_26  # October half term: still the autumn term
    assert term(date(2026, 11, 20)) == AUTUMN_26  # Autumn 2 is the same term
    assert term(date(2026, 12, 28)) == AUTUMN_26  # Christmas holiday: the term just ended
    assert term(date(2027, 1, 4)) == SPRING_27
    assert term(date(2026, 8, 20)) == date(2026, 4, 13)  # summer holiday: the summer term
    # From 1 September the summer term is last year's: the autumn term ahead, nothing yet.
    assert term(date(2026, 9, 1)) == AUTUMN_26
    assert term(date(2023, 8, 1)) is None  # before the calendar's first term
    assert term(date(2027, 10, 1)) is None  # a school year the calendar does not hold


def test_across_the_october_half_term_the_term_counts_both_halves() -> None:
    autumn1 = school_days(AUTUMN_26, date(2026, 10, 23), "/")
    autumn1[-4:] = [mark("c1", m.date, m.session, "I") for m in autumn1[-4:]]  # ill, 2 days
    autumn2 = school_days(date(2026, 11, 2), date(2026, 11, 6), "O")
    snap = snapshot_after([*autumn1, *autumn2], ENGLAND.term_start_of)
    possible = len(autumn1) + len(autumn2)
    assert snap.as_of == date(2026, 11, 6)
    assert (snap.term_start, snap.term_possible_sessions, snap.term_absent_sessions) == (
        AUTUMN_26,
        possible,
        4 + 10,
    )
    # In the autumn term the year and the term to date are the same sessions.
    assert (snap.possible_sessions, snap.absent_sessions) == (possible, 14)
    # As of a day of the half-term week (a clock tick), still the whole term so far.
    during = snapshot_after([*autumn1, tick(date(2026, 10, 28))], ENGLAND.term_start_of)
    assert (during.term_start, during.term_possible_sessions) == (AUTUMN_26, len(autumn1))


def test_across_christmas_into_spring_the_term_starts_again() -> None:
    autumn = school_days(AUTUMN_26, date(2026, 12, 18), "O")  # absent all autumn
    holiday = snapshot_after([*autumn, tick(date(2026, 12, 30))], ENGLAND.term_start_of)
    assert holiday.term_start == AUTUMN_26  # the term just ended
    assert holiday.term_absent_sessions == holiday.term_possible_sessions == len(autumn)
    spring = school_days(SPRING_27, date(2027, 1, 15), "/")  # present every day of spring
    snap = snapshot_after([*autumn, *spring], ENGLAND.term_start_of)
    assert (snap.term_start, snap.term_possible_sessions, snap.term_absent_sessions) == (
        SPRING_27,
        len(spring),
        0,
    )
    assert (snap.possible_sessions, snap.absent_sessions) == (
        len(autumn) + len(spring),
        len(autumn),
    )


def test_a_council_calendar_moves_the_term() -> None:
    council = parse_term_calendar(
        '[[half_term]]\nlabel = "Spring 1"\nschool_year = "2026/27"\n'
        "starts = 2027-01-11\nends = 2027-02-12\n"
    )
    events = [
        *school_days(AUTUMN_26, date(2026, 12, 18), "/"),
        *school_days(date(2027, 1, 4), date(2027, 1, 15), "/"),
    ]  # an academy open from 4 January: its marks count, in whichever term the calendar says
    by_england = snapshot_after(events, ENGLAND.term_start_of)
    by_council = snapshot_after(events, term_start_lookup(council))
    assert by_england.term_start == SPRING_27 and by_england.term_possible_sessions == 20
    assert by_council.term_start == date(2027, 1, 11) and by_council.term_possible_sessions == 10
    # On 8 January the council's spring term has not started: the autumn term is kept.
    early = snapshot_after([*events[:-20], *events[-20:-10]], term_start_lookup(council))
    assert early.as_of == date(2027, 1, 8) and early.term_start == AUTUMN_26
    assert early.term_possible_sessions == early.possible_sessions


def test_no_calendar_no_term_figures() -> None:
    snap = snapshot_after(school_days(AUTUMN_26, date(2026, 9, 4), "O"), None)
    assert (snap.term_start, snap.term_possible_sessions, snap.term_absent_sessions) == (None, 0, 0)
    assert snap.possible_sessions == 6
    # Before the autumn term (1 September) the term has counted nothing, whatever was marked.
    sept1 = snapshot_after([mark("c1", date(2026, 9, 1), "AM", "/")], ENGLAND.term_start_of)
    assert (sept1.term_start, sept1.term_possible_sessions, sept1.possible_sessions) == (
        AUTUMN_26,
        0,
        1,
    )


def test_the_lookup_remembers_each_date() -> None:
    term_of = term_start_lookup(ENGLAND)
    assert term_of(date(2026, 10, 1)) == AUTUMN_26 == term_of(date(2026, 10, 1))
    assert term_of.cache_info().hits == 1  # type: ignore[attr-defined]


def test_year_and_term_in_one_pass_equal_the_separate_totals() -> None:
    rng = random.Random(18)
    origin = register_origin(date(2026, 11, 1))
    for _ in range(200):
        marks = [
            (origin + timedelta(days=rng.randrange(0, 420)), rng.choice(("AM", "PM")), code)
            for code in rng.choices(
                ("/", "I", "O", "G", "#", "L", "Y", "X"), k=rng.randrange(0, 300)
            )
        ]
        register = SessionRegister(origin).with_marks(marks)
        end = origin + timedelta(days=rng.randrange(140, 420))
        term_start = ENGLAND.term_start_of(end)
        want = (*register.year_to_date(end), *register.totals(term_start, end))
        assert register.year_and_term(end, term_start) == want
        assert register.year_and_term(end, None) == (*register.year_to_date(end), 0, 0)


def test_the_flagger_reads_the_councils_calendar_from_its_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    council = tmp_path / "terms.toml"
    council.write_text(
        '[[half_term]]\nlabel = "Spring 1"\nschool_year = "2026/27"\n'
        "starts = 2027-01-11\nends = 2027-02-12\n"
    )
    monkeypatch.setenv("FLAGSTREAM_TERM_CALENDAR", str(council))
    assert FlaggerSettings().calendar().term_start_of(date(2027, 1, 20)) == date(2027, 1, 11)
    monkeypatch.setenv("FLAGSTREAM_TERM_CALENDAR", str(tmp_path / "missing.toml"))
    with pytest.raises(TermCalendarError, match="FLAGSTREAM_TERM_CALENDAR"):
        FlaggerSettings().calendar()  # the flagger's composition root stops on it, saying why
