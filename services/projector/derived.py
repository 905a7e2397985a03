"""Tables derived from others in the same transaction: summaries, zones, child columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, case, delete, func, select, update

from flagstream.upsert import upsert
from projector.outcome_progress import current_progress, overall_progress
from readmodel.tables import (
    child_flags,
    child_sources,
    children,
    freshness,
    outcomes,
    pyramids,
    school_flag_counts,
    school_summary,
    schools,
    zones,
)

from . import bulk
from .rows import at, day

SourceTimes = tuple[int, int]  # (received, Avro timestamp-millis; data as of, Avro date)


def record_sources(
    conn: Connection, facts: Mapping[tuple[str, str, str], Sequence[int]]
) -> dict[str, dict[str, SourceTimes]]:
    """MAX-merge child_sources and freshness from the batch's latest (received, data as of)
    per (child, school, source); returns each child's sources in this batch."""
    per_child: dict[tuple[str, str], SourceTimes] = {}
    per_school: dict[tuple[str, str], SourceTimes] = {}
    for (child_key, urn, source), (ms, data_day) in facts.items():
        for merged, key in ((per_child, (child_key, source)), (per_school, (urn, source))):
            seen = merged.get(key)
            merged[key] = (
                (ms, data_day) if seen is None else (max(seen[0], ms), max(seen[1], data_day))
            )
    for table, merged, name in (
        (child_sources, per_child, "child_key"),
        (freshness, per_school, "urn"),
    ):
        rows = [
            {name: k, "source": src, "last_received_at": at(ms), "data_as_of": day(d)}
            for (k, src), (ms, d) in merged.items()
        ]
        bulk.write(conn, table, rows, "max")
    seen_by_child: dict[str, dict[str, SourceTimes]] = {}
    for (child_key, source), times in per_child.items():
        seen_by_child.setdefault(child_key, {})[source] = times
    return seen_by_child


def _sources(
    conn: Connection, new: set[str], seen: Mapping[str, Mapping[str, SourceTimes]]
) -> dict[str, dict[str, Any]]:
    """Per child, the source columns its row must be raised to.

    A row's source columns equal child_sources' once it exists: a new row (all NULL) takes
    every source from child_sources, an existing row only this batch's times (its own MAX
    already covers every earlier batch)."""
    rows: dict[str, dict[str, Any]] = {}

    def put(key: str, source: str, received: Any, data_as_of: Any) -> None:
        row = rows.setdefault(key, {})
        column = f"last_{source}_at"
        if column in children.c:  # a source without a column yet is only in child_sources
            row[column] = received
        if source == "assessment":
            row["last_assessment_on"] = data_as_of

    s = child_sources.c
    if new:
        query = select(s.child_key, s.source, s.last_received_at, s.data_as_of)
        query = query.where(bulk.one_of(conn, s.child_key, new))
        for key, source, received, data_as_of in conn.execute(query):
            put(key, source, received, data_as_of)
    for key, times in seen.items():
        if key not in new:
            for source, (ms, data_day) in times.items():
                put(key, source, at(ms), day(data_day))
    return {k: v for k, v in rows.items() if v}


def refresh_children(
    conn: Connection,
    new: set[str],
    seen: Mapping[str, Mapping[str, SourceTimes]],
    outcome_keys: set[str],
) -> None:
    """Bring these children's source times and outcome progress up to date: every source for
    rows new in this batch, only the sources seen for the others."""
    bulk.raise_to(conn, children, "child_key", _sources(conn, new, seen))
    o = outcomes.c
    sequences: dict[str, list[Any]] = {}
    if new or outcome_keys:  # a new row needs its outcomes too
        query = (
            select(o.child_key, o.response, o.status, o.recorded_on)
            .where(bulk.one_of(conn, o.child_key, new | outcome_keys))
            .order_by(o.child_key, o.recorded_on, o.recorded_at, o.event_id)
        )
        for row in conn.execute(query):
            sequences.setdefault(row.child_key, []).append(row)
    if not sequences:
        return
    rows = []
    for key, seq in sequences.items():
        statuses = [r.status for r in seq]
        rows.append(
            {
                "k": key,
                "response": seq[-1].response,
                "status": seq[-1].status,
                "current_progress": current_progress(statuses),
                "overall_progress": overall_progress(statuses),
                "outcome_on": seq[-1].recorded_on,
            }
        )
    stmt = update(children).where(children.c.child_key == bindparam("k"))
    conn.execute(stmt, rows)


def refresh_summaries(conn: Connection, urns: set[str]) -> None:
    """Recompute school_summary and school_flag_counts for these schools from their children
    and child_flags rows."""
    if not urns:
        return
    c = children.c
    counts = conn.execute(
        select(
            c.urn,
            func.count(),
            func.sum(case((c.indicators > 0, 1), else_=0)),
            func.max(c.as_of),
        )
        .where(c.urn.in_(urns))
        .group_by(c.urn)
    ).all()
    found = {row[0]: row for row in counts}
    rows = []
    for urn in sorted(urns):
        r = found.get(urn)
        rows.append(
            {
                "urn": urn,
                "children": int(r[1]) if r else 0,
                "any_flagged": int(r[2] or 0) if r else 0,
                "as_of": r[3] if r else None,
            }
        )
    upsert(conn, school_summary, rows)
    # Per-flag counts computed and stored by the database in one statement: nothing to fetch.
    f, k = child_flags.c, school_flag_counts.c
    conn.execute(delete(school_flag_counts).where(k.urn.in_(urns)))
    per_flag = select(f.urn, f.flag, func.count()).where(f.urn.in_(urns)).group_by(f.urn, f.flag)
    conn.execute(school_flag_counts.insert().from_select(["urn", "flag", "flagged"], per_flag))


def _replace(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    conn.execute(delete(table))
    if rows:
        conn.execute(table.insert(), rows)


def refresh_zones(conn: Connection) -> None:
    """Rebuild zones and pyramids from schools (small tables: replaced whole)."""
    s = schools.c
    pyr = select(s.pyramid, func.min(s.zone), func.count()).group_by(s.pyramid)
    _replace(
        conn,
        pyramids,
        [{"pyramid": p, "zone": z, "schools": int(n)} for p, z, n in conn.execute(pyr)],
    )
    zq = select(s.zone, func.count(func.distinct(s.pyramid)), func.count()).group_by(s.zone)
    _replace(
        conn,
        zones,
        [{"zone": z, "pyramids": int(p), "schools": int(n)} for z, p, n in conn.execute(zq)],
    )
