"""The restricted store: what a police Operation Encompass notification said, beside the
identity store and under the same access control.

Ingest writes a notification's police reference and circumstances here and nowhere else: the
event it publishes carries only that there was a notification, when and for whom. The
dashboard reads a child's rows only for the DSL of the child's current school, on the child
page, with an audit row (docs/security.md). Nothing here goes to a topic, a log or the read
model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Boolean, Column, Connection, Date, DateTime, String, Table, Text, select

from .identity import metadata
from .upsert import insert_new

notifications = Table(
    "safeguarding_notifications",
    metadata,
    Column("event_id", String(36), primary_key=True, comment="The published event's id"),
    Column("child_key", String(64), nullable=False, index=True, comment="Pseudonymous child"),
    Column("urn", String(6), nullable=False, comment="School the police notified"),
    Column("incident_on", Date, nullable=False),
    Column("child_present", Boolean, nullable=False),
    Column("police_reference", String(64), nullable=False, comment="Sensitive"),
    Column("circumstances", Text, nullable=False, comment="Sensitive"),
    Column("received_at", DateTime(timezone=True), nullable=False),
    comment="Sensitive: Operation Encompass details, for the DSL of the child's school only",
)


@dataclass(frozen=True, slots=True)
class Details:
    """One notification's details."""

    event_id: str
    child_key: str
    urn: str
    incident_on: date
    child_present: bool
    police_reference: str
    circumstances: str
    received_at: datetime

    def __repr__(self) -> str:  # never the reference or circumstances in a log or traceback
        return f"Details(event_id={self.event_id!r}, incident_on={self.incident_on!r})"


def record(conn: Connection, details: Iterable[Details]) -> int:
    """Store notifications' details (a resent one changes nothing); returns rows given."""
    rows = [dataclasses.asdict(d) for d in details]  # the fields are the table's columns
    if rows:
        insert_new(conn, notifications, rows)
    return len(rows)


def of_child(conn: Connection, child_key: str) -> list[Details]:
    """A child's notifications, newest first; the caller must have checked the viewer is the
    DSL of the child's current school and written the audit row."""
    query = (
        select(notifications)
        .where(notifications.c.child_key == child_key)
        .order_by(notifications.c.incident_on.desc(), notifications.c.event_id)
    )
    return [Details(**row._mapping) for row in conn.execute(query)]
