"""A child's register: one byte (code id) per session, for the school year and the end of
the one before it (the 10-school-week unauthorised measure spans school years)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import NamedTuple

from .codes import ABSENT_IDS, ATTENDED_IDS, ID_OF, UNAUTHORISED_IDS
from .events import Session

# Weeks before 1 September kept from the year before: the summer holiday (~6 weeks), a half
# term and 10 school weeks of the summer term, with room to spare (280 bytes of state).
CARRY_WEEKS = 20


@cache
def school_year_start(day: date) -> date:
    """1 September of the school year containing the day."""
    return date(day.year if day.month >= 9 else day.year - 1, 9, 1)


@cache
def register_origin(day: date) -> date:
    """The first day a register as of this day holds: CARRY_WEEKS before its school year."""
    return school_year_start(day) - timedelta(weeks=CARRY_WEEKS)


def _index(origin: date, day: date, session: Session) -> int:
    return (day - origin).days * 2 + (0 if session == "AM" else 1)


# A bytes.translate table from each code id to its category (unauthorised is a kind of
# absence, kept apart so one pass counts both): counting is then one C-level translate and
# a count per category (~10x a Counter).
_OTHER, _ABSENT, _ATTENDED, _UNAUTHORISED = 0, 1, 2, 3
_CATEGORY = bytes(
    _UNAUTHORISED if i in UNAUTHORISED_IDS
    else _ABSENT if i in ABSENT_IDS
    else _ATTENDED if i in ATTENDED_IDS
    else _OTHER
    for i in range(256)
)  # fmt: skip
_POSSIBLE = bytes(0 if c == _OTHER else 1 for c in _CATEGORY)  # any possible session
_ABSENCE = bytes(_ABSENT if c == _UNAUTHORISED else c for c in _CATEGORY)  # absent or attended


class Tally(NamedTuple):
    """Counts for the Attend rule up to a day: the school year to date, a recent window of
    it, and unauthorised absences from a day (which may be in the year before)."""

    possible: int
    absent: int
    recent_possible: int
    recent_absent: int
    unauthorised: int


def _pct(absent: int, possible: int) -> float:
    return 100.0 * absent / possible if possible else 0.0


@dataclass(frozen=True, slots=True)
class SessionRegister:
    """Marks from an origin day (register_origin of the latest school year marked); a later
    mark for the same session replaces the earlier. Every figure as of a day looks no further
    back than register_origin of that day, so a register that has not yet moved on to a new
    school year answers as one that has."""

    origin: date
    codes: bytes = b""

    def with_mark(self, day: date, session: Session, code: str) -> SessionRegister:
        """The register with this session's mark set (replacing any earlier one)."""
        return self.with_marks([(day, session, code)])

    def with_marks(self, marks: Iterable[tuple[date, Session, str]]) -> SessionRegister:
        """The register with each session's mark set in order (later ones win); marks before
        the origin are dropped."""
        buf = bytearray(self.codes)
        for day, session, code in marks:
            i = _index(self.origin, day, session)
            if i < 0:
                continue
            if len(buf) <= i:
                buf.extend(bytes(i + 1 - len(buf)))
            buf[i] = ID_OF[code]
        return SessionRegister(self.origin, bytes(buf))

    def moved_to(self, origin: date) -> SessionRegister:
        """The register from a later origin: the marks before it dropped."""
        cut = (origin - self.origin).days * 2
        return self if cut <= 0 else SessionRegister(origin, self.codes[cut:])

    def _first(self, day: date) -> int:
        """Index of the day's first session (0 for days before the origin)."""
        return max(0, _index(self.origin, day, "AM"))

    def _end(self, day: date) -> int:
        """Index just after the day's last session (0 for days before the origin)."""
        return max(0, _index(self.origin, day, "PM") + 1)

    def totals(self, start: date | None = None, end: date | None = None) -> tuple[int, int]:
        """(possible sessions, absent sessions) between two days inclusive (default: from
        the origin, to the last mark)."""
        lo = 0 if start is None else self._first(start)
        hi = len(self.codes) if end is None else self._end(end)
        window = self.codes[lo:hi].translate(_CATEGORY)
        absent = window.count(_ABSENT) + window.count(_UNAUTHORISED)
        return window.count(_ATTENDED) + absent, absent

    def year_to_date(self, end: date) -> tuple[int, int]:
        """(possible, absent) sessions from 1 September of the day's school year to the day."""
        return self.totals(school_year_start(end), end)

    def year_and_term(self, end: date, term_start: date | None) -> tuple[int, int, int, int]:
        """(possible, absent) sessions of the school year to `end`, then of the term from
        `term_start` (counted within that year; a later day: 0, 0; None: 0, 0), from one
        translate: the snapshot is built once per child per output window."""
        lo = self._first(school_year_start(end))
        count = self.codes[lo : self._end(end)].translate(_ABSENCE).count
        absent = count(_ABSENT)
        if term_start is None:
            return count(_ATTENDED) + absent, absent, 0, 0
        t = max(0, self._first(term_start) - lo)
        term_absent = count(_ABSENT, t)
        return count(_ATTENDED) + absent, absent, count(_ATTENDED, t) + term_absent, term_absent

    def unauthorised(self, start: date, end: date) -> int:
        """Unauthorised absent sessions between two days inclusive (from the floor of end)."""
        lo = self._first(max(start, register_origin(end)))
        return self.codes[lo : self._end(end)].translate(_CATEGORY).count(_UNAUTHORISED)

    def tally(self, end: date, recent_from: date, unauthorised_from: date) -> Tally:
        """Year-to-date counts up to `end`, recent ones from `recent_from` and unauthorised
        sessions from `unauthorised_from` (all inclusive, none before register_origin(end)):
        one translate, then counts from offsets, where separate window counts took three
        copies and six passes (the Attend rule was the largest part of evaluating a child)."""
        origin = self.origin
        floor = max(0, (register_origin(end) - origin).days * 2)
        window = self.codes[floor : max(0, (end - origin).days * 2 + 2)].translate(_CATEGORY)
        year = max(0, (school_year_start(end) - origin).days * 2 - floor)
        recent = max(year, (recent_from - origin).days * 2 - floor)
        unauthorised = max(0, (unauthorised_from - origin).days * 2 - floor)
        count = window.count
        absent = count(_ABSENT, year) + count(_UNAUTHORISED, year)
        recent_absent = count(_ABSENT, recent) + count(_UNAUTHORISED, recent)
        return Tally(
            possible=count(_ATTENDED, year) + absent,
            absent=absent,
            recent_possible=count(_ATTENDED, recent) + recent_absent,
            recent_absent=recent_absent,
            unauthorised=count(_UNAUTHORISED, unauthorised),
        )

    def school_weeks_from(self, end: date, weeks: int) -> date:
        """The Monday of the earliest of the last `weeks` school weeks up to `end`: weeks
        (Monday to Sunday) with a possible session on or before `end`, across holidays and
        school years but no further back than register_origin(end) (its day if fewer)."""
        floor = register_origin(end)
        lowest = max(0, (floor - self.origin).days * 2)
        possible = self.codes[: self._end(end)].translate(_POSSIBLE)
        monday = end - timedelta(days=end.weekday())
        lo = (monday - self.origin).days * 2  # a week is 14 sessions from its Monday's AM
        found = 0
        while lo + 14 > lowest:
            if possible.find(1, max(lo, lowest), max(0, lo + 14)) >= 0:
                found += 1
                if found == weeks:
                    return max(self.origin + timedelta(days=lo // 2), floor)
            lo -= 14
        return floor

    def held_since(
        self, end: date, raise_pct: float, clear_pct: float, min_possible: int, keep_days: int = 0
    ) -> date | None:
        """The latest school day d0 <= end of its year on which year-to-date absence was
        raise_pct or more (with min_possible sessions), when since then either it stayed
        clear_pct or more every day, or at most keep_days have passed; None if there is none.
        A pure function of the marks, so whoever evaluates, however often, gets the same."""
        year = school_year_start(end)
        window = self.codes[self._first(year) : self._end(end)].translate(_CATEGORY)
        absent = window.count(_ABSENT) + window.count(_UNAUTHORISED)
        possible = window.count(_ATTENDED) + absent
        if keep_days and 100.0 * absent < raise_pct * (possible - 2 * keep_days):
            keep_days = 0  # so few absences that no day in reach can have reached raise_pct
        cleared = False  # absence fell under clear_pct on some day after the one looked at
        day, i = end, (end - year).days * 2
        while True:
            while day > year and not window[i : i + 2].strip(b"\0"):
                day, i = day - timedelta(days=1), i - 2  # no session: the same figures
            within = (end - day).days <= keep_days
            if possible < min_possible or _pct(absent, possible) < clear_pct:
                cleared = True
            elif _pct(absent, possible) >= raise_pct and (within or not cleared):
                return day
            if (cleared and not within) or day <= year:
                return None
            for c in window[i : i + 2]:  # take the day's sessions off: the day before
                if c != _OTHER:
                    possible -= 1
                    absent -= c != _ATTENDED
            day, i = day - timedelta(days=1), i - 2
