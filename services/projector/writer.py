"""Applies a batch of consumed events to the read model in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from flagstream.domain.events import (
    AttendanceMarksRecorded,
    ChildFlagsSnapshot,
    DayEnded,
    EnrolmentRecorded,
    FlagChanged,
    OutcomeRecorded,
    SchoolRecorded,
)
from flagstream.upsert import insert_new, upsert

from . import daily, derived, history
from .rows import change_row, child_row, outcome_row, roll_row, school_row, source_facts
from .tables import children, flag_changes, outcomes, projector_offsets, rolls, school_days, schools
from .upserts import upsert_columns


@dataclass(frozen=True, slots=True)
class Consumed:
    """One Kafka record: where it came from and the event it carried (None if undecodable)."""

    topic: str
    partition: int
    offset: int
    event: Any


@dataclass
class _Batch:
    """A batch sorted into rows per table; within a batch the latest row per key wins."""

    schools: dict[str, dict[str, Any]]
    children: dict[str, dict[str, Any]]
    changes: dict[str, dict[str, Any]]
    outcomes: dict[str, dict[str, Any]]
    rolls: dict[tuple[str, str, date], dict[str, Any]]
    days: set[date]
    facts: list[Any]


def _sort(batch: Sequence[Consumed]) -> _Batch:
    b = _Batch({}, {}, {}, {}, {}, set(), [])
    for record in batch:
        e = record.event
        b.facts.extend(source_facts(e))
        if isinstance(e, ChildFlagsSnapshot):
            b.children[e.child_key] = child_row(e)
        elif isinstance(e, FlagChanged):
            b.changes.setdefault(str(e.event_id), change_row(e, record.partition, record.offset))
        elif isinstance(e, SchoolRecorded):
            b.schools[e.urn] = school_row(e)
        elif isinstance(e, OutcomeRecorded):
            b.outcomes.setdefault(str(e.event_id), outcome_row(e))
        elif isinstance(e, EnrolmentRecorded):
            b.rolls[(e.child_key, e.urn, e.joined_on)] = roll_row(e)
        elif isinstance(e, DayEnded):
            b.days.add(e.day)
        elif isinstance(e, AttendanceMarksRecorded):
            b.days.update(m.date for m in e.marks)
    return b


def _dirty(conn: Connection, b: _Batch, known: set[str]) -> dict[str, date]:
    """The earliest day whose daily counts this batch may change, per school."""
    dirty: dict[str, date] = {}

    def mark(urn: str, day: date) -> None:
        dirty[urn] = min(day, dirty.get(urn, day))

    for c in b.changes.values():
        mark(c["urn"], c["as_of"])
    for r in b.rolls.values():
        mark(r["urn"], min(r["joined_on"], r["left_on"] or r["joined_on"]))
    new_days = b.days - set(
        conn.scalars(select(school_days.c.day).where(school_days.c.day.in_(b.days)))
    )
    if new_days:
        insert_new(conn, school_days, [{"day": d} for d in sorted(new_days)])
        for urn in known:
            mark(urn, min(new_days))
    for urn in list(dirty):
        if urn not in known:
            dirty[urn] = date.min  # A school seen for the first time: every day gets its rows.
    return dirty


def project(conn: Connection, batch: Sequence[Consumed]) -> dict[str, int]:
    """Write the batch's rows and the next offsets; returns rows written per table."""
    b = _sort(batch)
    known = daily.known_urns(conn)
    child_rows = list(b.children.values())
    urns = {r["urn"] for r in child_rows}
    new_children: set[str] = set()
    if child_rows:
        keys = [r["child_key"] for r in child_rows]
        query = select(children.c.child_key, children.c.urn).where(children.c.child_key.in_(keys))
        existing: dict[str, str] = {k: u for k, u in conn.execute(query)}
        urns |= set(existing.values())
        new_children = set(keys) - set(existing)
    if b.schools:
        upsert(conn, schools, list(b.schools.values()))
        derived.refresh_zones(conn)
    upsert_columns(conn, children, child_rows)
    insert_new(conn, flag_changes, list(b.changes.values()))
    insert_new(conn, outcomes, list(b.outcomes.values()))
    upsert(conn, rolls, list(b.rolls.values()))
    touched = derived.record_sources(conn, b.facts)
    derived.refresh_children(
        conn, new_children | touched | {o["child_key"] for o in b.outcomes.values()}
    )
    derived.refresh_summaries(conn, urns)
    history.rebuild(conn, sorted({c["child_key"] for c in b.changes.values()}))
    daily.refresh(conn, _dirty(conn, b, known))
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
        "schools": len(b.schools),
        "children": len(child_rows),
        "flag_changes": len(b.changes),
        "outcomes": len(b.outcomes),
        "source_events": len(b.facts),
    }


def stored_offsets(conn: Connection) -> dict[tuple[str, int], int]:
    """Next offset to read per (topic, partition), as committed."""
    rows = conn.execute(select(projector_offsets)).all()
    return {(r.topic, r.partition): r.next_offset for r in rows}
