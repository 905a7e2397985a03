"""Tables derived from others in the same transaction: summaries, zones, child columns."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, case, delete, func, select, update

from flagstream.upsert import upsert

from .progress import current_progress, overall_progress
from .rows import SourceFact
from .tables import (
    FLAGS,
    SOURCES,
    child_sources,
    children,
    freshness,
    outcomes,
    pyramids,
    school_summary,
    schools,
    zones,
)
from .upserts import upsert_max

CHUNK = 5000  # Keys per IN (...) list: well under SQLite's and PostgreSQL's bind limits.


def chunks(keys: Sequence[str]) -> Iterator[list[str]]:
    """Slices of at most CHUNK keys."""
    for i in range(0, len(keys), CHUNK):
        yield list(keys[i : i + CHUNK])


def record_sources(conn: Connection, facts: Sequence[SourceFact]) -> set[str]:
    """MAX-merge child_sources and freshness; returns the children touched."""
    per_child: dict[tuple[str, str], dict[str, Any]] = {}
    per_school: dict[tuple[str, str], dict[str, Any]] = {}
    for f in facts:
        for table, key, base in (
            (per_child, (f.child_key, f.source), {"child_key": f.child_key}),
            (per_school, (f.urn, f.source), {"urn": f.urn}),
        ):
            row = table.get(key)
            if row is None:
                table[key] = {
                    **base,
                    "source": f.source,
                    "last_received_at": f.received_at,
                    "data_as_of": f.data_as_of,
                }
            else:
                row["last_received_at"] = max(row["last_received_at"], f.received_at)
                row["data_as_of"] = max(row["data_as_of"], f.data_as_of)
    cols = ("last_received_at", "data_as_of")
    upsert_max(conn, child_sources, sorted(per_child.values(), key=_key), cols)
    upsert_max(conn, freshness, sorted(per_school.values(), key=_key), cols)
    return {k[0] for k in per_child}


def _key(row: dict[str, Any]) -> tuple[str, str]:
    return (row.get("child_key") or row["urn"], row["source"])


def _source_values() -> dict[str, Any]:
    s = child_sources.c

    def latest(source: str, col: Any) -> Any:
        return (
            select(col)
            .where(s.child_key == children.c.child_key, s.source == source)
            .scalar_subquery()
        )

    values = {f"last_{src}_at": latest(src, s.last_received_at) for src in SOURCES}
    values["last_assessment_on"] = latest("assessment", s.data_as_of)
    return values


def refresh_children(conn: Connection, keys: set[str]) -> None:
    """Copy source times and outcome progress into these children's rows."""
    ordered = sorted(keys)
    for part in chunks(ordered):
        conn.execute(
            update(children).where(children.c.child_key.in_(part)).values(**_source_values())
        )
    o = outcomes.c
    sequences: dict[str, list[Any]] = {}
    for part in chunks(ordered):
        query = (
            select(o.child_key, o.response, o.status, o.recorded_on)
            .where(o.child_key.in_(part))
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
    """Recompute school_summary for these schools from their children rows."""
    if not urns:
        return
    c = children.c
    counts = conn.execute(
        select(
            c.urn,
            func.count(),
            func.sum(case((c.indicators > 0, 1), else_=0)),
            func.max(c.as_of),
            *(func.sum(case((c[f.lower()], 1), else_=0)) for f in FLAGS),
        )
        .where(c.urn.in_(urns))
        .group_by(c.urn)
    ).all()
    found = {row[0]: row for row in counts}
    rows = []
    for urn in sorted(urns):
        r = found.get(urn)
        row: dict[str, Any] = {
            "urn": urn,
            "children": int(r[1]) if r else 0,
            "any_flagged": int(r[2] or 0) if r else 0,
            "as_of": r[3] if r else None,
        }
        for i, flag in enumerate(FLAGS):
            row[f"{flag.lower()}_flagged"] = int(r[4 + i] or 0) if r else 0
        rows.append(row)
    upsert(conn, school_summary, rows)


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
