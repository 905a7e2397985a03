"""The read model's change sequence: the projector marks what each batch changed (in the
batch's own transaction), the dashboard asks what changed since a version it has shown."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from flagstream.upsert import upsert

from .change_tables import child_changes, read_model_changes, school_changes


@dataclass(frozen=True, slots=True)
class Version:
    """The read model's change counter and when the commit that raised it was made."""

    seq: int
    committed_at: datetime | None

    @property
    def epoch(self) -> float:
        """The commit's time as Unix seconds (0 if unknown)."""
        return self.committed_at.timestamp() if self.committed_at else 0.0


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite drops the zone
        return value.replace(tzinfo=UTC)
    return value


def version(conn: Connection) -> Version:
    """The current version (seq 0 before the projector changed anything)."""
    row = conn.execute(select(read_model_changes.c.seq, read_model_changes.c.committed_at)).first()
    return Version(0, None) if row is None else Version(row.seq, _utc(row.committed_at))


def mark(
    conn: Connection,
    children: Collection[tuple[str, str]],
    schools: Collection[str],
    now: datetime,
) -> int:
    """Raise the version for a batch that changed these (child_key, urn) rows and schools;
    returns the new seq (or the old one if nothing changed). Call in the batch's transaction."""
    urns = set(schools) | {urn for _key, urn in children}
    if not urns:
        return version(conn).seq
    seq = version(conn).seq + 1
    upsert(conn, read_model_changes, [{"id": 1, "seq": seq, "committed_at": now}])
    upsert(
        conn,
        school_changes,
        [{"urn": u, "seq": seq, "committed_at": now} for u in sorted(urns)],
    )
    upsert(
        conn,
        child_changes,
        [
            {"child_key": k, "urn": u, "seq": seq, "committed_at": now}
            for k, u in sorted(set(children))
        ],
    )
    return seq


def schools_since(conn: Connection, seq: int) -> dict[str, Version]:
    """Schools changed by a commit after `seq`, each with its latest change."""
    s = school_changes.c
    rows = conn.execute(select(s.urn, s.seq, s.committed_at).where(s.seq > seq))
    return {r.urn: Version(r.seq, _utc(r.committed_at)) for r in rows}


def children_since(conn: Connection, urn: str, seq: int) -> dict[str, Version]:
    """Children whose row on `urn`'s list changed after `seq` (row-level security applies:
    call under the viewer's scope)."""
    c = child_changes.c
    query = select(c.child_key, c.seq, c.committed_at).where(c.urn == urn, c.seq > seq)
    return {r.child_key: Version(r.seq, _utc(r.committed_at)) for r in conn.execute(query)}


def latest_of(versions: Mapping[str, Version]) -> Version | None:
    """The newest of these versions, if any."""
    return max(versions.values(), key=lambda v: v.seq, default=None)
