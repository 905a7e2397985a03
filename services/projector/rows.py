"""Pure conversions from plain Avro records (Codec.read_plain, flagstream/codec_plain.py) to
read-model rows and facts.

A plain record keeps Avro's stored values: timestamps in epoch milliseconds, dates in epoch
days, UUIDs as strings. Converting only the fields a row needs is what keeps the projector
cheap per record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

from flagstream import catalogue
from flagstream.catalogue import Freshness
from flagstream.domain.events import AttendanceMarksRecorded
from flagstream.domain.rules import SENSITIVE
from flagstream.logical import date_of, time_of

Record = dict[str, Any]
# An Avro date and timestamp-millis as date and datetime (cached: a batch repeats them).
day = date_of
at = time_of


def opt_day(days: int | None) -> date | None:
    """An optional Avro date."""
    return None if days is None else day(days)


# A partner event seen: (child_key, urn, source, received, data as of); urn is '' for
# council-wide sources (FSM, family support), received an Avro timestamp-millis and data
# as of an Avro date. A plain tuple: there is one per event.
SourceFact = tuple[str, str, str, int, int]


def school_row(r: Record) -> Record:
    """schools row."""
    return {
        "urn": r["urn"],
        "name": r["name"],
        "phase": r["phase"],
        "pyramid": r["pyramid"],
        "zone": r["zone"],
        "updated_at": at(r["recorded_at"]),
    }


def is_sensitive(flag: str) -> bool:
    """A flag only the DSL of the child's school may see (Rule.sensitive)."""
    return flag in SENSITIVE


def open_flags(flags: list[Record]) -> list[Record]:
    """A snapshot's flags that everyone in scope may see."""
    return [f for f in flags if f["flag"] not in SENSITIVE]


def child_row(r: Record) -> Record:
    """A ChildFlagsSnapshot's columns of a children row (outcome and source columns come
    elsewhere)."""
    possible, absent, flags = r["possible_sessions"], r["absent_sessions"], open_flags(r["flags"])
    return {
        "child_key": r["child_key"],
        "urn": r["urn"],
        "nc_year": r["nc_year"],
        "sex": r["sex"],
        "as_of": day(r["as_of"]),
        "possible_sessions": possible,
        "absent_sessions": absent,
        "attendance_pct": round(100.0 * (possible - absent) / possible, 2) if possible else None,
        "term_start": opt_day(r["term_start"]),
        "term_possible_sessions": r["term_possible_sessions"],
        "term_absent_sessions": r["term_absent_sessions"],
        "indicators": len(flags),
        "flags": ",".join(sorted(f["flag"] for f in flags)),
        "rule_version": r["rule_version"],
        "updated_at": at(r["recorded_at"]),
    }


def flag_rows(r: Record) -> list[Record]:
    """child_flags rows: a ChildFlagsSnapshot's open flags, one row per flag raised."""
    key, urn = r["child_key"], r["urn"]
    return [
        {
            "child_key": key,
            "flag": f["flag"],
            "urn": urn,
            "reason": f["reason"],
            "tier": f["tier"],
            "since": day(f["raised_on"]),
        }
        for f in r["flags"]
        if f["flag"] not in SENSITIVE
    ]


def restricted_rows(r: Record) -> list[Record]:
    """restricted_flags rows: a ChildFlagsSnapshot's sensitive flags."""
    return [
        {
            "child_key": r["child_key"],
            "flag": f["flag"],
            "urn": r["urn"],
            "reason": f["reason"],
            "tier": f["tier"],
            "raised_on": day(f["raised_on"]),
            "as_of": day(r["as_of"]),
            "updated_at": at(r["recorded_at"]),
        }
        for f in r["flags"]
        if f["flag"] in SENSITIVE
    ]


