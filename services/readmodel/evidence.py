"""Evidence of outcomes: re-referrals, the flag -> response -> progress flow, term-on-term
trends and rates by pupil group, computed from the read model's existing tables.

Why here and not in a service: the figures are read-model facts (no new table, no
migration), the same for every screen and for a BI export. Every query leaves out the
sensitive flags (Rule.sensitive: SAFEGUARD): they are for the DSL of the child's school
only, so an aggregate counting them would tell everyone else that one exists. The read
model keeps them out of these tables already; the filter here is the second wall.

Scope: `zone` / `urn` narrow the rows (a zone user's zone, a school's own school); on
PostgreSQL the connection comes from `ctx.read_as(who)`, so row-level security narrows them
again. Date arithmetic and medians are done in Python so SQLite and PostgreSQL agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from statistics import median
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, or_, select

from flagstream.domain.rules import SENSITIVE
from flagstream.term_calendar import Term, TermCalendar

from .tables import (
    child_flags,
    children,
    flag_history,
    outcomes,
    rolls,
    school_days,
    schools,
)

REFERRAL_WINDOW_DAYS = 365  # "within 12 months": the projector's re-referral window too
PROGRESS_STATUSES = ("Good progress", "Resolved")


def _sensitive() -> list[str]:
    """The flags no aggregate may count (SAFEGUARD): the DSL of the school only."""
    return sorted(SENSITIVE)


def _rows(conn: Connection, query: Select[Any]) -> list[Any]:
    """The query's rows, typed loosely so they unpack (SQLite and PostgreSQL alike)."""
    return list(conn.execute(query))


def _rate(part: int, whole: int) -> float | None:
    """Per 100, one decimal; None when there is nothing to divide by."""
    return round(100 * part / whole, 1) if whole else None


def _scoped(query: Select[Any], zone: str | None, urn: str | None, col: Any) -> Select[Any]:
    """Narrow a query joined to schools to one zone or one school."""
    if urn is not None:
        query = query.where(col == urn)
    if zone is not None:
        query = query.where(schools.c.zone == zone)
    return query


@dataclass(frozen=True, slots=True)
class Referral:
    """One group (a zone, or a school) in one term: children flagged there that term, how
    many of them were re-flagged within 12 months of the same flag clearing, per 100."""

    group: str
    group_name: str
    term: str
    flagged: int
    reflagged: int

    @property
    def rate(self) -> float | None:
        return _rate(self.reflagged, self.flagged)


def is_rereferral(raised_on: date, previous_cleared_on: date | None, after_days: int = 0) -> bool:
    """Raised again no more than 365 days, and at least `after_days`, after the same flag
    last cleared (the projector's reflagged_within_12m, FLAGSTREAM_REFLAG_AFTER_DAYS)."""
    return (
        previous_cleared_on is not None
        and after_days <= (raised_on - previous_cleared_on).days <= REFERRAL_WINDOW_DAYS
    )


def rereferrals(
    conn: Connection,
    calendar: TermCalendar,
    zone: str | None = None,
    urn: str | None = None,
    reflag_after_days: int = 0,
) -> list[Referral]:
    """Per term and group: distinct children with a flag raised in the term (at the school
    it was raised at), and those among them whose raise was a re-referral. Grouped by zone
    for the county, by school within a zone or for one school."""
    by_school = zone is not None or urn is not None
    q: Select[Any] = (
        select(
            flag_history.c.child_key,
            flag_history.c.raised_on,
            flag_history.c.previous_cleared_on,
            schools.c.urn,
            schools.c.name,
            schools.c.zone,
        )
        .join(schools, schools.c.urn == flag_history.c.urn)
        .where(flag_history.c.flag.not_in(_sensitive()))
    )
    q = _scoped(q, zone, urn, flag_history.c.urn)
    terms = calendar.terms()
    flagged: dict[tuple[str, str], set[str]] = defaultdict(set)
    again: dict[tuple[str, str], set[str]] = defaultdict(set)
    names: dict[str, str] = {}
    for child, raised, previous, s_urn, s_name, s_zone in _rows(conn, q):
        term = calendar.term_of(raised)
        if term is None:
            continue
        group = s_urn if by_school else s_zone
        names[group] = s_name if by_school else s_zone
        key = (group, term.name)
        flagged[key].add(child)
        if is_rereferral(raised, previous, reflag_after_days):
            again[key].add(child)
    order = {t.name: i for i, t in enumerate(terms)}
    return [
        Referral(group, names[group], term, len(kids), len(again.get((group, term), ())))
        for (group, term), kids in sorted(
            flagged.items(), key=lambda kv: (order[kv[0][1]], kv[0][0])
        )
    ]


