"""A child's register for one school year: one byte (code id) per session."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from .codes import ABSENT_IDS, ATTENDED_IDS, ID_OF
from .events import Session


def school_year_start(day: date) -> date:
    """1 September of the school year containing the day."""
    return date(day.year if day.month >= 9 else day.year - 1, 9, 1)


def _index(year_start: date, day: date, session: Session) -> int:
    return (day - year_start).days * 2 + (0 if session == "AM" else 1)


@dataclass(frozen=True, slots=True)
class SessionRegister:
    """Marks for one school year; a later mark for the same session replaces the earlier."""

    year_start: date
    codes: bytes = b""

    def with_mark(self, day: date, session: Session, code: str) -> SessionRegister:
        """The register with this session's mark set (replacing any earlier one)."""
        i = _index(self.year_start, day, session)
        buf = bytearray(self.codes)
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
        counts = Counter(self._window(start, end))
        absent = sum(counts[i] for i in ABSENT_IDS)
        attended = sum(counts[i] for i in ATTENDED_IDS)
        return attended + absent, absent

    def count(self, ids: frozenset[int], start: date | None, end: date | None) -> int:
        """Sessions between two days inclusive whose code id is in ids."""
        counts = Counter(self._window(start, end))
        return sum(counts[i] for i in ids)
