"""Read-model queries behind the screens. Callers pass the scope they checked; names never."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from readmodel import queries as council
from readmodel.flags import open_flags
from readmodel.tables import (
    child_flags,
    children,
    daily_counts,
    freshness,
    outcomes,
    restricted_flag_changes,
    restricted_flags,
    school_flag_counts,
    school_summary,
    schools,
)
from readmodel.tables import flag_history as flag_history_t


def flag_columns() -> tuple[str, ...]:
    """The open flags of the catalogue in lower case: a row's keys and the screens' columns."""
    return tuple(f.lower() for f in open_flags())


# Columns of children the school screen sorts by, besides a flag (the council's order).
SORTABLE = (
    "nc_year",
    "last_assessment_on",
    "sex",
    "indicators",
    "response",
    "status",
    "current_progress",
    "overall_progress",
    "attendance_pct",
)
REGISTER = "register"  # The freshness source of school registers.


@dataclass(frozen=True, slots=True)
class Counts:
    """Children on roll and flagged per flag, for a zone or a school."""

    label: str
    key: str
    children: int
    flagged: dict[str, int]
    any_flagged: int
    as_of: date | None = None
    extra: str = ""


@dataclass(frozen=True, slots=True)
class School:
    urn: str
    name: str
    phase: str
    pyramid: str
    zone: str


def zone_counts(conn: Connection) -> list[Counts]:
    """One row per zone (county screen), from the projector's council query."""
    return [
        Counts(
            label=r.zone,
            key=r.zone,
            children=int(r.children or 0),
            flagged={f: int(getattr(r, f) or 0) for f in flag_columns()},
            any_flagged=int(r.any_flag or 0),
        )
        for r in council.county_totals_by_zone(conn)
    ]


def school_counts(conn: Connection, zone: str) -> list[Counts]:
    """One row per school of a zone, ordered by pyramid then name (zone screen)."""
    t = school_summary.c
    stmt = (
        select(schools.c.urn, schools.c.name, schools.c.pyramid, t.children, t.any_flagged, t.as_of)
        .select_from(schools.outerjoin(school_summary, t.urn == schools.c.urn))
        .where(schools.c.zone == zone)
        .order_by(schools.c.pyramid, schools.c.name)
    )
    k = school_flag_counts.c
    per_flag = select(k.urn, k.flag, k.flagged).join(schools, schools.c.urn == k.urn)
    flagged: dict[str, dict[str, int]] = {}
    for urn, flag, n in conn.execute(per_flag.where(schools.c.zone == zone)):
        flagged.setdefault(urn, {})[flag.lower()] = int(n)
    return [
        Counts(
            label=r.name,
            key=r.urn,
            children=int(r.children or 0),
            flagged={f: flagged.get(r.urn, {}).get(f, 0) for f in flag_columns()},
            any_flagged=int(r.any_flagged or 0),
            as_of=r.as_of,
            extra=r.pyramid,
        )
        for r in conn.execute(stmt)
    ]


def school(conn: Connection, urn: str) -> School | None:
    row = conn.execute(select(schools).where(schools.c.urn == urn)).first()
    return School(row.urn, row.name, row.phase, row.pyramid, row.zone) if row else None


def _raised(flag: str) -> Any:
    """Whether the row's child has this flag raised now (a correlated EXISTS)."""
    f = child_flags.c
    return (
        select(f.child_key)
        .where(f.child_key == children.c.child_key, f.flag == flag.upper())
        .exists()
    )