@dataclass(frozen=True, slots=True)
class Flow:
    """One school over a period: children flagged, those with a response recorded after
    the flag was raised, those whose latest status since is good progress or resolved, and
    the median days from the first raise to the first response."""

    urn: str
    name: str
    flagged: int
    responded: int
    progressed: int
    median_days: float | None

    @property
    def responded_rate(self) -> float | None:
        return _rate(self.responded, self.flagged)

    @property
    def progressed_rate(self) -> float | None:
        return _rate(self.progressed, self.flagged)


def response_flow(
    conn: Connection,
    starts: date,
    ends: date,
    zone: str | None = None,
    urn: str | None = None,
) -> list[Flow]:
    """Children with a flag raised between `starts` and `ends` (inclusive), per school the
    flag was raised at; a child's first raise in the period starts their clock."""
    q: Select[Any] = (
        select(flag_history.c.child_key, flag_history.c.raised_on, schools.c.urn, schools.c.name)
        .join(schools, schools.c.urn == flag_history.c.urn)
        .where(
            flag_history.c.flag.not_in(_sensitive()),
            flag_history.c.raised_on >= starts,
            flag_history.c.raised_on <= ends,
        )
    )
    q = _scoped(q, zone, urn, flag_history.c.urn)
    first: dict[str, tuple[date, str]] = {}
    names: dict[str, str] = {}
    for child, raised, s_urn, s_name in _rows(conn, q):
        names[s_urn] = s_name
        if child not in first or raised < first[child][0]:
            first[child] = (raised, s_urn)
    recorded: dict[str, list[tuple[date, object, str]]] = defaultdict(list)
    if first:
        oq = select(
            outcomes.c.child_key, outcomes.c.recorded_on, outcomes.c.recorded_at, outcomes.c.status
        ).where(outcomes.c.child_key.in_(list(first)), outcomes.c.recorded_on >= starts)
        for child, on, at, status in _rows(conn, oq):
            recorded[child].append((on, at, status))
    per: dict[str, list[tuple[bool, bool, int | None]]] = defaultdict(list)
    for child, (raised, s_urn) in first.items():
        after = sorted((r for r in recorded.get(child, []) if r[0] >= raised), key=_by_time)
        days = (after[0][0] - raised).days if after else None
        progressed = bool(after) and after[-1][2] in PROGRESS_STATUSES
        per[s_urn].append((bool(after), progressed, days))
    rows = []
    for s_urn, kids in sorted(per.items(), key=lambda kv: names[kv[0]]):
        waits = [d for _, _, d in kids if d is not None]
        rows.append(
            Flow(
                s_urn,
                names[s_urn],
                len(kids),
                sum(1 for r, _, _ in kids if r),
                sum(1 for _, p, _ in kids if p),
                float(median(waits)) if waits else None,
            )
        )
    return rows


def _by_time(row: tuple[date, object, str]) -> tuple[date, str]:
    return row[0], str(row[1])


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


@dataclass(frozen=True, slots=True)
class GroupRate:
    """A pupil group (all pupils, FSM eligible, SEN support, a year group) and, per flag,
    how many of its children have the flag raised now."""

    group: str
    pupils: int
    flagged: dict[str, int]

    def rate(self, flag: str) -> float | None:
        return _rate(self.flagged.get(flag, 0), self.pupils)


def group_rates(
    conn: Connection, flags: Iterable[str], zone: str | None = None, urn: str | None = None
) -> list[GroupRate]:
    """Children with a current row, by group; FSM and SEN groups are the children with that
    flag raised now (the read model holds eligibility as those flags)."""
    shown = [f for f in flags if f.upper() not in SENSITIVE]  # as given: ATTEND or attend
    cq = select(children.c.child_key, children.c.nc_year).join(
        schools, schools.c.urn == children.c.urn
    )
    pupils: dict[str, int | None] = {
        c: y for c, y in _rows(conn, _scoped(cq, zone, urn, children.c.urn))
    }
    fq = (
        select(child_flags.c.child_key, child_flags.c.flag)
        .join(schools, schools.c.urn == child_flags.c.urn)
        .where(child_flags.c.flag.not_in(_sensitive()))
    )
    has: dict[str, set[str]] = defaultdict(set)
    for child, flag in _rows(conn, _scoped(fq, zone, urn, child_flags.c.urn)):
        if child in pupils:
            has[child].add(flag)
    groups: dict[str, list[str]] = {"All pupils": list(pupils)}
    groups["FSM eligible"] = [c for c in pupils if "FSM" in has[c]]
    groups["SEN support"] = [c for c in pupils if "SEN" in has[c]]
    for year in sorted({y for y in pupils.values() if y is not None}):
        label = "Reception" if year == 0 else f"Year {year}"
        groups[label] = [c for c, y in pupils.items() if y == year]
    return [
        GroupRate(g, len(kids), {f: sum(1 for c in kids if f.upper() in has[c]) for f in shown})
        for g, kids in groups.items()
    ]


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
