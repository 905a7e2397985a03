"""A batch of consumed records sorted into rows per table (the pure part of the projection:
no SQL); projector/writer.py writes them in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flagstream.codec_plain import Plain, plain_of
from flagstream.domain import events as ev

from .huddle_rows import huddle_row, review_outcomes, review_rows
from .places import place_row
from .rows import (
    Record,
    change_row,
    day,
    is_sensitive,
    outcome_row,
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
class Batch:
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


def _snapshot(b: Batch, r: Record, _c: Consumed) -> None:
    b.snapshots[r["child_key"]] = r


def _snapshots(b: Batch, r: Record, _c: Consumed) -> None:
    for s in r["snapshots"]:  # in order: the latest per child wins
        b.snapshots[s["child_key"]] = s


def _change(b: Batch, r: Record, c: Consumed) -> None:
    into = b.restricted_changes if is_sensitive(r["flag"]) else b.changes
    into.setdefault(r["event_id"], change_row(r, c.partition, c.offset))


def _school(b: Batch, r: Record, _c: Consumed) -> None:
    b.schools[r["urn"]] = school_row(r)


def _outcome(b: Batch, r: Record, _c: Consumed) -> None:
    b.outcomes.setdefault(r["event_id"], outcome_row(r))


def _huddle(b: Batch, r: Record, _c: Consumed) -> None:
    if r["event_id"] in b.huddles:
        return  # A repeat of the same event (at-least-once): the first copy stands.
    b.huddles[r["event_id"]] = huddle_row(r)
    for row in review_rows(r):
        b.huddle_reviews[(row["huddle_event_id"], row["child_key"])] = row
    for row in review_outcomes(r):
        b.outcomes.setdefault(row["event_id"], row)


def _enrolment(b: Batch, r: Record, c: Consumed) -> None:
    row = roll_row(r)
    b.rolls[(row["child_key"], row["urn"], row["joined_on"])] = row
    _household(b, r, c)
    if r.get("nhs_key"):
        b.links.setdefault(r["nhs_key"], r["child_key"])


def _household(b: Batch, r: Record, _c: Consumed) -> None:
    if r.get("household_key"):  # an enrolment or family case naming a household
        key = (r["household_key"], r["child_key"])
        b.households[key] = {"household_key": key[0], "child_key": key[1]}


def _day_ended(b: Batch, r: Record, _c: Consumed) -> None:
    b.days.add(day(r["day"]))  # from the clock topic or a partition of the attendance topic


def _mark_batch(b: Batch, r: Record, _c: Consumed) -> None:
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


def sort_batch(batch: Sequence[Consumed]) -> Batch:
    b = Batch()
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
