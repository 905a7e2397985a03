"""Applies a batch of consumed events to the read model in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, case, func, select

from flagstream.domain.events import ChildFlagsSnapshot, FlagChanged, SchoolRecorded
from flagstream.upsert import insert_new, upsert

from .tables import FLAGS, children, flag_changes, projector_offsets, school_summary, schools


@dataclass(frozen=True, slots=True)
class Consumed:
    """One Kafka record: where it came from and the event it carried (None if undecodable)."""

    topic: str
    partition: int
    offset: int
    event: Any


def _school_row(e: SchoolRecorded) -> dict[str, Any]:
    return {
        "urn": e.urn,
        "name": e.name,
        "phase": e.phase,
        "pyramid": e.pyramid,
        "zone": e.zone,
        "updated_at": e.recorded_at,
    }


def _flag_values(e: ChildFlagsSnapshot) -> dict[str, Any]:
    active = {f.flag: f for f in e.flags}
    row: dict[str, Any] = {}
    for flag in FLAGS:
        name, f = flag.lower(), active.get(flag)
        row[name] = f is not None
        row[f"{name}_reason"] = f.reason if f else None
        row[f"{name}_tier"] = f.tier if f else None
        row[f"{name}_since"] = f.raised_on if f else None
    return row


def _child_row(e: ChildFlagsSnapshot) -> dict[str, Any]:
    possible = e.possible_sessions
    return {
        "child_key": e.child_key,
        "urn": e.urn,
        "nc_year": e.nc_year,
        "sex": e.sex,
        "as_of": e.as_of,
        "possible_sessions": possible,
        "absent_sessions": e.absent_sessions,
        "attendance_pct": round(100.0 * (possible - e.absent_sessions) / possible, 2)
        if possible
        else None,
        **_flag_values(e),
        "indicators": len(e.flags),
        "rule_version": e.rule_version,
        "updated_at": e.recorded_at,
    }


def _change_row(e: FlagChanged) -> dict[str, Any]:
    return {
        "event_id": str(e.event_id),
        "child_key": e.child_key,
        "urn": e.urn,
        "flag": e.flag,
        "change": e.change,
        "reason": e.reason,
        "rule_version": e.rule_version,
        "as_of": e.as_of,
        "recorded_at": e.recorded_at,
    }


ROWS: dict[type[Any], Callable[[Any], dict[str, Any]]] = {
    SchoolRecorded: _school_row,
    ChildFlagsSnapshot: _child_row,
    FlagChanged: _change_row,
}


def _refresh_summaries(conn: Connection, urns: set[str]) -> None:
    if not urns:
        return
    counts = conn.execute(
        select(
            children.c.urn,
            func.count(),
            func.sum(case((children.c.indicators > 0, 1), else_=0)),
            func.max(children.c.as_of),
            *(func.sum(case((children.c[f.lower()], 1), else_=0)) for f in FLAGS),
        )
        .where(children.c.urn.in_(urns))
        .group_by(children.c.urn)
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


def project(conn: Connection, batch: Sequence[Consumed]) -> dict[str, int]:
    """Write the batch's rows and the next offsets; returns rows written per table."""
    by_table: dict[type[Any], dict[Any, dict[str, Any]]] = {t: {} for t in ROWS}
    for record in batch:
        to_row = ROWS.get(type(record.event))
        if to_row is None:
            continue
        row = to_row(record.event)
        # Within a batch only the latest row per key matters (snapshots replace each other).
        key = row.get("child_key") if type(record.event) is ChildFlagsSnapshot else None
        key = key or row.get("event_id") or row["urn"]
        by_table[type(record.event)][key] = row
    child_rows = list(by_table[ChildFlagsSnapshot].values())
    urns = {r["urn"] for r in child_rows}
    if child_rows:
        keys = [r["child_key"] for r in child_rows]
        urns |= set(conn.scalars(select(children.c.urn).where(children.c.child_key.in_(keys))))
    upsert(conn, schools, list(by_table[SchoolRecorded].values()))
    upsert(conn, children, child_rows)
    insert_new(conn, flag_changes, list(by_table[FlagChanged].values()))
    _refresh_summaries(conn, urns)
    next_offsets: dict[tuple[str, int], int] = {}
    for record in batch:
        tp = (record.topic, record.partition)
        next_offsets[tp] = max(next_offsets.get(tp, 0), record.offset + 1)
    upsert(
        conn,
        projector_offsets,
        [{"topic": t, "partition": p, "next_offset": o} for (t, p), o in next_offsets.items()],
    )
    return {
        "schools": len(by_table[SchoolRecorded]),
        "children": len(child_rows),
        "flag_changes": len(by_table[FlagChanged]),
    }


def stored_offsets(conn: Connection) -> dict[tuple[str, int], int]:
    """Next offset to read per (topic, partition), as committed."""
    rows = conn.execute(select(projector_offsets)).all()
    return {(r.topic, r.partition): r.next_offset for r in rows}
