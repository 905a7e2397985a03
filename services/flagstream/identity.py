"""The identity store: who a child_key is, kept apart from everything else.

Ingest fills it at the edge from enrolment data (the only place a UPN and name are
seen); the dashboard joins it only for roles allowed to see pupils' names. Nothing
here ever goes to a topic, a log or the read model. It has its own database URL
(`FLAGSTREAM_IDENTITY_DATABASE_URL`) so it can live under stricter access control.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Connection, DateTime, MetaData, String, Table, Text, select

from .upsert import upsert

metadata = MetaData()

identities = Table(
    "identities",
    metadata,
    Column("child_key", String(64), primary_key=True, comment="Pseudonymous child id"),
    Column("urn", String(6), nullable=False, index=True, comment="School last enrolled at"),
    Column("upn", String(13), nullable=False, comment="Unique Pupil Number"),
    Column("forename", Text, comment="Legal or preferred forename, if the MIS sent it"),
    Column("surname", Text, comment="Surname, if the MIS sent it"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    comment="Sensitive: the only table holding UPNs and names",
)


@dataclass(frozen=True, slots=True)
class Identity:
    """Who one child_key is."""

    child_key: str
    urn: str
    upn: str
    forename: str | None
    surname: str | None
    updated_at: datetime


def record(conn: Connection, people: Iterable[Identity]) -> int:
    """Insert or replace identities (latest enrolment wins); returns rows written."""
    rows = [
        {
            "child_key": p.child_key,
            "urn": p.urn,
            "upn": p.upn,
            "forename": p.forename,
            "surname": p.surname,
            "updated_at": p.updated_at,
        }
        for p in people
    ]
    upsert(conn, identities, rows)
    return len(rows)


def lookup(conn: Connection, child_keys: Sequence[str]) -> Mapping[str, Identity]:
    """child_key -> Identity for those known; the caller must have checked the role."""
    if not child_keys:
        return {}
    result = conn.execute(select(identities).where(identities.c.child_key.in_(child_keys)))
    return {row.child_key: Identity(**row._mapping) for row in result}
