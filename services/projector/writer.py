"""Applies a batch of consumed events to the read model in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from flagstream.codec_plain import Plain, plain_of
from flagstream.domain import events as ev
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
from .huddle_rows import huddle_row, review_outcomes, review_rows
from .links import apply_links
from .places import place_row
from .rows import (
    Record,
    change_row,
    child_row,
    day,
    flag_rows,
    is_sensitive,
    outcome_row,
    restricted_rows,
    roll_row,
    school_row,
    source_facts,
)


@dataclass(frozen=True, slots=True)
class Consumed:
    """One Kafka record: where it came from and what it carried, as a Plain record (the
    codec's cheap read, Codec.read_plain) or a domain event; None if undecodable."""

    topic: str
    partition: int
    offset: int
    event: Any


@dataclass
class _Batch:
    """A batch sorted into rows per table; within a batch the latest row per key wins."""

    schools: dict[str, Record] = field(default_factory=dict)
    snapshots: dict[str, Record] = field(default_factory=dict)  # plain, converted once
    changes: dict[str, Record] = field(default_factory=dict)
    restricted_changes: dict[str, Record] = field(default_factory=dict)  # sensitive flags
    outcomes: dict[str, Record] = field(default_factory=dict)
    huddles: dict[str, Record] = field(default_factory=dict)
    huddle_reviews: dict[tuple[str, str], Record] = field(default_factory=dict)
    rolls: dict[tuple[str, str, date], Record] = field(default_factory=dict)
    households: dict[tuple[str, str], Record] = field(default_factory=dict)  # families.md
    links: dict[str, str] = field(default_factory=dict)  # nhs_key -> child_key (links.py)
    places: dict[str, Record] = field(default_factory=dict)  # child_key -> row (places.py)
    days: set[date] = field(default_factory=set)
    # Latest [received, data as of] per (child, school, source) seen in the batch.
    facts: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)


def _snapshot(b: _Batch, r: Record, _c: Consumed) -> None:
    b.snapshots[r["child_key"]] = r


def _snapshots(b: _Batch, r: Record, _c: Consumed) -> None:
    for s in r["snapshots"]:  # in order: the latest per child wins
        b.snapshots[s["child_key"]] = s


def _change(b: _Batch, r: Record, c: Consumed) -> None:
    into = b.restricted_changes if is_sensitive(r["flag"]) else b.changes
    into.setdefault(r["event_id"], change_row(r, c.partition, c.offset))


def _school(b: _Batch, r: Record, _c: Consumed) -> None:
    b.schools[r["urn"]] = school_row(r)


def _outcome(b: _Batch, r: Record, _c: Consumed) -> None:
    b.outcomes.setdefault(r["event_id"], outcome_row(r))


def _huddle(b: _Batch, r: Record, _c: Consumed) -> None:
    if r["event_id"] in b.huddles:
        return  # A repeat of the same event (at-least-once): the first copy stands.
    b.huddles[r["event_id"]] = huddle_row(r)
    for row in review_rows(r):
        b.huddle_reviews[(row["huddle_event_id"], row["child_key"])] = row
    for row in review_outcomes(r):
        b.outcomes.setdefault(row["event_id"], row)


def _enrolment(b: _Batch, r: Record, c: Consumed) -> None:
    row = roll_row(r)
    b.rolls[(row["child_key"], row["urn"], row["joined_on"])] = row
    _household(b, r, c)
    if r.get("nhs_key"):
        b.links.setdefault(r["nhs_key"], r["child_key"])


def _household(b: _Batch, r: Record, _c: Consumed) -> None:
    if r.get("household_key"):  # an enrolment or family case naming a household
        key = (r["household_key"], r["child_key"])
        b.households[key] = {"household_key": key[0], "child_key": key[1]}


def _day_ended(b: _Batch, r: Record, _c: Consumed) -> None:
    b.days.add(day(r["day"]))  # from the clock topic or a partition of the attendance topic


def _mark_batch(b: _Batch, r: Record, _c: Consumed) -> None:
    b.days.update(day(d) for d in {c["date"] for c in r["contexts"]})


# By event class; an AttendanceMarksRecorded's plain record is its compact batch form.
_SORT = {
    ev.ChildFlagsSnapshot: _snapshot,
    ev.ChildFlagsSnapshots: _snapshots,
    ev.FlagChanged: _change,
    ev.SchoolRecorded: _school,
    ev.OutcomeRecorded: _outcome,
    ev.HuddleRecorded: _huddle,
    ev.EnrolmentRecorded: _enrolment,
    ev.FamilyCaseRecorded: _household,
    ev.DayEnded: _day_ended,
    ev.AttendanceMarksRecorded: _mark_batch,
}


def _sort(batch: Sequence[Consumed]) -> _Batch:
    b = _Batch()
    for record in batch:
        if record.event is None:
            continue
        p = record.event if isinstance(record.event, Plain) else plain_of(record.event)
        for child_key, urn, source, received, data_day in source_facts(p.kind, p.record):
            times = b.facts.get((child_key, urn, source))
            if times is None:
                b.facts[(child_key, urn, source)] = [received, data_day]
            else:
                times[0], times[1] = max(times[0], received), max(times[1], data_day)
        sort = _SORT.get(p.kind)
        if sort is not None:
            sort(b, p.record, record)
        if (place := place_row(p.kind, p.record)) is not None:
            b.places[place["child_key"]] = place
    return b


def _dirty(conn: Connection, b: _Batch, known: set[str]) -> tuple[dict[str, date], set[date]]:
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
    b = _sort(batch)
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
    conn: Connection, b: _Batch, child_rows: list[Record], before: dict[str, str]
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


def _write_flags(conn: Connection, b: _Batch, new_children: set[str]) -> None:
    """Each snapshot's child's open flags replaced: the rows of the children already there
    deleted in one statement (a new child has none), then one row per flag raised."""
    if b.snapshots:
        bulk.delete_keys(conn, child_flags, "child_key", b.snapshots.keys() - new_children)
        rows = [row for r in b.snapshots.values() for row in flag_rows(r)]
        bulk.write(conn, child_flags, rows, "nothing")


def _write_restricted(conn: Connection, b: _Batch) -> None:
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
