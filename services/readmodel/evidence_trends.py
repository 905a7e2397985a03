"""Evidence of outcomes, term on term: per school and flag, this term against the previous
term and the same term last year, and the same figures summed per zone (readmodel/evidence.py
explains what every evidence figure leaves out and how it is scoped)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, or_, select

from flagstream.term_calendar import Term, TermCalendar

from .evidence_shared import _rate, _rows, _scoped, _sensitive
from .tables import flag_history, rolls, school_days, schools


@dataclass(frozen=True, slots=True)
class TermFigure:
    """Children with a flag raised at any time in a term, and children on roll in it."""

    term: str
    flagged: int
    on_roll: int

    @property
    def rate(self) -> float | None:
        return _rate(self.flagged, self.on_roll)


@dataclass(frozen=True, slots=True)
class TermTrend:
    """One school and flag: this term against the previous term and the same term of the
    school year before (None where the calendar or the data has no such term)."""

    urn: str
    name: str
    zone: str
    flag: str
    this: TermFigure
    previous: TermFigure | None
    last_year: TermFigure | None


def _overlaps(starts: Any, ends: Any, term: Term) -> ColumnElement[bool]:
    """An interval (open while `ends` is NULL) sharing a day with the term."""
    return and_(starts <= term.ends, or_(ends.is_(None), ends >= term.starts))


def _term_counts(
    conn: Connection, term: Term, zone: str | None, urn: str | None
) -> tuple[dict[tuple[str, str], int], dict[str, int], dict[str, tuple[str, str]]]:
    """(school, flag) -> children flagged in the term; school -> children on roll in it."""
    fq = (
        select(flag_history.c.urn, flag_history.c.flag, flag_history.c.child_key)
        .join(schools, schools.c.urn == flag_history.c.urn)
        .where(
            flag_history.c.flag.not_in(_sensitive()),
            _overlaps(flag_history.c.raised_on, flag_history.c.cleared_on, term),
        )
    )
    flagged: dict[tuple[str, str], set[str]] = defaultdict(set)
    for s_urn, flag, child in _rows(conn, _scoped(fq, zone, urn, flag_history.c.urn)):
        flagged[(s_urn, flag)].add(child)
    rq = (
        select(rolls.c.urn, rolls.c.child_key, schools.c.name, schools.c.zone)
        .join(schools, schools.c.urn == rolls.c.urn)
        .where(_overlaps(rolls.c.joined_on, rolls.c.left_on, term))
    )
    roll: dict[str, set[str]] = defaultdict(set)
    names: dict[str, tuple[str, str]] = {}
    for s_urn, child, s_name, s_zone in _rows(conn, _scoped(rq, zone, urn, rolls.c.urn)):
        roll[s_urn].add(child)
        names[s_urn] = (s_name, s_zone)
    return (
        {k: len(v) for k, v in flagged.items()},
        {k: len(v) for k, v in roll.items()},
        names,
    )


def term_trends(
    conn: Connection,
    calendar: TermCalendar,
    today: date,
    zone: str | None = None,
    urn: str | None = None,
) -> tuple[Term | None, list[TermTrend]]:
    """Per school and flag, the term containing `today` (or the last one before it) against
    the previous term and the same term last year; a comparison term with no school day in
    the read model (`school_days`) is None, shown as no data rather than as zero."""
    terms = [t for t in calendar.terms() if t.starts <= today]
    if not terms:
        return None, []
    this = terms[-1]
    previous = terms[-2] if len(terms) > 1 else None
    last_year = next(
        (t for t in terms if t.label == this.label and t.school_year == _year_before(this)), None
    )
    # A comparison term the read model holds no school day of is "no data", not zero.
    previous, last_year = (t if t and _has_days(conn, t) else None for t in (previous, last_year))
    figures = {t.name: _term_counts(conn, t, zone, urn) for t in (this, previous, last_year) if t}
    flagged, roll, names = figures[this.name]
    keys = set(flagged) | {(u, f) for t in figures.values() for (u, f) in t[0] if u in roll}

    def figure(term: Term, key: tuple[str, str]) -> TermFigure:
        f, r, _ = figures[term.name]
        return TermFigure(term.name, f.get(key, 0), r.get(key[0], 0))

    rows = [
        TermTrend(
            u,
            names.get(u, (u, ""))[0],
            names.get(u, (u, ""))[1],
            fl,
            figure(this, (u, fl)),
            figure(previous, (u, fl)) if previous else None,
            figure(last_year, (u, fl)) if last_year else None,
        )
        for u, fl in sorted(keys, key=lambda k: (names.get(k[0], (k[0], ""))[0], k[1]))
    ]
    return this, rows


def _has_days(conn: Connection, term: Term) -> bool:
    """Whether any register or day-end tick of the term reached the read model."""
    found = conn.scalar(
        select(school_days.c.day)
        .where(school_days.c.day >= term.starts, school_days.c.day <= term.ends)
        .limit(1)
    )
    return found is not None


def _year_before(term: Term) -> str:
    """'2025/26' -> '2024/25'."""
    first = int(term.school_year[:4]) - 1
    return f"{first}/{(first + 1) % 100:02d}"


def by_zone(rows: list[TermTrend]) -> list[TermTrend]:
    """School rows summed per zone and flag (the county's view of the same figures)."""
    sums: dict[tuple[str, str], list[TermTrend]] = defaultdict(list)
    for row in rows:
        sums[(row.zone, row.flag)].append(row)

    def total(parts: list[TermFigure | None]) -> TermFigure | None:
        kept = [p for p in parts if p is not None]
        if not kept:
            return None
        return TermFigure(kept[0].term, sum(p.flagged for p in kept), sum(p.on_roll for p in kept))

    out = []
    for (zone, flag), parts in sorted(sums.items()):
        this = total([p.this for p in parts])
        assert this is not None
        previous = total([p.previous for p in parts])
        last_year = total([p.last_year for p in parts])
        out.append(TermTrend(zone, zone, zone, flag, this, previous, last_year))
    return out
