"""Evidence of outcomes: re-referrals, the flag -> response -> progress flow, term-on-term
trends and rates by pupil group, computed from the read model's existing tables.

Why here and not in a service: the figures are read-model facts (no new table, no
migration), the same for every screen and for a BI export. Every query leaves out the
sensitive flags (Rule.sensitive: SAFEGUARD): they are for the DSL of the child's school
only, so an aggregate counting them would tell everyone else that one exists. The read
model keeps them out of these tables already; the filter here is the second wall.

Term-on-term trends are in evidence_trends.py (importable from here too), what every query
shares in evidence_shared.py.

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

from sqlalchemy import Connection, Select, select

from flagstream.domain.rules import SENSITIVE
from flagstream.term_calendar import TermCalendar

from .evidence_shared import _rate, _rows, _scoped, _sensitive
from .evidence_trends import TermFigure, TermTrend, by_zone, term_trends
from .tables import child_flags, children, flag_history, outcomes, schools

__all__ = [
    "PROGRESS_STATUSES",
    "REFERRAL_WINDOW_DAYS",
    "Flow",
    "GroupRate",
    "Referral",
    "TermFigure",
    "TermTrend",
    "by_zone",
    "group_rates",
    "is_rereferral",
    "rereferrals",
    "response_flow",
    "term_trends",
]

REFERRAL_WINDOW_DAYS = 365  # "within 12 months": the projector's re-referral window too
PROGRESS_STATUSES = ("Good progress", "Resolved")


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
