"""The school year's terms and half terms: England's usual dates by default, the council's
own dates from a TOML file (`FLAGSTREAM_TERM_CALENDAR`) where they differ.

Huddles happen once per school per half term, digests and evidence screens compare terms,
so every part that speaks of "this half term" asks this one calendar. The defaults are the
pattern most English local authorities publish (six half terms, a week's break between
halves, Christmas, Easter and summer holidays); each council sets its own, and academies
may differ, so a council loads its own file. Dates are inclusive: a half term runs from
its first to its last school day.

File format (every entry optional; an entry replaces the default of the same half term,
`replace_defaults = true` drops all defaults first)::

    replace_defaults = false
    closures = [2025-11-28]          # INSET days, extra bank holidays: not school days

    [[half_term]]
    label = "Autumn 1"               # Autumn 1, Autumn 2, Spring 1, Spring 2, Summer 1, Summer 2
    school_year = "2025/26"
    starts = 2025-09-04
    ends = 2025-10-24
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

LABELS = ("Autumn 1", "Autumn 2", "Spring 1", "Spring 2", "Summer 1", "Summer 2")


class TermCalendarError(ValueError):
    """The calendar file is unreadable or describes impossible dates; the message says where."""


@dataclass(frozen=True, slots=True)
class HalfTerm:
    """One half term: "Autumn 1" of "2025/26", its first and last school day (inclusive)."""

    label: str
    school_year: str
    starts: date
    ends: date

    @property
    def name(self) -> str:
        return f"{self.label} {self.school_year}"

    @property
    def term_label(self) -> str:
        """Autumn 1 -> Autumn."""
        return self.label.split(" ")[0]

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.starts <= day <= self.ends


@dataclass(frozen=True, slots=True)
class Term:
    """A term (Autumn, Spring, Summer) of a school year: its two half terms."""

    label: str
    school_year: str
    starts: date
    ends: date
    halves: tuple[HalfTerm, ...]

    @property
    def name(self) -> str:
        return f"{self.label} {self.school_year}"

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.starts <= day <= self.ends


@dataclass(frozen=True, slots=True)
class TermCalendar:
    """Half terms in date order, and the days inside them that are not school days."""

    half_terms: tuple[HalfTerm, ...]
    closures: frozenset[date] = frozenset()
    _terms: tuple[Term, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.half_terms, key=lambda h: h.starts))
        object.__setattr__(self, "half_terms", ordered)
        for half in ordered:
            if half.label not in LABELS:
                raise TermCalendarError(f"{half.name}: label must be one of {', '.join(LABELS)}")
            if half.ends < half.starts:
                raise TermCalendarError(f"{half.name}: ends {half.ends} before it starts")
        for before, after in pairwise(ordered):
            if after.starts <= before.ends:
                raise TermCalendarError(f"{after.name} starts before {before.name} has ended")
        # Built once: term_of is asked per row by the evidence screens.
        groups: dict[tuple[str, str], list[HalfTerm]] = {}
        for half in ordered:
            groups.setdefault((half.school_year, half.term_label), []).append(half)
        terms = tuple(
            Term(label, year, halves[0].starts, halves[-1].ends, tuple(halves))
            for (year, label), halves in groups.items()
        )
        object.__setattr__(self, "_terms", terms)

    def half_term_of(self, day: date) -> HalfTerm | None:
        """The half term holding `day`; in a holiday, the half term just ended (its huddle
        may be late); before the first half term, None."""
        found = None
        for half in self.half_terms:
            if half.starts > day:
                break
            found = half
        return found

    def previous(self, half: HalfTerm) -> HalfTerm | None:
        i = self.half_terms.index(half)
        return self.half_terms[i - 1] if i else None

    def terms(self) -> list[Term]:
        """Each school year's terms, halves grouped by (school year, term label)."""
        return list(self._terms)

    def term_of(self, day: date) -> Term | None:
        """The term holding `day`; in a holiday, the term just ended."""
        half = self.half_term_of(day)
        if half is None:
            return None
        return next(t for t in self._terms if half in t.halves)

    def term_start_of(self, day: date) -> date | None:
        """The first day of the term a child's figures as of `day` count from: the term
        holding it; in a holiday, the term just ended; from 1 September until the autumn
        term starts, that autumn term (nothing counted yet: the summer term belongs to the
        school year before); None before the calendar's first term or after its last year."""
        term = self.term_of(day)
        if term is None:
            return None
        year_start = date(day.year if day.month >= 9 else day.year - 1, 9, 1)
        if term.starts >= year_start:
            return term.starts
        year_end = date(year_start.year + 1, 9, 1)
        return next((t.starts for t in self._terms if year_start <= t.starts < year_end), None)

    def is_school_day(self, day: date) -> bool:
        """A weekday inside a half term that is not a closure (INSET day, bank holiday)."""
        half = self.half_term_of(day)
        return half is not None and day in half and day.weekday() < 5 and day not in self.closures

    def school_days(self, starts: date, ends: date) -> int:
        """School days from `starts` to `ends`, both included."""
        days = (ends - starts).days + 1
        return sum(self.is_school_day(starts + timedelta(n)) for n in range(max(days, 0)))


