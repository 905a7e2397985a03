"""A snapshot written before the term-to-date fields (schemas/older/ChildFlagsSnapshot.1.avsc,
ChildFlagsSnapshots.1.avsc) reads with no term and 0 sessions, on every read path; one written
now round-trips them."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from flagstream.codec import DEFAULT_SCHEMAS_DIR, HEADER_LEN, Codec
from flagstream.codec_older import OLDER
from flagstream.domain.events import ActiveFlag, ChildFlagsSnapshot, ChildFlagsSnapshots

from .test_codec_evolution import written_by_apache_avro

CODEC = Codec()
T = datetime(2026, 11, 6, 16, 0, tzinfo=UTC)
SNAPSHOT = ChildFlagsSnapshot(
    event_id=uuid.uuid4(),
    source="flagger",
    occurred_at=T,
    recorded_at=T,
    child_key="c1",
    urn="100001",
    nc_year=5,
    sex="F",
    as_of=date(2026, 11, 6),
    possible_sessions=98,
    absent_sessions=14,
    flags=[ActiveFlag(flag="ATTEND", reason="r", raised_on=date(2026, 11, 2), tier="persistent")],
    rule_version="v1",
)
TERMED = replace(
    SNAPSHOT, term_start=date(2026, 9, 2), term_possible_sessions=98, term_absent_sessions=14
)


def _older(name: str) -> dict[str, Any]:
    return json.loads((DEFAULT_SCHEMAS_DIR / OLDER / f"{name}.1.avsc").read_text())  # type: ignore[no-any-return]


def _old_record(event: Any) -> dict[str, Any]:
    """The event's record as the older schema has it: without the term fields."""
    typed = CODEC.decode_record(CODEC.encode(event))[1]
    term = ("term_start", "term_possible_sessions", "term_absent_sessions")
    if "snapshots" in typed:
        return {
            "batch_id": str(typed["batch_id"]),
            "snapshots": [_old_record(s) for s in event.snapshots],
        }
    return {**{k: v for k, v in typed.items() if k not in term}, "event_id": str(typed["event_id"])}


def test_a_snapshot_round_trips_its_term_fields() -> None:
    assert CODEC.decode(CODEC.encode(TERMED)) == TERMED
    plain = CODEC.decode_plain(CODEC.encode(TERMED))[1]
    assert plain["term_start"] == (date(2026, 9, 2) - date(1970, 1, 1)).days
    assert (plain["term_possible_sessions"], plain["term_absent_sessions"]) == (98, 14)


def test_an_old_snapshot_reads_with_no_term() -> None:
    old = written_by_apache_avro(_older("ChildFlagsSnapshot"), _old_record(SNAPSHOT))
    assert old[:HEADER_LEN] != CODEC.encode(SNAPSHOT)[:HEADER_LEN]  # another writer schema
    read = CODEC.decode(old)
    assert read == SNAPSHOT and read.term_start is None and read.term_possible_sessions == 0
    plain = CODEC.decode_plain(old)[1]
    assert (
        plain["term_start"],
        plain["term_possible_sessions"],
        plain["term_absent_sessions"],
    ) == (None, 0, 0)


def test_an_old_batch_of_snapshots_reads_as_the_current_one() -> None:
    batch = ChildFlagsSnapshots(
        batch_id=uuid.uuid4(), snapshots=[SNAPSHOT, replace(SNAPSHOT, child_key="c2")]
    )
    old = written_by_apache_avro(_older("ChildFlagsSnapshots"), _old_record(batch))
    assert old[:HEADER_LEN] != CODEC.encode(batch)[:HEADER_LEN]
    assert CODEC.decode(old) == batch
    # The projector's path: plain records, the term fields at their defaults.
    (read,) = CODEC.read_plain(old)
    plain = read.record["snapshots"]
    assert read.kind is ChildFlagsSnapshots and [r["child_key"] for r in plain] == ["c1", "c2"]
    assert all((r["term_start"], r["term_possible_sessions"]) == (None, 0) for r in plain)
