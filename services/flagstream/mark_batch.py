"""AttendanceMarksRecorded on the wire as AttendanceMarkBatch: what marks share - school,
day, session, source and times - is written once per batch as a context, and each mark
names its context by position.

A register's marks share all of those, so a mark is 4 Avro fields instead of 9 and each
date and time is read once per batch: Avro decoding per field was the flagger's largest
single cost and most of the projector's. The marks keep their order exactly (a later mark
for a session replaces an earlier one).
"""

from __future__ import annotations

from typing import Any, Final

from .domain.events import AttendanceMarkRecorded, AttendanceMarksRecorded

SCHEMA: Final = "AttendanceMarkBatch"
CONTEXT: Final = ("source", "occurred_at", "recorded_at", "urn", "date", "session")


def to_batch(event: AttendanceMarksRecorded) -> dict[str, Any]:
    """The AttendanceMarkBatch record of a batch of marks (typed values, for the writer)."""
    position: dict[tuple[Any, ...], int] = {}
    marks = []
    for m in event.marks:
        shared = (m.source, m.occurred_at, m.recorded_at, m.urn, m.date, m.session)
        at = position.setdefault(shared, len(position))
        marks.append(
            {"context": at, "event_id": m.event_id, "child_key": m.child_key, "code": m.code}
        )
    contexts = [dict(zip(CONTEXT, shared, strict=True)) for shared in position]
    return {"batch_id": event.batch_id, "contexts": contexts, "marks": marks}


def unknown_context(record: dict[str, Any]) -> int | None:
    """The first mark's context position that names no context, if any (plain or typed)."""
    n = len(record["contexts"])
    return next((m["context"] for m in record["marks"] if not 0 <= m["context"] < n), None)


def from_batch(record: dict[str, Any]) -> AttendanceMarksRecorded:
    """The marks an AttendanceMarkBatch record (typed values, contexts checked) carries,
    in order."""
    contexts = record["contexts"]
    marks = []
    for m in record["marks"]:
        c = contexts[m["context"]]
        marks.append(
            AttendanceMarkRecorded(
                event_id=m["event_id"],
                source=c["source"],
                occurred_at=c["occurred_at"],
                recorded_at=c["recorded_at"],
                child_key=m["child_key"],
                urn=c["urn"],
                date=c["date"],
                session=c["session"],
                code=m["code"],
            )
        )
    return AttendanceMarksRecorded(batch_id=record["batch_id"], marks=marks)