def term_start_lookup(calendar: TermCalendar) -> Callable[[date], date | None]:
    """calendar.term_start_of remembered per date: the flagger asks it for every snapshot,
    and a window's children mostly share their as-of date."""
    return lru_cache(maxsize=4096)(calendar.term_start_of)


def _h(label: str, year: str, starts: str, ends: str) -> HalfTerm:
    return HalfTerm(label, year, date.fromisoformat(starts), date.fromisoformat(ends))


# The usual English pattern (most councils' published dates; each council has its own).
_ENGLAND = (
    _h("Autumn 1", "2023/24", "2023-09-04", "2023-10-27"),
    _h("Autumn 2", "2023/24", "2023-11-06", "2023-12-20"),
    _h("Spring 1", "2023/24", "2024-01-04", "2024-02-09"),
    _h("Spring 2", "2023/24", "2024-02-19", "2024-03-28"),
    _h("Summer 1", "2023/24", "2024-04-15", "2024-05-24"),
    _h("Summer 2", "2023/24", "2024-06-03", "2024-07-23"),
    _h("Autumn 1", "2024/25", "2024-09-02", "2024-10-25"),
    _h("Autumn 2", "2024/25", "2024-11-04", "2024-12-20"),
    _h("Spring 1", "2024/25", "2025-01-06", "2025-02-14"),
    _h("Spring 2", "2024/25", "2025-02-24", "2025-04-04"),
    _h("Summer 1", "2024/25", "2025-04-22", "2025-05-23"),
    _h("Summer 2", "2024/25", "2025-06-02", "2025-07-22"),
    _h("Autumn 1", "2025/26", "2025-09-03", "2025-10-24"),
    _h("Autumn 2", "2025/26", "2025-11-03", "2025-12-19"),
    _h("Spring 1", "2025/26", "2026-01-05", "2026-02-13"),
    _h("Spring 2", "2025/26", "2026-02-23", "2026-03-27"),
    _h("Summer 1", "2025/26", "2026-04-13", "2026-05-22"),
    _h("Summer 2", "2025/26", "2026-06-01", "2026-07-22"),
    _h("Autumn 1", "2026/27", "2026-09-02", "2026-10-23"),
    _h("Autumn 2", "2026/27", "2026-11-02", "2026-12-18"),
    _h("Spring 1", "2026/27", "2027-01-04", "2027-02-12"),
    _h("Spring 2", "2026/27", "2027-02-22", "2027-03-25"),
    _h("Summer 1", "2026/27", "2027-04-12", "2027-05-28"),
    _h("Summer 2", "2026/27", "2027-06-07", "2027-07-21"),
)
# Early May bank holidays, which fall inside Summer 1.
_BANK_HOLIDAYS = frozenset(
    date.fromisoformat(d) for d in ("2024-05-06", "2025-05-05", "2026-05-04", "2027-05-03")
)


def england() -> TermCalendar:
    """England's usual term dates, 2023/24 to 2026/27."""
    return TermCalendar(_ENGLAND, _BANK_HOLIDAYS)


def _as_date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise TermCalendarError(f"{where}: {value!r} is not a date (write YYYY-MM-DD)")


def parse_term_calendar(text: str, source: str = "term calendar") -> TermCalendar:
    """England's defaults overridden by a council's TOML text (module docstring)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TermCalendarError(f"{source}: not valid TOML ({exc})") from exc
    base = {} if doc.get("replace_defaults") else {(h.label, h.school_year): h for h in _ENGLAND}
    for n, entry in enumerate(doc.get("half_term", []), 1):
        where = f"{source}: half_term #{n}"
        if not isinstance(entry, dict):
            raise TermCalendarError(f"{where}: must be a table")
        missing = {"label", "school_year", "starts", "ends"} - set(entry)
        if missing:
            raise TermCalendarError(f"{where}: needs {', '.join(sorted(missing))}")
        half = HalfTerm(
            str(entry["label"]),
            str(entry["school_year"]),
            _as_date(entry["starts"], where),
            _as_date(entry["ends"], where),
        )
        base[(half.label, half.school_year)] = half
    closures = {_as_date(d, f"{source}: closures") for d in doc.get("closures", [])}
    if not base:
        raise TermCalendarError(f"{source}: no half terms (replace_defaults without any)")
    return TermCalendar(tuple(base.values()), frozenset(closures | _BANK_HOLIDAYS))


def load_term_calendar(path: Path | None) -> TermCalendar:
    """The council's calendar file over England's defaults; the defaults when no file."""
    if path is None:
        return england()
    try:
        text = path.read_text()
    except OSError as exc:
        raise TermCalendarError(
            f"cannot read the term calendar {path} ({exc.strerror}); check FLAGSTREAM_TERM_CALENDAR"
        ) from exc
    return parse_term_calendar(text, str(path))
