"""The raw topics' offsets: where the validator resumes, committed with what it produced."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, select

from .counts import dialect_insert
from .tables import raw_offsets

Offsets = dict[tuple[str, int], int]


def stored_offsets(conn: Connection) -> Offsets:
    """Next offset to read per raw-topic partition, as last committed."""
    rows = conn.execute(select(raw_offsets))
    return {(r.topic, r.partition): r.next_offset for r in rows}


def save_offsets(conn: Connection, offsets: Offsets) -> None:
    """Store the next offsets to read (those of other partitions stay)."""
    if not offsets:
        return
    stmt = dialect_insert(conn, raw_offsets)
    stmt = stmt.on_conflict_do_update(
        index_elements=["topic", "partition"], set_={"next_offset": stmt.excluded.next_offset}
    )
    rows = [{"topic": t, "partition": p, "next_offset": o} for (t, p), o in offsets.items()]
    conn.execute(stmt, rows)


def forget_offsets(conn: Connection, topics: Sequence[str]) -> None:
    """Read these raw topics from their start again (they were recreated)."""
    conn.execute(delete(raw_offsets).where(raw_offsets.c.topic.in_(topics)))
