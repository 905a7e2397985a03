"""Absence bands of a pupil's school year or term to date (severe, persistent, at risk): the
rules file's Attend thresholds (attend.band), for the absence lists and the child page."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Literal, NamedTuple

from flagstream.domain.rules.attend import AttendSettings, band
from flagstream.term_calendar import TermCalendar

BANDS = (
    ("severe", "Severe absence"),
    ("persistent", "Persistent absence"),
    ("at_risk", "At risk of persistent absence"),
)
# What a list is banded by: the school year to date, or the term to date (the term calendar's
# term of the pupil's as-of date, counted by the flagger: docs/flags.md).
Measure = Literal["year", "term"]
MEASURES: dict[Measure, tuple[str, str]] = {
    "year": ("possible_sessions", "absent_sessions"),
    "term": ("term_possible_sessions", "term_absent_sessions"),
}


def absent_pct(row: dict[str, Any], by: Measure) -> float | None:
    """Absent sessions as a % of possible ones, year or term to date; None with none."""
    possible, absent = (row.get(c) or 0 for c in MEASURES[by])
    return round(100.0 * absent / possible, 1) if possible else None


def banded(
    rows: Iterable[dict[str, Any]], s: AttendSettings, by: Measure = "year"
) -> dict[str, list[dict[str, Any]]]:
    """Band -> the pupils in it by the year or term to date, most absent first (absent_pct),
    each with both figures (year_pct, term_pct); pupils in no band are left out."""
    out: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in BANDS}
    possible, absent = MEASURES[by]
    for r in rows:
        name = band(r.get(possible) or 0, r.get(absent) or 0, s)
        if name:
            flags = [f for f in (r["flags"] or "").split(",") if f]
            year, term = absent_pct(r, "year"), absent_pct(r, "term")
            pct = year if by == "year" else term
            out[name].append(
                {**r, "absent_pct": pct, "year_pct": year, "term_pct": term, "flag_list": flags}
            )
    for members in out.values():
        members.sort(key=lambda r: (-r["absent_pct"], r["child_key"]))
    return out


class Band(NamedTuple):
    """A pupil's absence band: its name (an anchor on the lists) and its title."""

    name: str
    title: str


def child_band(row: dict[str, Any], s: AttendSettings) -> Band | None:
    """The child page's band of the child's year to date; None when in none."""
    name = band(row["possible_sessions"], row["absent_sessions"], s)
    return Band(name, dict(BANDS)[name]) if name else None


class ToDate(NamedTuple):
    """Attendance to date over a period: its name, first day and sessions."""

    name: str
    starts: date
    possible: int
    absent: int

    @property
    def attended(self) -> int:
        return self.possible - self.absent

    @property
    def attendance_pct(self) -> float | None:
        return round(100.0 * self.attended / self.possible, 1) if self.possible else None


def term_to_date(row: dict[str, Any], calendar: TermCalendar) -> ToDate | None:
    """The child page's term to date ("Autumn 2026/27" from its first day); None when the
    child's snapshot has no term (no calendar term for its as-of date, or written before)."""
    starts = row.get("term_start")
    if starts is None:
        return None
    term = calendar.term_of(starts)
    name = term.name if term is not None else "Term"
    return ToDate(name, starts, row["term_possible_sessions"], row["term_absent_sessions"])
