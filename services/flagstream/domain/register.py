"""A child's register for one school year: one byte (code id) per session."""

from __future__ import annotations

import functools
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


@functools.lru_cache(maxsize=64)
def _ones(ids: frozenset[int]) -> bytes:
    """A bytes.translate table mapping the code ids in `ids` to 1 and every other byte to 0:
    counting a category is then one C-level translate and count (~10x a Counter)."""
    return bytes(1 if i in ids else 0 for i in range(256))


# One translate table for a whole tally: each code id to its category (unauthorised is a
# kind of absence, kept apart so one pass counts both).
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

    def _window(self, start: date | None, end: date | None) -> bytes:
        lo = 0 if start is None else max(0, _index(self.year_start, start, "AM"))
        hi = len(self.codes) if end is None else max(0, _index(self.year_start, end, "PM") + 1)
        return self.codes[lo:hi]

    def totals(self, start: date | None = None, end: date | None = None) -> tuple[int, int]:
        """(possible sessions, absent sessions) between two days inclusive (default: all)."""
        window = self._window(start, end)
        absent = window.translate(_ones(ABSENT_IDS)).count(1)
        attended = window.translate(_ones(ATTENDED_IDS)).count(1)
        return attended + absent, absent

    def count(self, ids: frozenset[int], start: date | None, end: date | None) -> int:
        """Sessions between two days inclusive whose code id is in ids."""
        return self._window(start, end).translate(_ones(ids)).count(1)

    def tally(self, end: date, recent_from: date, unauthorised_from: date) -> Tally:
        """Year-to-date counts up to `end`, recent ones from `recent_from` and unauthorised
        sessions from `unauthorised_from` (all inclusive): one translate, then counts from
        offsets, where separate totals() and count() calls took three copies and six passes
        (the Attend rule was the largest part of evaluating a child)."""
        hi = max(0, _index(self.year_start, end, "PM") + 1)
        window = self.codes[:hi].translate(_CATEGORY)
        recent = max(0, _index(self.year_start, recent_from, "AM"))
        unauthorised = max(0, _index(self.year_start, unauthorised_from, "AM"))
        absent = window.count(_ABSENT) + window.count(_UNAUTHORISED)
        recent_absent = window.count(_ABSENT, recent) + window.count(_UNAUTHORISED, recent)
        return Tally(
            possible=window.count(_ATTENDED) + absent,
            absent=absent,
            recent_possible=window.count(_ATTENDED, recent) + recent_absent,
            recent_absent=recent_absent,
            unauthorised=window.count(_UNAUTHORISED, unauthorised),
        )
