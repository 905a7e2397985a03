"""A child's register for one school year: one byte (code id) per session."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from .codes import ABSENT_IDS, ATTENDED_IDS, ID_OF, UNAUTHORISED_IDS
from .events import Session


def school_year_start(day: date) -> date:
    """1 September of the school year containing the day."""
    return date(day.year if day.month >= 9 else day.year - 1, 9, 1)


def _index(year_start: date, day: date, session: Session) -> int:
    return (day - year_start).days * 2 + (0 if session == "AM" else 1)


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


class Tally(NamedTuple):
    """Counts for the Attend rule up to a day: the year to date, a recent window of it, and
    unauthorised absences in a (possibly different) window."""

    possible: int
    absent: int
    recent_possible: int
    recent_absent: int
    unauthorised: int


@dataclass(frozen=True, slots=True)
class SessionRegister:
    """Marks for one school year; a later mark for the same session replaces the earlier."""

    year_start: date
    codes: bytes = b""

    def with_mark(self, day: date, session: Session, code: str) -> SessionRegister:
        """The register with this session's mark set (replacing any earlier one)."""
        return self.with_marks([(day, session, code)])

    def with_marks(self, marks: Iterable[tuple[date, Session, str]]) -> SessionRegister:
        """The register with each session's mark set in order (later ones win)."""
        buf = bytearray(self.codes)
        for day, session, code in marks:
            i = _index(self.year_start, day, session)
            if len(buf) <= i:
                buf.extend(bytes(i + 1 - len(buf)))
            buf[i] = ID_OF[code]
        return SessionRegister(self.year_start, bytes(buf))

    def _first(self, day: date) -> int:
        """Index of the day's first session (0 for days before the year)."""
        return max(0, _index(self.year_start, day, "AM"))

    def _end(self, day: date) -> int:
        """Index just after the day's last session (0 for days before the year)."""
        return max(0, _index(self.year_start, day, "PM") + 1)

    def totals(self, start: date | None = None, end: date | None = None) -> tuple[int, int]:
        """(possible sessions, absent sessions) between two days inclusive (default: all)."""
        lo = 0 if start is None else self._first(start)
        hi = len(self.codes) if end is None else self._end(end)
        window = self.codes[lo:hi].translate(_CATEGORY)
        absent = window.count(_ABSENT) + window.count(_UNAUTHORISED)
        return window.count(_ATTENDED) + absent, absent

    def tally(self, end: date, recent_from: date, unauthorised_from: date) -> Tally:
        """Year-to-date counts up to `end`, recent ones from `recent_from` and unauthorised
        sessions from `unauthorised_from` (all inclusive): one translate, then counts from
        offsets, where separate window counts took three copies and six passes (the Attend
        rule was the largest part of evaluating a child)."""
        window = self.codes[: self._end(end)].translate(_CATEGORY)
        recent, unauthorised = self._first(recent_from), self._first(unauthorised_from)
        absent = window.count(_ABSENT) + window.count(_UNAUTHORISED)
        recent_absent = window.count(_ABSENT, recent) + window.count(_UNAUTHORISED, recent)
        return Tally(
            possible=window.count(_ATTENDED) + absent,
            absent=absent,
            recent_possible=window.count(_ATTENDED, recent) + recent_absent,
            recent_absent=recent_absent,
            unauthorised=window.count(_UNAUTHORISED, unauthorised),
        )