def change_row(r: Record, partition: int, offset: int) -> Record:
    """flag_changes row; partition and offset keep the flagger's order per child."""
    return {
        "event_id": r["event_id"],
        "child_key": r["child_key"],
        "urn": r["urn"],
        "flag": r["flag"],
        "change": r["change"],
        "reason": r["reason"],
        "rule_version": r["rule_version"],
        "as_of": day(r["as_of"]),
        "recorded_at": at(r["recorded_at"]),
        "kafka_partition": partition,
        "kafka_offset": offset,
    }


def outcome_row(r: Record) -> Record:
    """outcomes row."""
    return {
        "event_id": r["event_id"],
        "child_key": r["child_key"],
        "urn": r["urn"],
        "response": r["response"],
        "status": r["status"],
        "recorded_by": r["recorded_by"],
        "recorded_on": day(r["recorded_on"]),
        "recorded_at": at(r["recorded_at"]),
    }


def roll_row(r: Record) -> Record:
    """rolls row: one enrolment spell."""
    return {
        "child_key": r["child_key"],
        "urn": r["urn"],
        "joined_on": day(r["joined_on"]),
        "left_on": opt_day(r["left_on"]),
    }


def _fact(r: Record, urn: str, source: str, data_day: int) -> SourceFact:
    return (r["child_key"], urn, source, r["recorded_at"], data_day)


def _fact_of(fresh: Freshness) -> Callable[[Record], SourceFact]:
    """A kind's freshness fact from its plain record: the first of its day fields set."""
    source, days, urn = fresh.source, fresh.days, fresh.urn
    if len(days) == 1:
        (only,) = days
        return lambda r: _fact(r, r[urn] if urn else "", source, r[only])
    return lambda r: _fact(
        r, r[urn] if urn else "", source, next(r[d] for d in days if r[d] is not None)
    )


_FACTS: dict[type[Any], Callable[[Record], SourceFact]] = {}
_FACTS_OF = [-1]  # the catalogue generation _FACTS was built from


def _facts() -> dict[type[Any], Callable[[Record], SourceFact]]:
    """Event class -> its freshness fact, from the catalogue (rebuilt when it changes)."""
    if _FACTS_OF[0] != catalogue.generation():
        _FACTS.clear()
        for kind in catalogue.kinds():
            if kind.freshness is not None and kind.key == "child_key":
                _FACTS[kind.event_type] = _fact_of(kind.freshness)
        _FACTS_OF[0] = catalogue.generation()
    return _FACTS


def _latest_registers(seen: Iterable[tuple[str, str, int, int]]) -> Iterator[SourceFact]:
    """One register fact per (child, school) from (child_key, urn, received, data day)
    sightings: the latest time and day among them."""
    latest: dict[tuple[str, str], tuple[int, int]] = {}
    for child_key, urn, received, data_day in seen:
        key = (child_key, urn)
        held = latest.get(key)
        if held is not None:
            received, data_day = max(received, held[0]), max(data_day, held[1])
        latest[key] = (received, data_day)
    for (child_key, urn), (received, data_day) in latest.items():
        yield (child_key, urn, "register", received, data_day)


def register_facts(marks: Iterable[Record]) -> Iterator[SourceFact]:
    """One register fact per child in a batch of marks (the latest time and day among them)."""
    return _latest_registers((m["child_key"], m["urn"], m["recorded_at"], m["date"]) for m in marks)


def batch_facts(r: Record) -> Iterator[SourceFact]:
    """register_facts of an AttendanceMarkBatch, whose marks take their school, time and day
    from their context."""
    contexts = r["contexts"]
    return _latest_registers(
        (m["child_key"], c["urn"], c["recorded_at"], c["date"])
        for m in r["marks"]
        for c in (contexts[m["context"]],)
    )


def source_facts(kind: type[Any], r: Record) -> Iterator[SourceFact]:
    """The partner events a plain record of this event class carries (a register batch, in
    its compact form, carries many marks)."""
    if kind is AttendanceMarksRecorded:
        yield from batch_facts(r)
        return
    to_fact = _facts().get(kind)
    if to_fact is not None:
        yield to_fact(r)
