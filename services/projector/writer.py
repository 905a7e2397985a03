"""Applies a batch of consumed events to the read model in the caller's transaction; the
batch is first sorted into rows per table (batch_rows.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import Connection, delete, select

from flagstream.upsert import insert_new, upsert
from readmodel import changes
from readmodel.tables import (
    child_flags,
    child_households,
    child_places,
    children,
    flag_changes,
    huddle_reviews,
    huddles,
    outcomes,
    projector_offsets,
    restricted_flag_changes,
    restricted_flags,
    rolls,
    school_days,
    schools,
)

from . import bulk, daily, derived, history
from .batch_rows import Batch, Consumed, sort_batch
from .links import apply_links
from .rows import Record, child_row, flag_rows, restricted_rows

__all__ = ["Consumed", "KnownSchools", "project", "stored_offsets"]


def _dirty(conn: Connection, b: Batch, known: set[str]) -> tuple[dict[str, date], set[date]]:
    """The earliest day whose daily counts this batch may change, per school, and the school
    days it adds (stored here; daily.extend gives the other known schools their rows)."""
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
        for urn in dirty:
            dirty[urn] = min(dirty[urn], min(new_days))  # its recompute covers them too
    for urn in list(dirty):
        if urn not in known:
            dirty[urn] = date.min  # A school seen for the first time: every day gets its rows.
    return dirty, new_days


class KnownSchools:
    """Schools whose daily counts exist (daily.known_urns), read once and then kept up to
    date by the one projector that writes the database: the query's DISTINCT scans cost
    ~46 ms a batch on a Dorset-size read model. A batch's schools join only after commit."""

    def __init__(self) -> None:
        self._urns: set[str] | None = None
        self._staged: set[str] = set()

    def urns(self, conn: Connection) -> set[str]:
        """The known schools (read from the database the first time)."""
        if self._urns is None:
            self._urns = daily.known_urns(conn)
        return self._urns

    def stage(self, urns: set[str]) -> None:
        """Schools the batch being written recomputed (they join on commit())."""
        self._staged = urns

    def commit(self) -> None:
        """The staged batch is committed: its schools are known from now on."""
        if self._urns is not None:
            self._urns |= self._staged
        self._staged = set()


def project(
    conn: Connection,
    batch: Sequence[Consumed],
    known: KnownSchools | None = None,
    reflag_after_days: int = 0,
) -> dict[str, int]:
    """Write the batch's rows and the next offsets; returns rows written per table. With
    `known`, call known.commit() once the transaction has committed."""
    b = sort_batch(batch)
    apply_links(conn, b.snapshots, b.links, b.places)  # a linked number is no child of its own
    schools_known = known or KnownSchools()
    child_rows = [child_row(r) for r in b.snapshots.values()]
    urns = {r["urn"] for r in child_rows}
    new_children: set[str] = set()
    existing: dict[str, str] = {}
    if child_rows:
        keys = [r["child_key"] for r in child_rows]
        query = select(children.c.child_key, children.c.urn)
        existing = dict(
            conn.execute(query.where(bulk.one_of(conn, children.c.child_key, keys))).all()
        )
        urns |= set(existing.values())
        new_children = set(keys) - set(existing)
    if b.schools:
        upsert(conn, schools, list(b.schools.values()))
        derived.refresh_zones(conn)
    bulk.write(conn, children, child_rows, "replace")
    _write_flags(conn, b, new_children)
    bulk.write(conn, flag_changes, list(b.changes.values()), "nothing")
    _write_restricted(conn, b)
    bulk.write(conn, outcomes, list(b.outcomes.values()), "nothing")
    bulk.write(conn, huddles, list(b.huddles.values()), "nothing")
    bulk.write(conn, huddle_reviews, list(b.huddle_reviews.values()), "nothing")
    bulk.write(conn, rolls, list(b.rolls.values()), "replace")
    bulk.write(conn, child_households, list(b.households.values()), "nothing")
    bulk.write(conn, child_places, list(b.places.values()), "replace")
    seen = derived.record_sources(conn, b.facts)
    derived.refresh_children(
        conn, new_children, seen, {o["child_key"] for o in b.outcomes.values()}
    )
    derived.refresh_summaries(conn, urns)
    history.rebuild(conn, sorted({c["child_key"] for c in b.changes.values()}), reflag_after_days)
    counted = schools_known.urns(conn)
    dirty, new_days = _dirty(conn, b, counted)
    daily.refresh(conn, dirty)
    daily.extend(conn, counted - dirty.keys(), new_days)
    schools_known.stage(set(dirty))
    # A new school day can move a leaver off every school's list: each school changed.
    changed = urns | set(dirty) | (counted if new_days else set())
    changes.mark(conn, _touched(conn, b, child_rows, existing), changed, _now())
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
        "huddles": len(b.huddles),
        "source_events": len(b.facts),
    }


def _now() -> datetime:
    return datetime.now(UTC)


def _touched(
    conn: Connection, b: Batch, child_rows: list[Record], before: dict[str, str]
) -> set[tuple[str, str]]:
    """(child, school) rows on a school's list this batch changed: a moved child's old school
    too, an outcome or spell under the child's current school (for the dashboard's live
    pages, readmodel/changes.py)."""
    touched = {(r["child_key"], r["urn"]) for r in child_rows} | set(before.items())
    others = {o["child_key"] for o in b.outcomes.values()} | {k for k, _u, _d in b.rolls}
    if others:
        c = children.c
        query = select(c.child_key, c.urn).where(bulk.one_of(conn, c.child_key, others))
        touched |= {(key, urn) for key, urn in conn.execute(query)}
    return touched


def _write_flags(conn: Connection, b: Batch, new_children: set[str]) -> None:
    """Each snapshot's child's open flags replaced: the rows of the children already there
    deleted in one statement (a new child has none), then one row per flag raised."""
    if b.snapshots:
        bulk.delete_keys(conn, child_flags, "child_key", b.snapshots.keys() - new_children)
        rows = [row for r in b.snapshots.values() for row in flag_rows(r)]
        bulk.write(conn, child_flags, rows, "nothing")


def _write_restricted(conn: Connection, b: Batch) -> None:
    """Sensitive flags into their own tables: each snapshot's child's current ones replaced."""
    if b.snapshots:
        conn.execute(
            delete(restricted_flags).where(
                bulk.one_of(conn, restricted_flags.c.child_key, list(b.snapshots))
            )
        )
        rows = [row for r in b.snapshots.values() for row in restricted_rows(r)]
        bulk.write(conn, restricted_flags, rows, "replace")
    bulk.write(conn, restricted_flag_changes, list(b.restricted_changes.values()), "nothing")


def stored_offsets(conn: Connection) -> dict[tuple[str, int], int]:
    """Next offset to read per (topic, partition), as committed."""
    rows = conn.execute(select(projector_offsets)).all()
    return {(r.topic, r.partition): r.next_offset for r in rows}
