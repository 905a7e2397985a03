"""The read model's huddle tables: the half-termly huddles a school recorded and the children
each one reviewed, so the next huddle list can show what changed since the last one."""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Integer, String, Table, Text

from .meta import metadata

# No child_key: a huddle row says only that a school met, when and who came (roles, never
# names), so it is scoped by school like school_summary.
huddles = Table(
    "huddles",
    metadata,
    Column("event_id", String(36), primary_key=True, comment="The HuddleRecorded event"),
    Column("urn", String(6), nullable=False, index=True),
    Column("half_term", String(32), nullable=False, comment="e.g. 'Autumn 1 2025/26'"),
    Column("held_on", Date, nullable=False, comment="The day the huddle met"),
    Column("attendees", Text, nullable=False, comment="Attendees' roles, comma-separated"),
    Column("recorded_by", Text, nullable=False, comment="Professional's role or staff id"),
    Column("reviewed", Integer, nullable=False, comment="Children reviewed"),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    comment="Huddles recorded per school and half term (one row per HuddleRecorded event)",
)

# A child_key table: row-level security scopes it like outcomes (deploy/postgres).
huddle_reviews = Table(
    "huddle_reviews",
    metadata,
    Column("huddle_event_id", String(36), primary_key=True),
    Column("child_key", String(64), primary_key=True, comment="Pseudonymous child id"),
    Column("urn", String(6), nullable=False, index=True, comment="The huddle's school"),
    Column("held_on", Date, nullable=False),
    Column("response", Text, nullable=False, comment="Response agreed at the huddle"),
    Column("status", Text, nullable=False),
    comment="Each child a huddle reviewed, with the response agreed",
)