def with_flags(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give each children row `<flag>`, `<flag>_reason`, `<flag>_tier` and `<flag>_since` for
    every open flag of the catalogue, from child_flags (one query)."""
    empty: dict[str, Any] = {}
    for name in flag_columns():
        empty.update({name: False, f"{name}_reason": None, f"{name}_tier": None})
        empty[f"{name}_since"] = None
    for row in rows:
        row.update(empty)
    if not rows:
        return rows
    by_key = {r["child_key"]: r for r in rows}
    cf = child_flags.c
    stmt = select(cf.child_key, cf.flag, cf.reason, cf.tier, cf.since)
    if len(rows) == 1:
        stmt = stmt.where(cf.child_key == rows[0]["child_key"])
    else:
        stmt = stmt.where(cf.urn.in_({r["urn"] for r in rows}))
    for key, flag, reason, tier, since in conn.execute(stmt):
        held, n = by_key.get(key), flag.lower()
        if held is not None:
            held.update({n: True, f"{n}_reason": reason, f"{n}_tier": tier, f"{n}_since": since})
    return rows


def school_children(
    conn: Connection,
    urn: str,
    sort: str = "indicators",
    descending: bool = True,
    flag: str | None = None,
    year: int | None = None,
    flagged_only: bool = False,
    keys: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """The school screen's child rows, sorted and filtered on the server; with `keys`, only
    those children's (the rows a live page is sent when they change)."""
    flags = flag_columns()
    column = children.c[sort] if sort in SORTABLE else _raised(sort) if sort in flags else None
    if column is None:
        column = children.c.indicators
    stmt = select(children).where(children.c.urn == urn)
    if flag in flags:
        stmt = stmt.where(_raised(flag))
    if year is not None:
        stmt = stmt.where(children.c.nc_year == year)
    if flagged_only:
        stmt = stmt.where(children.c.indicators > 0)
    if keys is not None:
        stmt = stmt.where(children.c.child_key.in_(sorted(keys)))
    order = column.desc() if descending else column.asc()
    stmt = stmt.order_by(order, children.c.child_key)
    return with_flags(conn, [dict(r._mapping) for r in conn.execute(stmt)])


def child(conn: Connection, child_key: str) -> dict[str, Any] | None:
    row = conn.execute(select(children).where(children.c.child_key == child_key)).first()
    return with_flags(conn, [dict(row._mapping)])[0] if row else None


def flag_history(conn: Connection, child_key: str) -> list[dict[str, Any]]:
    """The child's raised -> cleared intervals per flag, newest first."""
    stmt = (
        select(flag_history_t)
        .where(flag_history_t.c.child_key == child_key)
        .order_by(flag_history_t.c.raised_on.desc(), flag_history_t.c.flag)
    )
    return [dict(r._mapping) for r in conn.execute(stmt)]


def outcome_timeline(conn: Connection, child_key: str) -> list[dict[str, Any]]:
    """Outcomes recorded for a child, newest first."""
    stmt = (
        select(outcomes)
        .where(outcomes.c.child_key == child_key)
        .order_by(outcomes.c.recorded_on.desc(), outcomes.c.recorded_at.desc())
    )
    return [dict(r._mapping) for r in conn.execute(stmt)]


def trends(conn: Connection, zone: str | None = None) -> dict[str, list[tuple[date, int, int]]]:
    """(day, flagged, on roll) per flag (and ANY) per school day, for the county or a zone."""
    stmt = select(
        daily_counts.c.flag,
        daily_counts.c.day,
        func.sum(daily_counts.c.flagged),
        func.sum(daily_counts.c.on_roll),
    )
    if zone is not None:
        stmt = stmt.join(schools, schools.c.urn == daily_counts.c.urn).where(schools.c.zone == zone)
    stmt = stmt.group_by(daily_counts.c.flag, daily_counts.c.day).order_by(daily_counts.c.day)
    series: dict[str, list[tuple[date, int, int]]] = {f: [] for f in (*open_flags(), "ANY")}
    for flag, day, flagged, on_roll in conn.execute(stmt):
        series.setdefault(flag, []).append((day, int(flagged or 0), int(on_roll or 0)))
    return series


def freshness_of(conn: Connection, urn: str) -> list[dict[str, Any]]:
    """Data as of per source for a school (council-wide sources have urn '')."""
    stmt = (
        select(freshness)
        .where(freshness.c.urn.in_([urn, ""]))
        .order_by(freshness.c.source, freshness.c.urn.desc())
    )
    return [dict(r._mapping) for r in conn.execute(stmt)]


def latest_register_day(conn: Connection) -> date | None:
    """The newest day any school's register is about: 'today' as the data knows it."""
    day: date | None = conn.scalar(
        select(func.max(freshness.c.data_as_of)).where(freshness.c.source == REGISTER)
    )
    return day


def late_schools(
    conn: Connection, today: date | None, zone: str | None = None
) -> list[tuple[str, str, str, date | None]]:
    """(urn, name, zone, register as of) of schools whose register for `today` has not arrived."""
    if today is None:
        return []
    return [
        (r.urn, r.name, r.zone, r.data_as_of)
        for r in council.register_not_received(conn, today)
        if zone is None or r.zone == zone
    ]


# Sensitive flags (readmodel.tables.restricted_flags). The caller must have checked
# Principal.sees_sensitive_at(urn) for the child's current school: no other screen reads them.
SENSITIVE_COLUMNS = ("safeguard",)


def restricted_at_school(conn: Connection, urn: str) -> dict[str, dict[str, dict[str, Any]]]:
    """child_key -> lower-case flag -> {reason, tier, raised_on} for a school's children."""
    t = restricted_flags
    rows = conn.execute(select(t).where(t.c.urn == urn))
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        found.setdefault(r.child_key, {})[r.flag.lower()] = {
            "reason": r.reason,
            "tier": r.tier,
            "raised_on": r.raised_on,
        }
    return found


def restricted_of_child(
    conn: Connection, child_key: str, urn: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A child's sensitive flags now and every change to them, newest first, while the child
    is at `urn` (the DSL's school)."""
    now = select(restricted_flags).where(
        restricted_flags.c.child_key == child_key, restricted_flags.c.urn == urn
    )
    c = restricted_flag_changes.c
    changes = (
        select(restricted_flag_changes)
        .where(c.child_key == child_key)
        .order_by(c.kafka_partition, c.kafka_offset.desc())
    )
    return (
        [dict(r._mapping) for r in conn.execute(now)],
        [dict(r._mapping) for r in conn.execute(changes)],
    )
